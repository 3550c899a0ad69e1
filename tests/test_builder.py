"""The builder: the study declared in one file, the engine layered and free of any study.

- The HAIC article is unchanged by the move of its study into study.yaml: every ledger key and value
  printed before, and every word of the PDF (new content may only be added).
- A second study, scaffolded by `python -m analysis new` from generated data (three groups, an
  endpoint from time and status columns, no response, no derivations), builds to PDF, and so does
  its single-arm variant.
- Broken study files: each a clear error naming the file, the line and the key, all problems at once.
- No engine module names a study; no import goes up the layers; no import cycle.
"""

from __future__ import annotations

import ast
import difflib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import analysis
from analysis.article.provenance import TITLE as NUMBERS_TITLE
from analysis.plan.plan import Plan
from analysis.plan.study import StudyError
from review.articletext import read_article, split_words
from tests.conftest import ROOT

BEFORE = ROOT / "tests" / "data" / "haic-before"
MODULE_PATH = re.compile(r"^analysis(\.\w+)+$")
NUMBERED = re.compile(r"^(Figure|Table|Fig\.)$")


# --- the HAIC article is unchanged ---------------------------------------------------------------


@pytest.fixture(scope="module")
def haic(haic_results):
    return haic_results


def test_every_ledger_value_printed_before_is_unchanged(haic):
    """Every key of the ledger before the study file, with its value, printed text and method; the
    source names the same function (its module moved into a layer folder)."""
    before = json.loads((BEFORE / "ledger.json").read_text(encoding="utf-8"))
    changed = []
    for key, old in before.items():
        if key.startswith("manuscript.words."):  # the prose's word counts, not results
            continue
        if key.startswith("software.methods."):  # what ran: the methods named before, and more
            now = haic.ledger.peek(key).value if key in haic.ledger else []
            if now[: len(old["value"])] != old["value"]:
                changed.append(f"{key}: no longer lists {old['value']}")
            continue
        if key == "software.sentence":  # assembled from software.methods.*, compared there
            continue
        if key not in haic.ledger:
            changed.append(f"{key}: missing")
            continue
        new = haic.ledger.peek(key)
        value = new.value
        same = value == old["value"] or (
            isinstance(value, float)
            and isinstance(old["value"], float)
            and abs(value - old["value"]) <= 1e-12
        )
        # the method of a wording is the rule that chose it, described anew; the numbers table prints
        # every other method
        method_changed = new.method != old["method"] and not key.startswith("wording.")
        if not same or new.text != old["text"] or method_changed:
            changed.append(f"{key}: {old['text']!r} ({old['value']!r}) -> {new.text!r} ({value!r})")
        if new.source.split(".")[-1] != old["source"].split(".")[-1]:
            changed.append(f"{key}: computed by {old['source']} before, now {new.source}")
    assert not changed, "\n".join(changed)


def _normal(words: list[str]) -> list[str]:
    """Words as compared: a function's module path by its name (modules moved into layers), and the
    number of a figure or table by '#' (a figure added before renumbers those after it)."""
    out = []
    for i, word in enumerate(words):
        if MODULE_PATH.match(word):
            word = word.rsplit(".", 1)[-1]
        elif i and NUMBERED.match(words[i - 1]) and re.match(r"^S?\d+$", word):
            word = "#"
        out.append(word)
    return out


def _before_numbers_table(words: list[str]) -> list[str]:
    """The article up to its last table, the numbers table: whose Source column names functions whose
    module paths moved, so that its narrow cells wrap them anew (its rows are checked, key by key,
    against the ledger above)."""
    title = NUMBERS_TITLE.split()
    starts = [i for i in range(len(words)) if words[i : i + len(title)] == title]
    return words[: starts[-1]] if starts else words


def _without(words: list[str], sentence: str) -> list[str]:
    """The words with one sentence taken out: from its first words to its last (the PDF adds the
    citations among them)."""
    part = [w for w, _, _ in split_words(sentence)]
    head, tail = part[:6], part[-5:]
    for i in range(len(words)):
        if words[i : i + len(head)] == head:
            for j in range(i, min(i + len(part) + 40, len(words))):
                if words[j : j + len(tail)] == tail:
                    return words[:i] + words[j + len(tail) :]
    raise AssertionError(f"not printed: {sentence[:60]}")


def _word_counts_blank(words: list[str]) -> list[str]:
    """The manuscript's word counts (they change with the prose) as '#'."""
    out = list(words)
    start = next(i for i in range(len(out)) if out[i : i + 2] == ["Word", "count"])
    for i in range(start, start + 14):
        if out[i].isdigit():
            out[i] = "#"
    return out


def test_the_pdf_prints_every_word_it_printed_before(built):
    """The PDF's words, in order, as before: new sections and figures may be added (issue 22 adds a
    sensitivity analysis and a flow diagram), but no word printed before is changed or removed. Two
    passages change by design and are compared apart: the word counts, and the Methods' software
    sentence, assembled from what ran (the new analyses add their packages and methods to it; the
    ledger test checks that it still names every method it named)."""
    before = json.loads((BEFORE / "ledger.json").read_text(encoding="utf-8"))["software.sentence"]["text"]
    now = json.loads((built / "numbers.json").read_text(encoding="utf-8"))["entries"]["software.sentence"]
    old_words = _before_numbers_table((BEFORE / "article-words.txt").read_text(encoding="utf-8").split(" "))
    old = _normal(_word_counts_blank(_without(old_words, before)))
    new_words = _before_numbers_table(read_article(built / "manuscript.pdf").tokens())
    new = _normal(_word_counts_blank(_without(new_words, now["text"])))
    assert len(old) > 7000
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    lost = [
        f"{tag}: {' '.join(old[i1:i2][:12])!r} -> {' '.join(new[j1:j2][:12])!r}"
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag in ("replace", "delete")
    ]
    assert not lost, "\n".join(lost[:20])


# --- a second study, from scaffold to PDF --------------------------------------------------------


def trial_export(folder: Path, n: int = 240, seed: int = 7) -> Path:
    """A generated three-arm trial: time in days and status, a few covariates, some values missing."""
    rng = np.random.default_rng(seed)
    arm = rng.choice(["control", "low dose", "high dose"], n)
    hazard = np.select([arm == "control", arm == "low dose"], [1 / 500, 1 / 650], 1 / 900)
    age = rng.integers(35, 85, n)
    event_time = rng.exponential(1 / hazard) * np.where(age > 65, 0.8, 1.0)
    censor = rng.uniform(200, 1500, n)
    frame = pd.DataFrame(
        {
            "subject_id": [f"T{i:04d}" for i in range(1, n + 1)],
            "arm": arm,
            "age": age,
            "sex": rng.choice(["female", "male"], n),
            "stage": rng.choice(["II", "III", "IV"], n, p=[0.3, 0.5, 0.2]),
            "score": np.round(rng.normal(50, 10, n), 1),
            "time": np.ceil(np.minimum(event_time, censor)).astype(int),
            "status": (event_time <= censor).astype(int),
        }
    )
    frame.loc[rng.choice(n, 9, replace=False), "score"] = np.nan
    path = folder / "trial.csv"
    frame.to_csv(path, index=False)
    return path


def new_study(folder: Path, data: Path, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "analysis", "new", str(folder), "--data", str(data), *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT)


def qrender(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "qrender", str(folder)], capture_output=True, text=True, cwd=ROOT
    )


@pytest.fixture(scope="module")
def trial(tmp_path_factory) -> Path:
    """The generated trial scaffolded by `new` and built by `make manuscript` in its folder, as a
    researcher would (the Makefile `new` writes runs this engine's qrender)."""
    where = tmp_path_factory.mktemp("trial")
    result = new_study(where / "study", trial_export(where))
    assert result.returncode == 0, result.stderr
    built = subprocess.run(["make", "manuscript"], capture_output=True, text=True, cwd=where / "study")
    assert built.returncode == 0, built.stderr[-3000:]
    return where / "study"


def test_new_scaffolds_a_three_arm_study_that_builds(trial):
    plan = Plan.load(trial)
    assert plan.groups == ["control", "low dose", "high dose"] and plan.group_column == "arm"
    assert plan.study.endpoints["os"].from_times is not None and plan.study.response is None
    assert not plan.study.derive
    # its skeleton prints numbers with inline code, which Quarto refuses under its execution cache
    execute = yaml.safe_load((trial / "_quarto.yml").read_text(encoding="utf-8"))["execute"]
    assert "{python}" in (trial / "manuscript.qmd").read_text(encoding="utf-8") and not execute.get("cache")
    codebook = (trial / "data" / "codebook.yaml").read_text(encoding="utf-8")
    assert "DRAFTED" in codebook and "confirm" in codebook
    ledger = json.loads((trial / "_manuscript" / "numbers.json").read_text(encoding="utf-8"))["entries"]
    words = " ".join(read_article(trial / "_manuscript" / "manuscript.pdf").tokens())
    for key in ("n.total", "n.control", "n.high_dose", "n.low_dose", "os.logrank.p"):
        assert ledger[key]["text"] in words, key
    # three groups: the group term has a contrast per non-reference arm, the log-rank test 2 df
    assert "os.cox.uni.group.high_dose.hr" in ledger and "os.cox.uni.group.low_dose.hr" in ledger
    assert ledger["os.logrank.p"]["method"].endswith("2 df")
    assert ledger["baseline.age.test"]["text"] == "Kruskal-Wallis rank-sum test"
    for fmt in ("manuscript.docx", "index.html", "ard.csv"):
        assert (trial / "_manuscript" / fmt).is_file(), fmt


def test_a_single_arm_study_builds(tmp_path):
    data = trial_export(tmp_path)
    frame = pd.read_csv(data).drop(columns=["arm"])
    frame.to_csv(data, index=False)
    assert new_study(tmp_path / "study", data).returncode == 0
    assert "comparison:" not in (tmp_path / "study" / "study.yaml").read_text(encoding="utf-8")
    built = qrender(tmp_path / "study")
    assert built.returncode == 0, built.stderr[-3000:]
    ledger = json.loads((tmp_path / "study" / "_manuscript" / "numbers.json").read_text(encoding="utf-8"))
    entries = ledger["entries"]
    assert "os.median.all" in entries and not any(k.startswith("os.logrank") for k in entries)
    words = " ".join(read_article(tmp_path / "study" / "_manuscript" / "manuscript.pdf").tokens())
    assert entries["os.median.all"]["text"] in words


def test_a_broken_study_file_stops_the_build_and_keeps_the_last_good_outputs(trial):
    pdf = trial / "_manuscript" / "manuscript.pdf"
    good = pdf.read_bytes()
    study = trial / "study.yaml"
    text = study.read_text(encoding="utf-8")
    study.write_text(text.replace("reference: control", "reference: placebo"), encoding="utf-8")
    try:
        result = qrender(trial)
    finally:
        study.write_text(text, encoding="utf-8")
    assert result.returncode != 0
    assert "study.yaml, line" in result.stderr and "comparison.reference" in result.stderr
    assert "Traceback" not in result.stderr
    assert pdf.read_bytes() == good


def test_new_refuses_identifiers_and_an_existing_study(tmp_path, trial):
    data = trial_export(tmp_path)
    frame = pd.read_csv(data).assign(phone=["010-1234-5678"] * 240)
    frame.to_csv(data, index=False)
    refused = new_study(tmp_path / "other", data)
    assert refused.returncode == 2 and "identifier" in refused.stderr and "Traceback" not in refused.stderr
    assert not (tmp_path / "other").exists()
    again = new_study(trial, trial / "data" / "trial.csv")
    assert again.returncode == 2 and "holds a study already" in again.stderr


# --- broken study files --------------------------------------------------------------------------

HAIC = (ROOT / "study.yaml").read_text(encoding="utf-8")


def _line(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


def _sub(old: str, new: str):
    def change(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)

    return change


#: name -> (change to the HAIC study file, the key named, the rule's words, the line's text or None)
BROKEN = {
    "unknown top-level key": (
        _sub("followup: os", "follow_up: os"),
        "follow_up",
        "unknown key",
        "follow_up: os",
    ),
    "unknown nested key": (
        _sub("  key: group\n", "  kee: group\n"),
        "comparison.kee",
        "unknown key",
        "kee: group",
    ),
    "group column not in the codebook": (
        _sub("  column: group\n", "  column: arm\n"),
        "comparison.column",
        "not in the codebook",
        "column: arm",
    ),
    "a level not in the codebook": (
        _sub("levels: [first_line, post_ate_beva]", "levels: [first_line, second_line]"),
        "comparison.levels[1]",
        "not a level of group",
        "levels: [first_line, second_line]",
    ),
    "a reference level that does not exist": (
        _sub("reference: first_line", "reference: sorafenib"),
        "comparison.reference",
        "the reference is not one of the levels",
        "reference: sorafenib",
    ),
    "a circular derivation": (
        _sub(
            "{name: albi_score, function: albi_score, uses: [albumin_g_dl, bilirubin_mg_dl]",
            "{name: albi_score, function: albi_score, uses: [albumin_g_dl, albi_grade]",
        ),
        "derive[0].uses",
        "circular derivation",
        None,
    ),
    "a YAML syntax error": (
        _sub("  ci_level: 0.95\n", "  ci_level: [0.95\n"),
        None,
        "YAML syntax error",
        None,
    ),
    "an empty file": (lambda text: "", None, "the study file is empty", None),
    "a list instead of sections": (lambda text: "- data\n- endpoints\n", None, "must be a mapping", None),
    "an endpoint from dates and from times": (
        _sub(
            "    landmarks: [6, 12]\n  pfs:",
            "    landmarks: [6, 12]\n"
            "    from_times: {unit: days, sources: [{time: age, status: ecog}]}\n  pfs:",
        ),
        "endpoints.os",
        "exactly one of from_dates and from_times",
        None,
    ),
    "an endpoint date that is no date": (
        _sub(
            "from_dates: {start: haic_start_date, events: [death_date]",
            "from_dates: {start: age, events: [death_date]",
        ),
        "endpoints.os.from_dates.start",
        "must be a column of type date",
        None,
    ),
    "a derivation function the module lacks": (
        _sub("function: albi_grade, uses", "function: albi_class, uses"),
        "derive[1].function",
        "no function albi_class",
        None,
    ),
    "a derivations module that is missing": (
        _sub("derivations: derivations.py", "derivations: albi.py"),
        "data.derivations",
        "file not found",
        "derivations: albi.py",
    ),
    "a Table 1 column that does not exist": (
        _sub("    - {column: haic_cycles}", "    - {column: haic_cycle_count}"),
        "table1.variables[15].column",
        "not in the codebook nor derived",
        "haic_cycle_count",
    ),
    "a categorical Cox candidate": (
        _sub("candidates: [age_ge_65, male,", "candidates: [age_ge_65, sex,"),
        "cox.candidates[1]",
        "must be numeric or 0/1",
        None,
    ),
    "a selection rule without its threshold": (
        _sub("{rule: p_below, threshold: 0.10}", "{rule: p_below}"),
        "cox.selection",
        "needs a threshold",
        None,
    ),
    "a response category not among the categories": (
        _sub("  response: [CR, PR]", "  response: [CR, XR]"),
        "response",
        "not among the categories",
        None,
    ),
    "two primary criteria": (
        _sub("column: mrecist_bor}", "column: mrecist_bor, primary: true}"),
        "response",
        "exactly one criterion is primary",
        None,
    ),
    "a confidence level above one": (
        _sub("  ci_level: 0.95", "  ci_level: 1.5"),
        "settings.ci_level",
        "less than 1",
        "ci_level: 1.5",
    ),
    "a follow-up endpoint that is not declared": (
        _sub("followup: os", "followup: dfs"),
        None,
        "'dfs' is not an endpoint",
        None,
    ),
    "a derived column declared twice": (
        _sub("  - {name: male, from: sex", "  - {name: hbv, from: sex"),
        None,
        "hbv declared twice",
        None,
    ),
    "a derivation with two rules": (
        _sub("{name: male, from: sex, is: [M]", "{name: male, from: sex, is: [M], at_least: 1"),
        "derive[5]",
        "exactly one of",
        None,
    ),
    "a selection step on an unknown column": (
        _sub("keep: {column: age, min: 18}", "keep: {column: age_years, min: 18}"),
        "population.steps[0].keep.column",
        "not in the codebook",
        "age_years",
    ),
    "a selection step without a condition": (
        _sub("keep: {column: age, min: 18}", "keep: {column: age}"),
        "population.steps[0].keep",
        "at least one condition",
        None,
    ),
    "an unknown p-value style": (
        _sub("p_style: journal", "p_style: apa"),
        "settings.p_style",
        "journal",
        None,
    ),
    "a group key that is no plain name": (
        _sub("  key: group\n", "  key: group\n  keys: {first_line: first-line}\n"),
        "comparison",
        "plain name",
        None,
    ),
    "a required section missing": (_sub("table1:", "tables:"), "table1", "required key is missing", None),
}


def _write_study(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("data", "derivations.py"):
        target = folder / name
        if not target.exists():
            (target.symlink_to(ROOT / name))
    (folder / "study.yaml").write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize("name", list(BROKEN))
def test_a_broken_study_file_is_a_clear_error(tmp_path, name):
    change, key, rule, line_text = BROKEN[name]
    text = change(HAIC)
    folder = _write_study(tmp_path, text)
    with pytest.raises(StudyError) as caught:
        Plan.load(folder)
    report = caught.value.report()
    assert report.startswith("1 problem(s) in the study file study.yaml") or "problem(s)" in report
    assert rule in report, report
    if key is not None:
        assert f"key '{key}'" in report, report
    if line_text is not None:
        assert f"line {_line(text, line_text)}" in report, report
    assert all(p.file == "study.yaml" for p in caught.value.problems)
    if name not in ("an empty file",):
        assert any(p.line is not None for p in caught.value.problems), report


def test_every_problem_of_a_study_file_in_one_report(tmp_path):
    text = BROKEN["a level not in the codebook"][0](HAIC)
    text = BROKEN["a Table 1 column that does not exist"][0](text)
    text = BROKEN["a categorical Cox candidate"][0](text)
    with pytest.raises(StudyError) as caught:
        Plan.load(_write_study(tmp_path, text))
    keys = [p.key for p in caught.value.problems]
    # the level replaced also leaves its prose name (`words`) without a level: four problems, one report
    assert keys == [
        "comparison.levels[1]",
        "comparison.words.post_ate_beva",
        "table1.variables[15].column",
        "cox.candidates[1]",
    ], caught.value.report()


def test_a_declared_group_without_patients_is_an_error(tmp_path):
    """A level the codebook allows but no patient has: named with the study file's line."""
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "derivations.py").symlink_to(ROOT / "derivations.py")
    shutil.copytree(ROOT / "data", folder / "data")
    codebook = folder / "data" / "codebook.yaml"
    source = codebook.read_text(encoding="utf-8")
    source = source.replace(
        "values: [first_line, post_ate_beva],", "values: [first_line, post_ate_beva, third],"
    )
    source = source.replace(
        "post_ate_beva: Post-ate-beva HAIC}", "post_ate_beva: Post-ate-beva HAIC, third: Third}"
    )
    codebook.write_text(source, encoding="utf-8")
    text = HAIC.split("\nreviewer:")[0]  # the reviewer analyses compare two groups; this study has three
    text = text.replace("levels: [first_line, post_ate_beva]", "levels: [first_line, post_ate_beva, third]")
    (folder / "study.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(StudyError) as caught:
        analysis.run(folder)
    assert "no patient of cohort.csv is in this group" in caught.value.report()
    assert f"line {_line(text, 'levels: [first_line, post_ate_beva, third]')}" in caught.value.report()


def test_the_cli_reports_a_broken_study_without_a_traceback(tmp_path):
    folder = _write_study(tmp_path, BROKEN["a reference level that does not exist"][0](HAIC))
    result = subprocess.run(
        [sys.executable, "-m", "analysis", "run", "--study", str(folder), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "study.yaml, line" in result.stderr and "sorafenib" in result.stderr
    assert not (tmp_path / "out").exists()


# --- the engine names no study; its layers -------------------------------------------------------

#: Words of the studies this project builds; none may appear in the engine's code or text.
STUDY_WORDS = re.compile(
    r"haic|hepatic arterial|atezolizumab|bevacizumab|ate.beva|\balbi|ecog|bclc|child.pugh|\bafp\b|pivka|"
    r"\bvp[0-4]|first[_-]line|post.ate|recist|hepatocellular|\bhcc\b|sorafenib|"
    r"\bcolon\b|levamisole|fluorouracil|5fu|moertel",
    re.IGNORECASE,
)
ENGINE = ["analysis", "qrender", "review"]
ENGINE_FILES = ["prerender.py", "postrender.py"]


def engine_files() -> list[Path]:
    files = [ROOT / f for f in ENGINE_FILES]
    for package in ENGINE:
        files += [
            p
            for p in (ROOT / package).rglob("*")
            if p.is_file() and p.suffix in (".py", ".lua", ".typ", ".css")
        ]
    return sorted(files)


def test_no_engine_module_names_a_study():
    found = []
    for path in engine_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in STUDY_WORDS.finditer(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {match.group(0)!r} in {line.strip()[:80]}")
    assert not found, "\n".join(found)


#: the layers, lowest first: a module may import its own layer's modules and lower layers' only
LAYERS = ["errors", "data", "plan", "stats", "results", "article", "top"]


def layer_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] != "analysis" or len(parts) == 1:
        return "top"
    return parts[1] if parts[1] in LAYERS else "top"


def imports_of(path: Path) -> set[str]:
    """Every analysis module a file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("analysis")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("analysis"):
            found |= {
                f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES else node.module
                for a in node.names
            }
    return {m for m in found if m in MODULES}


MODULES = {
    ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
    for p in (ROOT / "analysis").rglob("*.py")
}


def test_no_import_goes_up_the_layers():
    upward = []
    for module, path in MODULES.items():
        for imported in imports_of(path):
            if LAYERS.index(layer_of(imported)) > LAYERS.index(layer_of(module)):
                upward.append(f"{module} ({layer_of(module)}) imports {imported} ({layer_of(imported)})")
    assert not upward, "\n".join(sorted(upward))


def test_the_modules_import_each_other_in_no_cycle():
    graph = {module: {m for m in imports_of(path) if m != module} for module, path in MODULES.items()}
    # a package's __init__ is not an edge back into its modules
    graph = {m: {i for i in edges if not m.startswith(i + ".")} for m, edges in graph.items()}
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(stack[stack.index(nxt) :] + [nxt]) if nxt in stack else nxt)
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "\n".join(cycles)


def test_the_layers_are_folders():
    for layer in LAYERS[1:-1]:
        assert (ROOT / "analysis" / layer / "__init__.py").is_file(), layer


def test_the_study_file_reference_is_generated_from_the_schema():
    """docs/study-file.md is what `python -m analysis.plan.docs` writes from the schema (regenerate it
    after changing the schema), and its full example is a valid study file."""
    from analysis.plan.docs import document, models

    committed = (ROOT / "docs" / "study-file.md").read_text(encoding="utf-8")
    assert committed == document(), "regenerate: python -m analysis.plan.docs > docs/study-file.md"
    for model in models():
        for name, field in model.model_fields.items():
            assert f"`{field.alias or name}`" in committed, (model.__name__, name)
    Plan.load(ROOT)  # the example is the HAIC study file itself
