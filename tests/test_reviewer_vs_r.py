"""Double programming of the reviewer analyses: R (glm, survfit and coxph with weights and
robust = TRUE, coxph interaction and anova, survRM2's RMST formula, the E-value formula;
tests/r/reviewer_reference.R) recomputes every new number of the HAIC article from the built
analysis-data.csv, and the built PDF must print each, at its printed precision, in its table or in
the sensitivity-analysis paragraphs. The declarations (covariates, estimand, horizons) and the row
labels are read from study.yaml, not from the analysis.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

from tests.conftest import ROOT

SCRIPT = Path(__file__).parent / "r" / "reviewer_reference.R"
CAPTIONS = {
    "balance": "Covariate balance between the treatment groups",
    "subgroups": "Hazard ratios of HAIC after ate-beva failure versus first-line HAIC within subgroups",
    "rmst_evalue": "Restricted mean survival time by treatment group and E-values",
}

pytestmark = pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is installed by `make test`")


@pytest.fixture(scope="module")
def study() -> dict:
    return yaml.safe_load((ROOT / "study.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def article(built) -> Path:
    """The HAIC article built from a copy of the project (the session's build)."""
    return built


@pytest.fixture(scope="module")
def r(article, study) -> dict[str, float]:
    spec, comparison = study["reviewer"], study["comparison"]
    treated = next(level for level in comparison["levels"] if level != comparison["reference"])
    endpoints = spec["iptw"]["endpoints"]
    landmarks = sorted({m for e in study["endpoints"].values() for m in e.get("landmarks", [])})
    options = {
        "group": comparison["column"],
        "treated": treated,
        "reference": comparison["reference"],
        "covariates": ",".join(spec["iptw"]["covariates"]),
        "estimand": spec["iptw"]["estimand"],
        "stabilised": str(spec["iptw"]["stabilised"]).upper(),
        "trim": spec["iptw"].get("trim") or "NA",
        "bounds": "NA",
        "endpoints": ",".join(endpoints),
        "landmarks": ",".join(f"{m:g}" for m in landmarks),
        "subgroups": ",".join(spec["subgroups"]["variables"]),
        "horizons": ",".join(str(spec["rmst"]["horizon"][e]) for e in endpoints),
    }
    result = subprocess.run(
        [
            "Rscript",
            str(SCRIPT),
            str(article / "analysis-data.csv"),
            *(f"{k}={v}" for k, v in options.items()),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    values = {}
    for line in result.stdout.splitlines():
        key, value = line.split()[:2]
        values[key] = float(value)
    return values


@pytest.fixture(scope="module")
def pdf(article) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(article / "manuscript.pdf").pages)


def section(text: str, start: str, end: str) -> str:
    """The text from the last heading line `start` to the next line `end`."""
    begin = [m.end() for m in re.finditer(rf"(?m)^{re.escape(start)}\s*$", text)][-1]
    return text[begin : text.index(end, begin)]


def table(text: str, caption: str) -> str:
    """A table's text, from its caption to the next caption."""
    start = re.search(rf"(?m)^Table \d+: {re.escape(caption)}", text)
    following = re.search(r"(?m)^(Table|Figure) \d+: ", text[start.end() :])
    return text[start.start() : start.end() + (following.start() if following else len(text))]


def compact(text: str) -> str:
    """Without whitespace (a cell may wrap), and typst's minus sign read as the hyphen-minus."""
    return re.sub(r"\s+", "", text).replace("\u2212", "-")


def p_text(p: float) -> str:
    """The journal style: below 0.001 as '< 0.001', else three decimals."""
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def ci(low: float, high: float, digits: int) -> str:
    return f"{low:.{digits}f}\u2013{high:.{digits}f}"


def rmst_difference(r: dict[str, float], ep: str) -> tuple[str, str]:
    """R's RMST difference and its CI as printed (months, one decimal)."""
    key = f"rmst.{ep}.difference"
    return f"{r[key]:.1f}", ci(r[f"{key}.lower"], r[f"{key}.upper"], 1)


def in_order(text: str, fragments: list[str], what: str) -> None:
    printed, position = compact(text), 0
    for fragment in fragments:
        found = printed.find(compact(fragment), position)
        assert found >= 0, f"{what}: R computes {fragment!r}, not printed there (in this order)"
        position = found + len(compact(fragment))


def labels(study: dict) -> dict[str, str]:
    return {d["name"]: d["label"] for d in study["derive"] if "label" in d}


def test_balance_table_prints_rs_smds(r, pdf, study):
    names = labels(study)
    rows = [
        f"{names[c]}{r[f'smd.{c}.before']:.2f}{r[f'smd.{c}.after']:.2f}"
        for c in study["reviewer"]["iptw"]["covariates"]
    ]
    text = table(pdf, CAPTIONS["balance"])
    in_order(text, rows, "balance table")
    in_order(text, [f"{r['ess.treated']:.1f}and{r['ess.control']:.1f}"], "balance note")


def test_sensitivity_paragraphs_print_rs_numbers(r, pdf, study):
    text = section(pdf, "Sensitivity analyses", "Discussion")
    covariates = study["reviewer"]["iptw"]["covariates"]
    largest = {w: max(abs(r[f"smd.{c}.{w}"]) for c in covariates) for w in ("before", "after")}
    fragments = [f"{largest['before']:.2f}", f"{largest['after']:.2f}"]
    fragments += [f"{r['ess.treated']:.1f}", f"{r['ess.control']:.1f}"]
    for ep in ("os", "pfs"):
        hr = float(f"{2.718281828459045 ** r[f'wcox.{ep}.coef']:.10g}")
        fragments.append(f"{hr:.2f}(95%CI{ci(r[f'wcox.{ep}.lower'], r[f'wcox.{ep}.upper'], 2)})")
        fragments.append(f"p{'' if r[f'wcox.{ep}.p'] < 0.001 else '='}{p_text(r[f'wcox.{ep}.p'])}")
    fragments += [f"{r['wkm.os.post_ate_beva.median']:.1f}", f"{r['wkm.os.first_line.median']:.1f}"]
    for ep in ("os", "pfs"):
        fragments += [f"{r[f'rmst.{ep}.post_ate_beva']:.1f}", f"{r[f'rmst.{ep}.first_line']:.1f}"]
        estimate, interval = rmst_difference(r, ep)
        fragments.append(f"{estimate}(95%CI{interval})")
        fragments.append(p_text(r[f"rmst.{ep}.difference.p"]))
    outcome = study["reviewer"]["evalue"]["outcome"]
    for ep in ("os", "pfs"):
        fragments += [
            f"{r[f'evalue.{ep}.{outcome}.estimate']:.2f}",
            f"{r[f'evalue.{ep}.{outcome}.limit']:.2f}",
        ]
    in_order(text, fragments, "sensitivity analyses")


def test_subgroup_table_prints_rs_hrs(r, pdf, study):
    names = labels(study)
    spec = study["reviewer"]["subgroups"]
    endpoints = spec["endpoints"]
    text = table(pdf, CAPTIONS["subgroups"])
    fragments = []
    for v in spec["variables"]:
        heading = [names[v]]
        for ep in endpoints:
            key = f"subgroup.{ep}.{v}.interaction.p"
            heading.append(p_text(r[key]) if key in r else "NE")
        fragments.append("".join(heading))
        levels = sorted(
            {k.split(".")[3] for k in r if k.startswith(f"subgroup.{endpoints[0]}.{v}.") and k.endswith(".n")}
        )
        for level in levels:
            cells = []
            for ep in endpoints:
                key = f"subgroup.{ep}.{v}.{level}"
                cells.append(f"{r[f'{key}.n']:.0f}{r[f'{key}.events']:.0f}")
                cells.append(
                    f"{r[f'{key}.hr']:.2f}({ci(r[f'{key}.lower'], r[f'{key}.upper'], 2)})"
                    if r[f"{key}.estimable"]
                    else "NE:"
                )
            fragments.append(cells[0])
            fragments += cells[1:]
    in_order(text, fragments, "subgroup table")


def test_rmst_and_evalue_table_prints_rs_numbers(r, pdf, study):
    text = table(pdf, CAPTIONS["rmst_evalue"])
    outcome = study["reviewer"]["evalue"]["outcome"]
    fragments = []
    for ep in ("os", "pfs"):
        fragments += [f"{r[f'rmst.{ep}.first_line']:.1f}", f"{r[f'rmst.{ep}.post_ate_beva']:.1f}"]
        estimate, interval = rmst_difference(r, ep)
        fragments.append(f"{estimate}({interval})")
        fragments.append(p_text(r[f"rmst.{ep}.difference.p"]))
        fragments += [
            f"{r[f'evalue.{ep}.{outcome}.estimate']:.2f}",
            f"{r[f'evalue.{ep}.{outcome}.limit']:.2f}",
        ]
    in_order(text, fragments, "RMST and E-value table")
