"""The built article, read back in every format: calibrated values, captions, provenance, notices."""

from __future__ import annotations

import json
import re
from importlib.metadata import version

import pytest
import yaml
from bs4 import BeautifulSoup
from docx import Document
from pypdf import PdfReader

from tests.conftest import PUBLISHED, build, copy_project


@pytest.fixture(scope="session")
def texts(built) -> dict[str, str]:
    pdf = " ".join(page.extract_text() for page in PdfReader(built / "manuscript.pdf").pages)
    doc = Document(str(built / "manuscript.docx"))
    docx = " ".join(
        [p.text for p in doc.sections[0].header.paragraphs]
        + [p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells]
    )
    html = BeautifulSoup((built / "index.html").read_text(encoding="utf-8"), "lxml").get_text(" ")
    return {
        k: re.sub(r"\s+([).,;:])", r"\1", " ".join(v.split()))
        for k, v in {"pdf": pdf, "docx": docx, "html": html}.items()
    }


def test_outputs_and_ledger_written(built):
    for name in ("manuscript.pdf", "manuscript.docx", "index.html", "numbers.json", "analysis-data.csv"):
        assert (built / name).exists(), name
    assert json.loads((built / "numbers.json").read_text())["schema"] == "manuscript-ledger/1"


@pytest.mark.parametrize("fmt", ["pdf", "docx", "html"])
def test_abstract_reports_the_published_values(texts, fmt):
    if not PUBLISHED.exists():
        pytest.skip("shared/seed is not beside this checkout")
    published = yaml.safe_load(PUBLISHED.read_text())["results"]
    text = texts[fmt]
    os_m, pfs_m = (published[k]["median_months"] for k in ("overall_survival", "progression_free_survival"))
    orr = published["objective_response_rate"]["percent"]
    assert re.search(
        rf"Median overall survival \(OS\) was {os_m['post_ate_beva']} \(95% CI [^)]*\) months in the "
        rf"post-ate-beva group and {os_m['first_line']} ",
        text,
    )
    assert re.search(
        rf"Median progression-free survival \(PFS\) was {pfs_m['post_ate_beva']} \(95% CI [^)]*\) versus "
        rf"{pfs_m['first_line']} ",
        text,
    )
    assert f"objective response rate was {orr['post_ate_beva']}% versus {orr['first_line']}%" in text
    assert f"p = {published['overall_survival']['logrank_p']}" in text


@pytest.mark.parametrize("fmt", ["pdf", "docx", "html"])
def test_methods_name_the_software_that_computed_the_numbers(texts, fmt):
    text = texts[fmt]
    assert "Cox proportional-hazards models, weighted Kaplan-Meier estimates" in text
    assert f"were computed with lifelines {version('lifelines')}" in text
    assert f"with SciPy {version('scipy')}" in text
    assert "Davidson-Pilon C. Lifelines: Survival analysis in python" in text


@pytest.mark.parametrize("fmt", ["pdf", "docx", "html"])
def test_numbered_captions_and_resolved_references(texts, fmt):
    text = texts[fmt]
    for caption in [
        "Table 1: Baseline characteristics",
        "Table 2: Best overall response",
        "Table 3: Univariable",
        "Figure 1: Flow of patients",
        "Figure 2: Best overall response",
        "Figure 3: Kaplan-Meier estimates of overall survival",
        "Figure 4: Kaplan-Meier estimates of progression-free",
        "Figure 5: Adjusted hazard ratios",
    ]:
        assert caption in text, caption
    for leftover in ["??", "[@", "@fig-", "@tbl-", "{python}", "QRENDERTABLE"]:
        assert leftover not in text
    assert "Finn RS" in text and "10.1056/NEJMoa1915745" in text


def test_abstract_at_most_350_words_in_the_built_html(built):
    soup = BeautifulSoup((built / "index.html").read_text(encoding="utf-8"), "lxml")
    heading = soup.find(lambda tag: tag.name in ("h1", "h2") and tag.get_text(strip=True) == "Abstract")
    words = []
    for sibling in heading.find_next_siblings():
        if sibling.name in ("h1", "h2"):
            break
        words += sibling.get_text(" ").split()
    assert 100 < len(words) <= 350


def test_every_inline_number_in_html_carries_its_provenance(built):
    soup = BeautifulSoup((built / "index.html").read_text(encoding="utf-8"), "lxml")
    spans = soup.find_all("span", class_="num")
    assert len(spans) > 80
    for span in spans:
        assert (
            span.get("data-key")
            and span.get("data-method")
            and span.get("data-source", "").startswith("analysis.")
        )
        assert span["data-key"] in span["title"]


def test_synthetic_notice_shown(texts):
    for text in texts.values():
        assert "SYNTHETIC DATA" in text
        assert "synthetic cohort" in text


def test_real_data_make_the_notice_disappear(tmp_path):
    built = build(copy_project(tmp_path / "project", synthetic=False))
    html = " ".join(
        BeautifulSoup((built / "index.html").read_text(encoding="utf-8"), "lxml").get_text(" ").split()
    )
    assert "SYNTHETIC DATA" not in html and "synthetic cohort" not in html and "are synthetic" not in html
    assert "not publicly available because of patient privacy" in html


def test_docx_is_double_spaced_with_line_and_page_numbers(built):
    doc = Document(str(built / "manuscript.docx"))
    assert doc.styles["Body Text"].paragraph_format.line_spacing == 2.0
    section = doc.sections[0]._sectPr.xml
    assert "lnNumType" in section
    footer = doc.sections[0].footer._element.xml
    assert "PAGE" in footer and "data sha256" in footer


def test_figures_are_vector_drawings_in_the_pdf(built):
    """Every figure of qrender's PDF is the vector drawing (the SVG beside its print files, text as
    outlines), not a raster: the PDF holds no image at all."""
    from pypdf import PdfReader

    reader = PdfReader(built / "manuscript.pdf")
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert len(set(re.findall(r"Figure (\d+):", text))) >= 5  # the figures are there, with captions
    assert not [i + 1 for i, page in enumerate(reader.pages) if page.images]
