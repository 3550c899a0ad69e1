"""The second article (examples/colon: the NCCTG/Intergroup trial of adjuvant levamisole and
fluorouracil, R's `survival::colon`), built once with qrender from a copy of the repository's parts
it needs, and checked by a second hand: tests/r/colon_reference.R recomputes every number from the
same CSV with R's survival package, and each is compared with the ledger (relative 1e-6) and with
what the PDF prints (the text's numbers, Table 1, the Cox table and the numbers at risk).

The bad-input tests break a copy of the data as hospital exports break (a patient with one row
only, a negative time, a status of 2, an arm not declared) and expect the engine's own checks to
name file, row and column, with exit status 2 and no traceback.
"""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.conftest import ROOT, needs_quarto, quarto
from tests.readback import content

STUDY = ROOT / "examples" / "colon"
SCRIPT = ROOT / "tests" / "r" / "colon_reference.R"
ENGINE = ["prerender.py", "postrender.py", "requirements.lock", "analysis", "qrender", "review"]
SKIP = shutil.ignore_patterns(
    "__pycache__", "_manuscript", ".cache", "figures", "_freeze", ".quarto", "_variables.yml"
)
ARMS = {"obs": "Observation", "lev": "Levamisole", "lev5fu": "Levamisole + fluorouracil"}
TABLE_ENDPOINTS = ("rfs", "os", "ttr")  # the Cox table's column blocks, in the study file's order
AT_RISK_TABLES = ("rfs", "os")  # the numbers-at-risk tables the article prints
RELATIVE = 1e-6
#: p-values: a p far in the tail magnifies the last digits of z = coef / se (lifelines and R stop
#: their Newton iterations at different points); 1e-5 relative still fixes every printed digit
RELATIVE_P = 1e-5
DASH = "\u2013"

needs_r = pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is installed by `make test`")


def copy_study(target: Path) -> Path:
    """The colon study folder at examples/colon of a copy of the engine's files; returns the folder."""
    target.mkdir(parents=True)
    for name in ENGINE:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=SKIP)
        else:
            shutil.copy(source, target / name)
    return Path(shutil.copytree(STUDY, target / "examples" / "colon", ignore=SKIP))


@dataclass
class Built:
    study: Path
    ledger: dict  # numbers.json entries by key
    pdf: str  # the PDF's text with all whitespace removed (long cells wrap)
    r: dict  # R's key -> value (text as R printed it)


def squeeze(text: str) -> str:
    """Text without whitespace or soft hyphens (long cells wrap; Quarto's typst hyphenates words)."""
    return re.sub(r"[\s\xad]+", "", text)


def pdf_text(path: Path) -> str:
    return squeeze("".join(page.extract_text() for page in PdfReader(path).pages))


@pytest.fixture(scope="session")
def colon(tmp_path_factory) -> Built:
    study = copy_study(tmp_path_factory.mktemp("colon") / "repo")
    result = subprocess.run(
        [sys.executable, "-m", "qrender", str(study)], capture_output=True, text=True, cwd=study.parents[1]
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = study / "_manuscript"
    ledger = json.loads((out / "numbers.json").read_text(encoding="utf-8"))["entries"]
    pdf = pdf_text(out / "manuscript.pdf")
    r = {}
    if shutil.which("Rscript"):
        command = ["Rscript", str(SCRIPT), str(study / "data" / "colon.csv")]
        run = subprocess.run(command, capture_output=True, text=True, check=True)
        r = dict(line.split("\t", 1) for line in run.stdout.splitlines())
    return Built(study, ledger, pdf, r)


def test_article_is_built_in_every_format(colon):
    out = colon.study / "_manuscript"
    for name in ("manuscript.pdf", "manuscript.docx", "index.html", "numbers.json"):
        assert (out / name).stat().st_size > 0, name


@needs_quarto
@pytest.mark.parametrize("name", ["index.html", "manuscript.docx"])
def test_quarto_in_the_study_folder_builds_the_same_article(colon, quarto_colon, name):
    """The Word and HTML articles of both renderers hold the same numbers and phrases; the PDFs are
    each checked against R below (Quarto's typst template lays out and hyphenates otherwise)."""
    ours, theirs = content(colon.study / "_manuscript" / name), content(quarto_colon / name)
    assert ours.numbers == theirs.numbers, (ours.numbers - theirs.numbers, theirs.numbers - ours.numbers)
    assert ours.phrases == theirs.phrases
    assert ours.captions == theirs.captions
    assert ours.references == theirs.references and len(ours.references) >= 8


@pytest.fixture(scope="session")
def quarto_colon(tmp_path_factory) -> Path:
    """`quarto render` in a copy of the study folder (its `_quarto.yml` names the engine by `../../`)."""
    study = copy_study(tmp_path_factory.mktemp("colon-quarto") / "repo")
    result = quarto(study)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    errors = [line for line in log.splitlines() if "ERROR" in line or "Traceback" in line]
    assert not errors, errors
    return study / "_manuscript"


@pytest.fixture(params=["qrender", pytest.param("quarto", marks=needs_quarto)])
def pdf(request, colon) -> str:
    """The text of the PDF built by each renderer (squeezed), for the checks against R."""
    if request.param == "qrender":
        return colon.pdf
    return pdf_text(request.getfixturevalue("quarto_colon") / "manuscript.pdf")


def test_verify_from_inside_the_study_folder(colon):
    """`python -m review verify` rebuilds the article in a private copy that keeps the study folder's
    `../../` engine, and finds the PDF as the data give it."""
    result = subprocess.run(
        [sys.executable, "-m", "review", "verify", "_manuscript/manuscript.pdf", "--renderer", "qrender"],
        capture_output=True,
        text=True,
        cwd=colon.study,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "matches the article rebuilt by qrender" in result.stdout


def test_engine_names_no_study():
    """The engine has no word of either study: what a study is, its study file says."""
    words = re.compile(r"\b(colon|levamisole|fluorouracil|lev5fu|Lev\+5FU|rx|etype|ncctg|moertel)\b", re.I)
    found = [
        f"{path.relative_to(ROOT)}:{i}"
        for path in sorted((ROOT / "analysis").rglob("*.py"))
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if words.search(line)
    ]
    assert not found, found


# --- R against the ledger ----------------------------------------------------------------------------


def r_number(text: str) -> float:
    return math.nan if text == "NA" else float(text)


def ledger_key(r_key: str) -> str:
    """The ledger's name of an R key: R gives per-coefficient PH tests as `<ep>.zph.coef.<term>.p`."""
    return r_key.replace(".zph.coef.", ".zph.")


def r_in_ledger_units(key: str, value: float) -> float:
    """R writes reductions in percent (100 x (1 - HR)); the ledger holds proportions."""
    return value / 100 if ".reduction" in key else value


@needs_r
def test_every_number_r_computes_equals_the_ledger(colon):
    compared, differ = 0, []
    for r_key, text in colon.r.items():
        key = ledger_key(r_key)
        if key not in colon.ledger or key != r_key and r_key in colon.ledger:
            continue
        value = colon.ledger[key]["value"]
        if isinstance(value, bool) or not isinstance(value, int | float | type(None)):
            continue
        try:
            expected = r_in_ledger_units(key, r_number(text))
        except ValueError:
            continue
        got = math.nan if value is None else float(value)
        tolerance = RELATIVE_P if key.endswith(".p") else RELATIVE
        both_nan = math.isnan(got) and math.isnan(expected)
        same = both_nan or math.isclose(got, expected, rel_tol=tolerance, abs_tol=1e-12)
        compared += 1
        if not same:
            differ.append((key, got, expected))
    assert not differ, differ
    assert compared >= 450, compared


# --- R against the PDF ---------------------------------------------------------------------------------


def fmt(key: str, value: float) -> str:
    """R's value printed as the article prints a number of this key (independently of the engine's
    formatter: the journal style of the study file, settings.p_style)."""
    if math.isnan(value):
        return "NR"
    last = key.rsplit(".", 1)[-1]
    if last == "p":
        return "< 0.001" if value < 0.001 else f"{value:.3f}"
    if last == "hr":
        return f"{value:.2f}"
    if ".reduction" in key:
        return f"{value:.1f}%"
    if ".rate" in key:
        return f"{100 * value:.1f}%"
    if ".median" in key:
        return f"{value:.1f}"
    return f"{int(value)}"


def r_text(r: dict, key: str) -> str:
    """A key's printed text from R's numbers (`<key>.ci` as 'low–high', a percent sign once)."""
    if key.endswith(".ci"):
        low, high = (fmt(key[:-3], r_number(r[f"{key[:-3]}.{end}"])) for end in ("ci_low", "ci_high"))
        return f"{low.rstrip('%')}{DASH}{high}" if high.endswith("%") else f"{low}{DASH}{high}"
    return fmt(key, r_number(r[key]))


def printed_keys(qmd: str) -> list[tuple[str, str]]:
    """(key, form) of every number the article's text prints: L["k"], L.with_ci("k"), L.p("k") and
    {{< var k.FORM >}}."""
    found = [(k, "text") for k in re.findall(r'L\["([^"]+)"\]', qmd)]
    found += [(k, "with_ci") for k in re.findall(r'L\.with_ci\("([^"]+)"\)', qmd)]
    found += [(k, "clause") for k in re.findall(r'L\.p\("([^"]+)"\)', qmd)]
    for key, form in re.findall(r"\{\{< var ([\w.]+)\.(text|with_ci|clause) >\}\}", qmd):
        found.append((key, form))
    return list(dict.fromkeys(found))


def printed(r: dict, key: str, form: str) -> str:
    if form == "with_ci":
        return f"{r_text(r, key)} (95% CI {r_text(r, key + '.ci')})"
    if form == "clause":
        text = r_text(r, key)
        return f"p {text}" if text.startswith("<") else f"p = {text}"
    return r_text(r, key)


#: keys the text prints that are no computation on the data (settings, published figures with their
#: citation, words chosen by the numbers, software versions, word counts)
NOT_COMPUTED = ("config.", "published.", "wording.", "software.", "study.", "manuscript.", "data.")


@needs_r
def test_every_number_in_the_text_is_r_printed_as_the_pdf_prints_it(colon, pdf):
    qmd = (colon.study / "manuscript.qmd").read_text(encoding="utf-8")
    checked, missing, absent = 0, [], []
    for key, form in printed_keys(qmd):
        if key.startswith(NOT_COMPUTED) or key.endswith(".covariates"):
            continue
        known = (key, f"{key}.ci_low", f"{key.removesuffix('.ci')}.ci_low")
        r_key = key if any(k in colon.r for k in known) else key.replace(".zph.", ".zph.coef.")
        if not any(k in colon.r for k in (r_key, f"{r_key.removesuffix('.ci')}.ci_low")):
            missing.append(key)
            continue
        text = printed(colon.r, r_key, form)
        checked += 1
        if squeeze(text) not in pdf:
            absent.append((key, text))
    assert not missing, f"printed numbers R does not compute: {missing}"
    assert not absent, absent
    assert checked >= 60, checked


def _cells(r: dict, column: str, line: str) -> str:
    return "".join(r[f"baseline.{column}.{line}.{arm}"] for arm in [*ARMS, "overall"])


@needs_r
def test_table1_as_r_prints_it(colon, pdf):
    """Every line of Table 1 (cells by arm and overall, in print order) and every test's p."""
    lines = sorted({k.rsplit(".", 1)[0] for k in colon.r if re.fullmatch(r"baseline\..+\.overall", k)})
    checked = 0
    for line in lines:
        _, column, level = line.split(".", 2)
        if level == "unknown":
            cells = "".join(colon.r[f"{line}.{arm}"] for arm in [*ARMS, "overall"])
        else:
            cells = _cells(colon.r, column, level)
        assert squeeze(cells) in pdf, (line, cells)
        checked += 1
    for key in [k for k in colon.r if re.fullmatch(r"baseline\.\w+\.p", k)]:
        text = fmt(key, r_number(colon.r[key]))
        assert text == colon.ledger[key]["text"] and squeeze(text) in pdf, (key, text)
        checked += 1
    assert checked >= 30, checked


@needs_r
def test_cox_table_as_r_prints_it(colon, pdf):
    """Each row of the Cox table: HR (95% CI) and p, univariable then multivariable, by endpoint."""
    terms = sorted({m.group(1) for k in colon.r if (m := re.match(r"rfs\.cox\.uni\.(.+)\.hr$", k))})
    assert len(terms) == 11, terms  # the two arm contrasts and nine covariates
    for term in terms:
        row = ""
        for endpoint in TABLE_ENDPOINTS:
            for model in ("uni", "multi"):
                base = f"{endpoint}.cox.{model}.{term}"
                hr, ci, p = (r_text(colon.r, f"{base}.{end}") for end in ("hr", "hr.ci", "p"))
                row += f"{hr} ({ci}) {p}"
        assert squeeze(row) in pdf, (term, row)


@needs_r
def test_numbers_at_risk_as_r_prints_them(colon, pdf):
    for endpoint in AT_RISK_TABLES:
        for arm, label in ARMS.items():
            months = sorted(
                int(k.rsplit(".", 1)[1]) for k in colon.r if k.startswith(f"at_risk.{endpoint}.{arm}.")
            )
            row = label + "".join(colon.r[f"at_risk.{endpoint}.{arm}.{m}"] for m in months)
            assert squeeze(row) in pdf, (endpoint, arm, row)


# --- bad input -------------------------------------------------------------------------------------------


def broken_study(tmp_path: Path, edit) -> Path:
    """A copy of the study folder whose data `edit(rows, header)` changed (rows[0] is the header,
    spreadsheet row 1)."""
    folder = Path(shutil.copytree(STUDY, tmp_path / "colon", ignore=SKIP))
    path = folder / "data" / "colon.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    edit(rows, rows[0])
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return folder


def run_study(folder: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analysis", "run", "--study", str(folder), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def set_cell(row: int, column: str, value: str):
    def edit(rows, header):
        rows[row - 1][header.index(column)] = value

    return edit


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (set_cell(2, "time", "-5"), "colon.csv, row 2, column 'time': value '-5': must be between 0 and"),
        (set_cell(3, "status", "2"), "colon.csv, row 3, column 'status': value '2': must be between 0 and 1"),
        (set_cell(4, "rx", "Placebo"), "colon.csv, row 4, column 'rx': value 'Placebo': must be one of"),
        # rows 6 and 7 are patient 3's death and recurrence rows: the recurrence row removed
        (lambda rows, header: rows.pop(6), "colon.csv, row 6, column 'id': value '3': patient 3 has no"),
        (set_cell(3, "age", "44"), "colon.csv, row 3, column 'age': differs between the rows of patient 1"),
    ],
    ids=["negative time", "status 2", "arm not in the codebook", "one row only", "covariate differs"],
)
def test_bad_input_is_named_by_file_row_and_column(tmp_path, edit, expected):
    result = run_study(broken_study(tmp_path, edit), tmp_path)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_arm_the_study_file_does_not_declare(tmp_path):
    """An arm the codebook allows but the study file's comparison leaves out: named with the study
    file's line."""
    folder = broken_study(tmp_path, lambda rows, header: None)
    study = folder / "study.yaml"
    text = study.read_text(encoding="utf-8")
    for declared, left_out in (
        ("levels: [Obs, Lev, Lev+5FU]", "levels: [Obs, Lev+5FU]"),
        ("Lev: lev, ", ""),
        ("Lev: the levamisole arm, ", ""),
    ):
        assert declared in text
        text = text.replace(declared, left_out)
    study.write_text(text, encoding="utf-8")
    result = run_study(folder, tmp_path)
    assert result.returncode == 2, result.stderr
    assert "study.yaml" in result.stderr and "does not declare: Lev" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
