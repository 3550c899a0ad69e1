"""The analysis cache and the print files: reused by content, and equal to what a fresh run writes."""

from __future__ import annotations

import pytest
import yaml

import analysis
from analysis import cache
from analysis.article import figures, plots
from analysis.article.variables import manuscript_yaml, quarto_variables
from tests.conftest import COHORT, ROOT

MANUSCRIPT = ROOT / "manuscript.qmd"


def test_the_key_names_every_file_the_study_reads():
    """The cache key covers the study file and every file its data section names (read as plain
    YAML: the key is computed without the analysis stack)."""
    files = {p.resolve() for p in cache.input_files(ROOT)}
    names = ("study.yaml", "data/cohort.csv", "data/cohort.meta.yaml", "data/codebook.yaml", "derivations.py")
    for name in names:
        assert (ROOT / name).resolve() in files, name


@pytest.fixture(scope="module")
def fresh():
    return analysis.run(COHORT, manuscript=MANUSCRIPT)


def test_a_cached_run_writes_what_a_fresh_run_writes(tmp_path, fresh):
    entry = cache.analysis_entry(ROOT, cache=tmp_path / "cache")
    assert not entry.reused
    assert cache.analysis_entry(ROOT, cache=tmp_path / "cache").reused
    entry.write(tmp_path / "light", manuscript=MANUSCRIPT)  # what the post-render step writes
    fresh.write(tmp_path / "fresh")
    for name in ("numbers.json", "analysis-data.csv", "ard.csv"):
        assert (tmp_path / "light" / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes(), name
    variables = yaml.safe_load(entry.variables() + manuscript_yaml(MANUSCRIPT))
    assert variables == quarto_variables(fresh.ledger)


def test_print_files_are_rewritten_only_when_the_figure_changes(tmp_path, fresh):
    folder, records = tmp_path / "figures", tmp_path / "records"
    forest = plots.drawers(fresh)["forest_os"](fresh)
    first = figures.save(forest, folder, "forest", records)
    written = {ext: (path.read_bytes(), path.stat().st_mtime_ns) for ext, path in first.files.items()}
    again = figures.save(forest, folder, "forest", records)
    assert again.content == first.content
    assert {ext: (p.read_bytes(), p.stat().st_mtime_ns) for ext, p in again.files.items()} == written

    first.files["tiff"].unlink()  # a missing (or edited) print file is written again
    restored = figures.save(forest, folder, "forest", records)
    assert restored.files["tiff"].read_bytes() == written["tiff"][0]

    other = figures.save(plots.drawers(fresh)["forest_pfs"](fresh), folder, "forest", records)
    assert other.content != first.content
    assert other.files["png"].read_bytes() != written["png"][0]
    assert other.files["png"].stat().st_size > 0 and other.files["pdf"].read_bytes()[:4] == b"%PDF"


def test_variables_hold_only_the_keys_read_citations_included():
    """`_variables.yml` holds the keys the text reads (Quarto's filters walk every variable in each
    format), the software sentence with its citation among them (the title-block filter takes the
    variables out of Quarto's metadata before citeproc numbers the body's citations)."""
    from analysis.article.variables import CITATION, used_yaml, variables_yaml
    from analysis.cache import cached_run

    ledger = cached_run(ROOT).ledger
    body = variables_yaml(ledger)
    used = yaml.safe_load(used_yaml(body, ["software.sentence", "n.total", "os.logrank.p", "no.such.key"]))
    assert used["n"] == {"total": {"text": ledger["n.total"]._repr_markdown_()}}
    assert used["os"]["logrank"]["p"]["clause"] == ledger.p("os.logrank.p")._repr_markdown_()
    assert set(used) == {"software", "n", "os"}
    assert CITATION.search(used["software"]["sentence"]["text"])
