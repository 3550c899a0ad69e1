"""The reviewer analyses as a study file declares them (`reviewer:`): a study without the section
builds as before; bad declarations and data give a clear error or "NE" with the reason in the
tables, never a crash or a silent NaN."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

import analysis
from analysis.article import plots, reviewer_tables
from analysis.plan.plan import Plan
from analysis.plan.study import StudyError
from tests.conftest import ROOT

REVIEWER_FIGURES = {"flow", "love", "km_iptw_os", "km_iptw_pfs", "subgroups_os", "subgroups_pfs"}
REVIEWER_TABLES = {"balance", "subgroups", "rmst_evalue"}
PREFIXES = ("iptw.", "subgroup.", "rmst.", "evalue.", "wording.iptw.", "wording.subgroups.", "wording.rmst.")


def study_copy(folder: Path, change=None, data=None) -> Path:
    """The HAIC study in folder, its study.yaml changed by `change(dict)` and its data by `data(frame)`."""
    for name in ("derivations.py",):
        shutil.copy(ROOT / name, folder / name)
    shutil.copytree(ROOT / "data", folder / "data")
    text = (ROOT / "study.yaml").read_text(encoding="utf-8")
    if change is not None:
        content = yaml.safe_load(text)
        change(content)
        text = yaml.safe_dump(content, sort_keys=False, allow_unicode=True)
    (folder / "study.yaml").write_text(text, encoding="utf-8")
    if data is not None:
        path = folder / "data" / "cohort.csv"
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        data(frame).to_csv(path, index=False)
    return folder


@pytest.fixture(scope="module")
def haic(haic_results):
    return haic_results


def test_haic_declares_every_reviewer_analysis(haic):
    assert set(plots.drawers(haic)) >= REVIEWER_FIGURES
    tables = haic.tables
    assert set(tables) >= REVIEWER_TABLES
    assert {"Covariate balance", "Subgroup analysis", "RMST and E-values"} <= set(tables.cells)
    assert haic["iptw.estimand"].text == "ATT" and haic["iptw.smd.max.after"].value < 0.1
    assert haic["wording.iptw.weights"].text.startswith("weights of 1 for the post-ate-beva group")


def test_a_study_without_the_section_builds_as_before(tmp_path, haic):
    folder = study_copy(tmp_path, lambda s: s.pop("reviewer"))
    results = analysis.run(folder)
    keys = results.ledger.keys()  # iterating a ledger gives its entries
    assert not [k for k in keys if k.startswith(PREFIXES)]
    assert not REVIEWER_FIGURES & set(plots.drawers(results))
    assert not REVIEWER_TABLES & set(results.tables)
    # every other number is the same as with the section
    for key in keys:
        if not key.startswith(("software.", "manuscript.")):
            assert results.ledger.peek(key).text == haic.ledger.peek(key).text, key


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(StudyError) as caught:
        Plan.load(folder)
    return [str(p) for p in caught.value.problems]


def test_a_subgroup_variable_not_in_the_codebook_is_refused_with_its_line(tmp_path):
    def change(study):
        study["reviewer"]["subgroups"]["variables"].append("tumour_grade")
        study["reviewer"]["iptw"]["covariates"].append("sex")
        study["reviewer"]["rmst"]["horizon"]["dfs"] = 12

    problems = problems_of(study_copy(tmp_path, change))
    lines = (tmp_path / "study.yaml").read_text(encoding="utf-8").splitlines()
    unknown = next(p for p in problems if "tumour_grade" in p)
    assert "key 'reviewer.subgroups.variables[7]'" in unknown and "not in the codebook nor derived" in unknown
    line = int(unknown.split("line ")[1].split(",")[0])
    assert "tumour_grade" in lines[line - 1]
    assert any("reviewer.iptw.covariates[8]" in p and "numeric or 0/1" in p for p in problems)
    assert any("reviewer.rmst.horizon.dfs" in p and "not an endpoint" in p for p in problems)


def test_unknown_keys_and_settings_are_refused(tmp_path):
    def change(study):
        study["reviewer"]["iptw"]["estimand"] = "ATC"
        study["reviewer"]["rmst"]["horizons"] = {"os": 12}

    problems = problems_of(study_copy(tmp_path, change))
    assert any("reviewer.iptw.estimand" in p for p in problems)
    assert any("reviewer.rmst.horizons" in p and "unknown key" in p for p in problems)


def test_a_separating_covariate_is_not_estimable_and_says_why(tmp_path):
    def change(study):
        study["reviewer"]["iptw"]["covariates"].append("male")  # every woman is first-line

    results = analysis.run(study_copy(tmp_path, change))
    assert results["iptw.estimable"].text == "no"
    assert "'male' separates the groups" in results["iptw.reason"].text
    assert results["evalue.os.estimate"].text == "NE"
    assert results["evalue.os.estimate.reason"].text == "no estimate of iptw.os.hr"
    assert not {"love", "km_iptw_os"} & set(plots.drawers(results))
    rows = reviewer_tables.rmst_evalue_frame(results)
    assert "NE: no estimate of iptw.os.hr" in rows["value"].tolist()


def test_a_horizon_beyond_the_follow_up_prints_ne_with_the_reason(tmp_path):
    def change(study):
        study["reviewer"]["rmst"]["horizon"]["pfs"] = 400

    results = analysis.run(study_copy(tmp_path, change))
    assert results["rmst.pfs.difference"].text == "NE"
    reason = results["rmst.pfs.difference.reason"].text
    assert "beyond the last follow-up" in reason
    assert results["wording.rmst.pfs"].text == f"could not be compared: {reason}"
    assert f"NE: {reason}" in reviewer_tables.rmst_evalue_frame(results)["value"].tolist()


def test_a_subgroup_level_with_no_events_prints_ne_with_the_reason(tmp_path):
    def no_deaths_in_other(frame):
        frame.loc[frame["etiology"] == "other", "etiology"] = "MASLD"
        alive = frame.index[frame["death_date"] == ""][:6]
        frame.loc[alive, "etiology"] = "other"
        return frame

    def change(study):
        study["reviewer"]["subgroups"]["variables"] = ["etiology"]

    results = analysis.run(study_copy(tmp_path, change, no_deaths_in_other))
    assert results["subgroup.os.etiology.other.events"].value == 0
    assert results["subgroup.os.etiology.other.hr"].text == "NE"
    reason = results["subgroup.os.etiology.other.hr.reason"].text
    frame = reviewer_tables.subgroups_frame(results)
    assert f"NE: {reason}" in frame["os_hr"].tolist()
    fig = plots.drawers(results)["subgroups_os"](results)
    assert f"NE: {reason}" in [t.get_text() for ax in fig.axes for t in ax.texts]
