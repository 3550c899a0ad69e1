"""references.bib: every entry identifiable (DOI, PMID or ISBN) and cited in the manuscript."""

from __future__ import annotations

import re

from analysis.stats.software import CITATIONS
from tests.conftest import ROOT

BIB = (ROOT / "references.bib").read_text(encoding="utf-8")
QMD = (ROOT / "manuscript.qmd").read_text(encoding="utf-8")
ENTRIES = re.findall(r"@\w+\{([^,]+),(.*?)\n\}", BIB, re.S)


def test_at_least_twenty_references():
    assert len(ENTRIES) >= 20


def test_every_entry_has_a_doi_pmid_or_isbn():
    missing = [key for key, body in ENTRIES if not re.search(r"^\s*(doi|pmid|isbn)\s*=", body, re.M)]
    assert not missing


def test_dois_are_well_formed():
    for key, body in ENTRIES:
        doi = re.search(r"^\s*doi\s*=\s*\{([^}]*)\}", body, re.M)
        if doi:
            assert re.fullmatch(r"10\.\d{4,9}/\S+", doi.group(1)), key


def test_every_entry_is_cited():
    """Cited in the manuscript, or by the software sentence the analysis writes into it."""
    cited = set(re.findall(r"@([A-Za-z][\w:-]*\d{4}[\w-]*)", QMD)) | set(CITATIONS.values())
    uncited = [key for key, _ in ENTRIES if key not in cited]
    assert not uncited
