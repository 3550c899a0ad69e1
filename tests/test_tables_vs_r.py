"""Double programming: every cell of the article's tables, recomputed in base R and survival from
what the tables were computed from, must be what the built PDF prints.

The test exports the raw export, the per-patient analysis table and the layout (labels read from
data/codebook.yaml and from the declared derived categories, not from the analysis), runs
tests/r/tables_reference.R, and looks for every row R prints (label and cells, in order) in the
text pypdf reads back from the table in the PDF. Whitespace is ignored, because a long label may
wrap inside its cell.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

import analysis
from analysis.article import tables
from analysis.plan.plan import Plan
from tests.conftest import ROOT

SCRIPT = Path(__file__).parent / "r" / "tables_reference.R"
CAPTIONS = {
    "baseline": "Baseline characteristics",
    "response": "Best overall response",
    "cox": "Univariable and multivariable Cox regression",
    "at_risk_os": "Numbers at risk for overall survival",
    "at_risk_pfs": "Numbers at risk for progression-free survival",
}
AT_RISK_STEP = 3

#: the layout the study file declares (labels are the codebook's or the derivations'; R recomputes
#: every cell from the data)
PLAN = Plan.load(ROOT)
TABLE1 = PLAN.table1
DERIVED_LEVELS = {d.name: d.levels for d in PLAN.study.derive if d.levels}
MIN_EXPECTED = PLAN.settings.expected_min
SELECTION_P = PLAN.study.cox.selection.threshold

pytestmark = pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is installed by `make test`")


def _write(path: Path, header: list[str], rows: list[list]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def export_table_inputs(built: Path, folder: Path) -> Path:
    """What the tables were computed from, and their layout, as plain CSV files for R."""
    project = built.parent
    shutil.copy(project / "data" / "cohort.csv", folder / "cohort.csv")
    shutil.copy(built / "analysis-data.csv", folder / "analysis-data.csv")
    codebook = yaml.safe_load((project / "data" / "codebook.yaml").read_text(encoding="utf-8"))["columns"]
    groups = codebook["group"]["labels"]
    _write(folder / "groups.csv", ["group", "label"], [[g, label] for g, label in groups.items()])
    levels = []
    for column in [v.column for v in TABLE1 if not v.continuous] + ["recist_bor", "mrecist_bor"]:
        labels = DERIVED_LEVELS.get(column) or codebook[column]["labels"]
        levels += [[column, str(level), label] for level, label in labels.items()]
    _write(folder / "levels.csv", ["column", "level", "label"], levels)
    _write(
        folder / "variables.csv",
        ["column", "label", "continuous"],
        [[v.column, v.label, "TRUE" if v.continuous else "FALSE"] for v in TABLE1],
    )
    labels = [[name, label] for name, label in PLAN.term_labels.items()]
    _write(folder / "covariates.csv", ["name", "label"], labels)
    _write(
        folder / "settings.csv",
        ["name", "value"],
        [["min_expected", MIN_EXPECTED], ["selection_p", SELECTION_P], ["at_risk_step", AT_RISK_STEP]],
    )
    return folder


@pytest.fixture(scope="module")
def r_rows(built, tmp_path_factory) -> dict[str, list[list[str]]]:
    folder = export_table_inputs(built, tmp_path_factory.mktemp("tables"))
    result = subprocess.run(["Rscript", str(SCRIPT), str(folder)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    rows: dict[str, list[list[str]]] = {}
    for line in result.stdout.splitlines():
        table, *fields = line.split("\t")
        rows.setdefault(table, []).append(fields)
    return rows


@pytest.fixture(scope="module")
def pdf_tables(built) -> dict[str, str]:
    """The text of each table in the PDF: from its caption to the next caption."""
    text = "\n".join(page.extract_text() for page in PdfReader(built / "manuscript.pdf").pages)
    captions = list(re.finditer(r"(?m)^(Table|Figure) \d+: ", text))
    found = {}
    for name, words in CAPTIONS.items():
        start = next(m for m in captions if m.group(1) == "Table" and text.startswith(words, m.end()))
        ends = [m.start() for m in captions if m.start() > start.start()]
        found[name] = text[start.start() : ends[0] if ends else len(text)]
    return found


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("table", list(CAPTIONS))
def test_every_row_prints_what_r_computes(r_rows, pdf_tables, table):
    printed = compact(pdf_tables[table])
    position = 0
    for row in r_rows[table]:
        wanted = compact("".join(row))
        found = printed.find(wanted, position)
        assert found >= 0, f"{table}: R computes {row}, not printed in this order in the PDF"
        position = found + len(wanted)


@pytest.fixture(scope="module")
def results():
    return analysis.run(ROOT / "data" / "cohort.csv")


def test_r_recomputes_every_row_and_cell(r_rows, results):
    """R's rows cover each table whole: as many rows as the table, and a value for every column."""
    frames = {
        "baseline": tables.baseline_frame(results),
        "cox": tables.cox_frame(results),
        "at_risk_os": tables.at_risk_frame(results, "os"),
        "at_risk_pfs": tables.at_risk_frame(results, "pfs"),
    }
    headers = {"baseline": 1, "cox": 0, "at_risk_os": 1, "at_risk_pfs": 1}
    for name, frame in frames.items():
        rows = r_rows[name][headers[name] :]
        assert len(rows) == len(frame), name
        assert {len(row) for row in rows} == {frame.shape[1]}, name
    response = tables.response_frame(results)
    criteria = response["criterion"].nunique()
    assert len(r_rows["response"]) == 1 + criteria + len(response)
