"""`analysis.run(data_path)`: every number, table and figure of the article, computed once.

Each `add_*` function computes one part of the analysis from the cohort and records its numbers
in the ledger, naming the function that computed them and the method used.
"""

from __future__ import annotations

import argparse
import platform
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import pandas as pd

from analysis import baseline, consistency, cox, coxzph, response, survival
from analysis.codebook import Codebook, load_codebook
from analysis.cohort import Cohort, load_cohort
from analysis.contingency import MIN_EXPECTED
from analysis.endpoints import COVARIATES, DAYS_PER_MONTH, GROUP_COVARIATE
from analysis.ledger import Ledger
from analysis.prose import add_word_counts
from analysis.recode import ABOVE, BELOW, LIMIT_SUFFIX, write_log
from analysis.wording import ALPHA, in_sentence

GROUPS = ["first_line", "post_ate_beva"]
ENDPOINTS = {"os": "overall survival", "pfs": "progression-free survival"}
LANDMARKS = (6, 12)
PACKAGES = ("numpy", "pandas", "scipy", "lifelines", "pandera", "matplotlib", "great_tables")
KM_METHOD = "Kaplan-Meier; 95% CI log-log (Greenwood), as R survfit(conf.type = 'log-log')"
COX_METHOD = "Cox proportional hazards, Efron ties; HR with Wald 95% CI and Wald p"
GROUP_KEY = "group"
COVARIATE_LABELS = {GROUP_COVARIATE: "Post-ate-beva vs first-line HAIC", **COVARIATES}


def cox_key(covariate: str) -> str:
    return GROUP_KEY if covariate == GROUP_COVARIATE else covariate


@dataclass
class Results:
    """The ledger, the analysed per-patient table, the tables and the figures of one run."""

    ledger: Ledger
    cohort: Cohort
    analysis_data: pd.DataFrame
    models: dict = field(default_factory=dict)
    curves: dict = field(default_factory=dict)
    baseline: list = field(default_factory=list)
    #: the `analysis.cache` entry these results were read from (set on reading, never stored)
    cache_entry: object = None

    def __getitem__(self, key: str):
        return self.ledger[key]

    @property
    def tables(self) -> dict:
        from analysis import tables

        return tables.all_tables(self)

    def figures(self, folder: Path | str = "figures", write: bool = True) -> dict:
        from analysis import plots

        return plots.all_figures(self, Path(folder), write)

    def figure(self, name: str, folder: Path | str = "figures"):
        """One figure of the article by name (`plots.DRAWERS`) as its print files in folder, which
        the document shows: drawn once per build, rewritten only when its content changed."""
        from analysis import plots

        return plots.figure(self, name, Path(folder))

    def write(self, outdir: Path | str) -> None:
        """numbers.json (the ledger) and analysis-data.csv (what the models saw) into outdir."""
        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        (outdir / "numbers.json").write_text(self.ledger.to_json(), encoding="utf-8")
        self.analysis_data.to_csv(
            outdir / "analysis-data.csv", index=False, lineterminator="\n", float_format="%.10g"
        )
        write_log(self.cohort.recode_log(), outdir / "recodes.csv")


def provenance(cohort: Cohort, data_path: Path) -> dict:
    meta = cohort.meta
    return {
        "data": {
            "path": data_path.as_posix(),
            "sha256": cohort.sha256,
            "synthetic": bool(meta.get("synthetic")),
            "cutoff_date": str(meta.get("cutoff_date")),
        },
        "packages": {
            "python": platform.python_version(),
            **{p: version(p.replace("_", "-")) for p in PACKAGES},
        },
    }


def add_counts(ledger: Ledger, data: pd.DataFrame) -> None:
    source = "analysis.pipeline.add_counts"
    ledger.add("n.total", len(data), "count", "patients analysed", source)
    for g in GROUPS:
        ledger.add(f"n.{g}", int((data["group"] == g).sum()), "count", "patients analysed", source)


def add_study(ledger: Ledger, cohort: Cohort) -> None:
    """Study window, cut-off, data status and software, from the metadata and the environment."""
    source = "analysis.pipeline.add_study"
    meta = cohort.meta
    for key in ("accrual_start", "accrual_end"):
        if key in meta:
            when = pd.Timestamp(str(meta[key]))
            ledger.add(
                f"study.{key}",
                when.date().isoformat(),
                None,
                "from the data's metadata",
                source,
                text=when.strftime("%B %Y"),
            )
    cutoff = cohort.cutoff
    ledger.add(
        "study.cutoff",
        cutoff.date().isoformat(),
        None,
        "from the data's metadata",
        source,
        text=f"{cutoff.day} {cutoff.strftime('%B %Y')}",
    )
    ledger.add(
        "study.synthetic",
        bool(meta.get("synthetic")),
        None,
        "from the data's metadata",
        source,
        text="synthetic" if meta.get("synthetic") else "real",
    )
    ledger.add(
        "config.ci_level",
        survival.CONFIDENCE,
        None,
        "confidence level of every interval",
        source,
        text=f"{100 * survival.CONFIDENCE:.0f}%",
    )
    settings = {
        "selection_p": (
            cox.SELECTION_P,
            f"{cox.SELECTION_P:.2f}",
            "univariable p threshold for the multivariable model",
        ),
        "alpha": (ALPHA, f"{ALPHA:.2f}", "two-sided significance level"),
        "days_per_month": (DAYS_PER_MONTH, f"{DAYS_PER_MONTH:g}", "days per month when converting times"),
        "landmark_early": (LANDMARKS[0], str(LANDMARKS[0]), "early landmark of survival rates, months"),
        "landmark_late": (LANDMARKS[1], str(LANDMARKS[1]), "late landmark of survival rates, months"),
        "expected_min": (MIN_EXPECTED, str(MIN_EXPECTED), "smallest expected count for the chi-square test"),
    }
    for name, (value, text, method) in settings.items():
        ledger.add(f"config.{name}", value, None, method, source, text=text)
    ledger.add(
        "software.python",
        platform.python_version(),
        None,
        "running environment",
        source,
        text=platform.python_version(),
    )
    for package in PACKAGES:
        v = version(package.replace("_", "-"))
        ledger.add(f"software.{package}", v, None, "running environment", source, text=v)


def add_data_handling(ledger: Ledger, cohort: Cohort) -> None:
    """What the loader did to the export before any analysis: recodes, empty rows, assay limits."""
    source = "analysis.recode.recode"
    recodes = cohort.recodes
    ledger.add(
        "data.recoded_cells",
        sum(r.rows for r in recodes),
        "count",
        "cells rewritten by the recodes declared in the codebook (each listed in recodes.csv)",
        source,
    )
    rules = sorted({rule for r in recodes for rule in r.rule.split("; ")})
    ledger.add("data.recode_rules", rules, None, "kinds of recode applied", source, text=", ".join(rules))
    ledger.add(
        "data.empty_rows", len(cohort.empty_rows), "count", "empty rows of the export ignored", source
    )
    data = cohort.data
    for flag in [c for c in data.columns if c.endswith(LIMIT_SUFFIX)]:
        column = flag[: -len(LIMIT_SUFFIX)]
        spec = cohort.codebook.columns[column] if cohort.codebook else {}
        what = in_sentence(spec.get("description", column))
        for direction in (ABOVE, BELOW):
            beyond = data[flag] == direction
            key = f"data.beyond_limit.{column}.{direction}"
            method = f"patients whose {column} was written {direction} an assay's measuring range"
            ledger.add(key, int(beyond.sum()), "count", method, source)
            limits = sorted(data.loc[beyond, column].unique().tolist())
            unit = f" {spec['unit']}" if "unit" in spec else ""
            written = " or ".join(f"{v:,.0f}{unit}" if v == int(v) else f"{v:,}{unit}" for v in limits)
            text = f"{what} {direction} {written or 'the measuring range'}"
            ledger.add(f"{key}.what", limits, None, method + "; the limits written", source, text=text)


def add_survival(ledger: Ledger, data: pd.DataFrame, endpoint: str) -> dict[str, survival.KMCurve]:
    """KM medians with CIs, landmark rates, event counts and the log-rank test for one endpoint."""
    t, e = f"{endpoint}_months", f"{endpoint}_event"
    curves = {}
    for g in GROUPS:
        part = data[data["group"] == g]
        curve = survival.kaplan_meier(part[t].to_numpy(), part[e].to_numpy())
        curves[g] = curve
        median = survival.median_survival(curve)
        ledger.add_estimate(
            f"{endpoint}.median.{g}",
            median.estimate,
            median.ci_low,
            median.ci_high,
            "months",
            KM_METHOD + "; median by R's quantile rule",
            "analysis.survival.median_survival",
            median.software,
        )
        ledger.add(
            f"{endpoint}.events.{g}",
            int(part[e].sum()),
            "count",
            "events observed",
            "analysis.pipeline.add_survival",
        )
        for month in LANDMARKS:
            s, lo, hi = curve.at(month)
            ledger.add_estimate(
                f"{endpoint}.rate{month}.{g}",
                s,
                lo,
                hi,
                "percent",
                f"{KM_METHOD}; S({month} months)",
                "analysis.survival.KMCurve.at",
                curve.software,
            )
    test = survival.logrank(data[t].to_numpy(), data[e].to_numpy(), data["group"].astype(str).to_numpy())
    method = "log-rank test (R survdiff, rho = 0), 1 df"
    ledger.add(
        f"{endpoint}.logrank.chisq",
        test.chisq,
        "number",
        method,
        "analysis.survival.logrank",
        text=f"{test.chisq:.2f}",
        software=test.software,
    )
    ledger.add(
        f"{endpoint}.logrank.p", test.p, "p", method, "analysis.survival.logrank", software=test.software
    )
    return curves


def add_followup(ledger: Ledger, data: pd.DataFrame) -> None:
    median = survival.reverse_km_followup(data["os_months"].to_numpy(), data["os_event"].to_numpy())
    ledger.add_estimate(
        "followup.median",
        median.estimate,
        median.ci_low,
        median.ci_high,
        "months",
        "reverse Kaplan-Meier (censoring as event)",
        "analysis.survival.reverse_km_followup",
        median.software,
    )


def _add_term(ledger: Ledger, key: str, model: cox.CoxModel, name: str, method: str, source: str) -> None:
    term = model.terms[name]
    low, high = term.ci
    ledger.add_estimate(f"{key}.hr", term.hr, low, high, "hr", method, source, model.software)
    ledger.add(f"{key}.p", term.p, "p", method, source, software=model.software)


def add_cox(ledger: Ledger, data: pd.DataFrame, endpoint: str) -> dict[str, cox.CoxModel]:
    """Univariable screens, the multivariable model chosen by the rule, and its PH test."""
    t, e = f"{endpoint}_months", f"{endpoint}_event"
    candidates = list(COVARIATES)
    model, screens = cox.multivariable(data, t, e, GROUP_COVARIATE, candidates)
    for name, screen in screens.items():
        _add_term(
            ledger,
            f"{endpoint}.cox.uni.{cox_key(name)}",
            screen,
            name,
            COX_METHOD + "; univariable, complete cases",
            "analysis.cox.univariable",
        )
    for name in model.terms:
        _add_term(
            ledger,
            f"{endpoint}.cox.multi.{cox_key(name)}",
            model,
            name,
            COX_METHOD + f"; multivariable: group + covariates with univariable p < {cox.SELECTION_P}",
            "analysis.cox.multivariable",
        )
    adjusted = [COVARIATE_LABELS[n] for n in model.terms if n != GROUP_COVARIATE]
    source = "analysis.cox.select_covariates"
    ledger.add(
        f"{endpoint}.cox.multi.covariates",
        [cox_key(n) for n in model.terms],
        None,
        f"selection rule: univariable p < {cox.SELECTION_P}",
        source,
        text=", ".join(adjusted) if adjusted else "no other covariate",
    )
    ledger.add(
        f"{endpoint}.cox.multi.n", model.n, "count", "complete cases in the multivariable model", source
    )
    ledger.add(
        f"{endpoint}.cox.multi.events", model.events, "count", "events in the multivariable model", source
    )
    ph = coxzph.cox_zph(model)
    method = "Schoenfeld-residual score test, KM time transform (R cox.zph)"
    source = "analysis.coxzph.cox_zph"
    ledger.add(f"{endpoint}.zph.global.p", ph.p("GLOBAL"), "p", method, source, software=ph.software)
    violated = []
    for name in model.terms:
        ledger.add(f"{endpoint}.zph.{cox_key(name)}.p", ph.p(name), "p", method, source, software=ph.software)
        if ph.p(name) < 0.05:
            violated.append(COVARIATE_LABELS[name])
    ledger.add(
        f"{endpoint}.zph.violations",
        len(violated),
        "count",
        method + "; terms with p < 0.05",
        "analysis.coxzph.cox_zph",
    )
    ledger.add(
        f"{endpoint}.zph.violated_terms",
        violated,
        None,
        method,
        "analysis.coxzph.cox_zph",
        text=", ".join(violated) if violated else "none",
    )
    return {"multi": model, **{f"uni.{k}": v for k, v in screens.items()}}


def add_response(ledger: Ledger, data: pd.DataFrame) -> None:
    """Best response counts, ORR and DCR with Clopper-Pearson CIs, and Fisher's test, per criterion."""
    for prefix, column in (("", "recist_bor"), ("mrecist.", "mrecist_bor")):
        counts = response.best_response_counts(data, column, "group")
        for g in GROUPS:
            n = int((data["group"] == g).sum())
            for category in response.CATEGORIES:
                k = int(counts.loc[category, g])
                ledger.add(
                    f"{prefix or 'recist.'}bor.{category}.{g}",
                    k,
                    None,
                    "patients with this best response",
                    "analysis.response.best_response_counts",
                    text=f"{k} ({100 * k / n:.1f}%)",
                )
        for name, levels in (("orr", response.RESPONSE), ("dcr", response.CONTROL)):
            method = f"{name.upper()} ({'+'.join(levels)}), Clopper-Pearson exact 95% CI"
            for g in GROUPS:
                rate = response.rate(data[data["group"] == g], column, levels)
                key = f"{prefix}{name}.{g}"
                ledger.add_estimate(
                    key,
                    rate.proportion,
                    rate.low,
                    rate.high,
                    "percent",
                    method,
                    "analysis.response.rate",
                    rate.software,
                )
                ledger.add(
                    f"{key}.responders" if name == "orr" else f"{key}.count",
                    rate.k,
                    "count",
                    method,
                    "analysis.response.rate",
                )
                ledger.add(f"{key}.n", rate.n, "count", method, "analysis.response.rate")
            test = response.compare_rates(data, column, levels, "group")
            ledger.add(
                f"{prefix}{name}.p",
                test.p,
                "p",
                "Fisher's exact test, two-sided",
                "analysis.response.compare_rates",
                software=test.software,
            )
    for key, continuity in (("orr.chisq.p", False), ("orr.chisq_yates.p", True)):
        test = response.chi_square_rates(data, "recist_bor", response.RESPONSE, "group", continuity)
        source = "analysis.response.chi_square_rates"
        ledger.add(key, test.p, "p", test.test, source, software=test.software)


def add_baseline(ledger: Ledger, data: pd.DataFrame, codebook: Codebook) -> list[baseline.Block]:
    """Table 1 cells and tests into the ledger (so the table and the text share one source)."""
    blocks = baseline.baseline_table(data, "group", GROUPS, baseline.level_labels(codebook))
    source = "analysis.baseline.summarise"
    methods = {
        baseline.MEDIAN_IQR: "median (IQR) of known values",
        baseline.UNKNOWN: "patients with no recorded value",
    }
    for block in blocks:
        column = block.variable.column
        for line in block.lines:
            method = methods.get(line.key, "n (%) of patients with a known value")
            for group, text in line.cells.items():
                key = f"baseline.{column}.{line.key}.{group}"
                ledger.add(key, line.values[group], None, method, source, text=text)
        test = block.test
        ledger.add(f"baseline.{column}.p", test.p, "p", test.test, source, software=test.software)
        ledger.add(
            f"baseline.{column}.test", test.test, None, "gtsummary default rule", source, text=test.test
        )
    return blocks


def analysis_table(data: pd.DataFrame) -> pd.DataFrame:
    """What the models saw, per patient, for a reviewer to rerun them in R or SAS."""
    columns = [
        "patient_id",
        "group",
        "os_months",
        "os_event",
        "pfs_months",
        "pfs_event",
        "recist_bor",
        "mrecist_bor",
        GROUP_COVARIATE,
        *COVARIATES,
    ]
    out = data[columns].copy()
    out["group"] = out["group"].astype(str)
    return out


def run(data_path: str | Path = "data/cohort.csv", manuscript: str | Path | None = None) -> Results:
    """Load and validate the cohort, then compute every reported number into the ledger
    (and the manuscript's word counts, when its source is given)."""
    data_path = Path(data_path)
    codebook = load_codebook()
    cohort = load_cohort(data_path, codebook)
    data = cohort.data
    ledger = Ledger(provenance(cohort, data_path))
    add_study(ledger, cohort)
    add_data_handling(ledger, cohort)
    add_counts(ledger, data)
    curves = {endpoint: add_survival(ledger, data, endpoint) for endpoint in ENDPOINTS}
    add_followup(ledger, data)
    models = {endpoint: add_cox(ledger, data, endpoint) for endpoint in ENDPOINTS}
    add_response(ledger, data)
    blocks = add_baseline(ledger, data, codebook)
    from analysis.wording import add_wording

    add_wording(ledger)
    if manuscript is not None:
        add_word_counts(ledger, Path(manuscript))
    consistency.check(ledger)
    return Results(ledger, cohort, analysis_table(data), models, curves, blocks)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, nargs="?", default=Path("data/cohort.csv"))
    parser.add_argument("--out", type=Path, default=Path("_manuscript"))


def command(args: argparse.Namespace) -> int:
    """Run the analysis and write numbers.json and analysis-data.csv."""
    results = run(args.file)
    results.write(args.out)
    print(f"{len(results.ledger)} numbers written to {args.out / 'numbers.json'}")
    return 0
