"""The study's analyses, each computing one part of the results into the ledger.

Each `add_*` function runs what the plan declares (groups, endpoints, landmarks, covariates,
criteria) through the statistics layer and records every number with the method used and the
function that computed it. Ledger keys follow the study file's names (`<endpoint>.median.<group>`).
"""

from __future__ import annotations

import platform
from importlib.metadata import version

import numpy as np
import pandas as pd

from analysis.data.cohort import Cohort
from analysis.data.recode import ABOVE, BELOW, LIMIT_SUFFIX
from analysis.plan.plan import Plan, Step
from analysis.results.ledger import Ledger
from analysis.stats import baseline, cox, coxzph, response, survival

PACKAGES = ("numpy", "pandas", "scipy", "lifelines", "pandera", "matplotlib", "great_tables")
KM_METHOD = "Kaplan-Meier; 95% CI log-log (Greenwood), as R survfit(conf.type = 'log-log')"
COX_METHOD = "Cox proportional hazards, Efron ties; HR with Wald 95% CI and Wald p"
SOURCE = "analysis.results.analyses"


def lower_first(label: str) -> str:
    """A label as it reads mid-sentence: an ordinary first word lower-cased, names kept."""
    import re

    return label[0].lower() + label[1:] if re.match(r"[A-Z][a-z]+\b(?!-)", label) else label


def add_counts(ledger: Ledger, plan: Plan, data: pd.DataFrame) -> None:
    source = f"{SOURCE}.add_counts"
    ledger.add("n.total", len(data), "count", "patients analysed", source)
    for g in plan.groups:
        n = int((data[plan.group_column] == g).sum())
        ledger.add(f"n.{plan.group_key(g)}", n, "count", "patients analysed", source)


def add_flow(ledger: Ledger, screened: int, flow: list[Step]) -> None:
    """The patient flow: patients in the data, then each selection step's exclusions and what remains."""
    source = f"{SOURCE}.add_flow"
    ledger.add("population.screened", screened, "count", "patients in the data", source)
    for step in flow:
        key = f"population.{step.id}"
        ledger.add(f"{key}.excluded", step.excluded, "count", f"excluded: not '{step.label}'", source)
        ledger.add(f"{key}.remaining", step.after, "count", f"remaining after '{step.label}'", source)


def add_study(ledger: Ledger, plan: Plan, cohort: Cohort) -> None:
    """Study window, cut-off, data status, settings and software, from the metadata, the study file
    and the environment."""
    source = f"{SOURCE}.add_study"
    meta = cohort.meta
    for key in ("accrual_start", "accrual_end"):
        if key in meta:
            when = pd.Timestamp(str(meta[key]))
            text = when.strftime("%B %Y")
            ledger.add(
                f"study.{key}", when.date().isoformat(), None, "from the data's metadata", source, text=text
            )
    cutoff = cohort.cutoff
    text = f"{cutoff.day} {cutoff.strftime('%B %Y')}"
    ledger.add("study.cutoff", cutoff.date().isoformat(), None, "from the data's metadata", source, text=text)
    synthetic = bool(meta.get("synthetic"))
    text = "synthetic" if synthetic else "real"
    ledger.add("study.synthetic", synthetic, None, "from the data's metadata", source, text=text)
    for name, endpoint in plan.endpoints.items():
        event = endpoint.event
        ledger.add(f"endpoints.{name}", event, None, "the endpoint's event, in words", source, text=event)
    s = plan.settings
    ledger.add(
        "config.ci_level",
        s.ci_level,
        None,
        "confidence level of every interval",
        source,
        text=f"{100 * s.ci_level:.0f}%",
    )
    settings = {"alpha": (s.alpha, f"{s.alpha:.2f}", "two-sided significance level")}
    selection = plan.study.cox.selection if plan.study.cox else None
    if selection is not None and selection.rule == "p_below":
        p = selection.threshold
        settings["selection_p"] = (p, f"{p:.2f}", "univariable p threshold for the multivariable model")
    days = s.days_per_month
    settings["days_per_month"] = (days, f"{days:g}", "days per month when converting times")
    if plan.landmarks:
        first, last = plan.landmarks[0], plan.landmarks[-1]
        settings["landmark_early"] = (first, f"{first:g}", "early landmark of survival rates, months")
        settings["landmark_late"] = (last, f"{last:g}", "late landmark of survival rates, months")
    m = s.expected_min
    settings["expected_min"] = (m, str(m), "smallest expected count for the chi-square test")
    for name in ("selection_p", "alpha", "days_per_month", "landmark_early", "landmark_late", "expected_min"):
        if name in settings:
            value, text, method = settings[name]
            ledger.add(f"config.{name}", value, None, method, source, text=text)
    python = platform.python_version()
    ledger.add("software.python", python, None, "running environment", source, text=python)
    for package in PACKAGES:
        v = version(package.replace("_", "-"))
        ledger.add(f"software.{package}", v, None, "running environment", source, text=v)


def add_data_handling(ledger: Ledger, cohort: Cohort) -> None:
    """What the loader did to the export before any analysis: recodes, empty rows, assay limits."""
    source = "analysis.data.recode.recode"
    recodes = cohort.recodes
    method = "cells rewritten by the recodes declared in the codebook (each listed in recodes.csv)"
    ledger.add("data.recoded_cells", sum(r.rows for r in recodes), "count", method, source)
    rules = sorted({rule for r in recodes for rule in r.rule.split("; ")})
    ledger.add("data.recode_rules", rules, None, "kinds of recode applied", source, text=", ".join(rules))
    ledger.add("data.empty_rows", len(cohort.empty_rows), "count", "empty rows of the export ignored", source)
    data = cohort.data
    for flag in [c for c in data.columns if c.endswith(LIMIT_SUFFIX)]:
        column = flag[: -len(LIMIT_SUFFIX)]
        spec = cohort.codebook.columns[column] if cohort.codebook else {}
        what = lower_first(spec.get("description", column))
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


def _arms(plan: Plan, data: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The patients of each group; a single-arm study is one arm, `all`."""
    if not plan.groups:
        return {"all": data}
    return {plan.group_key(g): data[data[plan.group_column] == g] for g in plan.groups}


def add_survival(
    ledger: Ledger, plan: Plan, data: pd.DataFrame, endpoint: str
) -> dict[str, survival.KMCurve]:
    """KM medians with CIs, landmark rates, event counts and (groups) the log-rank test of one endpoint."""
    t, e = f"{endpoint}_months", f"{endpoint}_event"
    level = plan.settings.ci_level
    curves = {}
    for g, part in _arms(plan, data).items():
        curve = survival.kaplan_meier(part[t].to_numpy(), part[e].to_numpy(), level)
        curves[g] = curve
        median = survival.median_survival(curve)
        ledger.add_estimate(
            f"{endpoint}.median.{g}",
            median.estimate,
            median.ci_low,
            median.ci_high,
            "months",
            KM_METHOD + "; median by R's quantile rule",
            "analysis.stats.survival.median_survival",
            median.software,
        )
        ledger.add(
            f"{endpoint}.events.{g}", int(part[e].sum()), "count", "events observed", f"{SOURCE}.add_survival"
        )
        for month in plan.endpoints[endpoint].landmarks:
            s, lo, hi = curve.at(month)
            ledger.add_estimate(
                f"{endpoint}.rate{month:g}.{g}",
                s,
                lo,
                hi,
                "percent",
                f"{KM_METHOD}; S({month:g} months)",
                "analysis.stats.survival.KMCurve.at",
                curve.software,
            )
    if len(plan.groups) > 1:
        groups = data[plan.group_column].astype(str).to_numpy()
        test = survival.logrank(data[t].to_numpy(), data[e].to_numpy(), groups)
        method = f"log-rank test (R survdiff, rho = 0), {test.df} df"
        source = "analysis.stats.survival.logrank"
        text = f"{test.chisq:.2f}"
        ledger.add(
            f"{endpoint}.logrank.chisq",
            test.chisq,
            "number",
            method,
            source,
            text=text,
            software=test.software,
        )
        ledger.add(f"{endpoint}.logrank.p", test.p, "p", method, source, software=test.software)
    if len(plan.groups) > 2:  # each group against the reference, as trials with several arms report
        for g in plan.groups:
            if g == plan.reference:
                continue
            pair = data[data[plan.group_column].astype(str).isin([g, plan.reference])]
            arm = pair[plan.group_column].astype(str).to_numpy()
            test = survival.logrank(pair[t].to_numpy(), pair[e].to_numpy(), arm)
            method = f"log-rank test (R survdiff, rho = 0), {g} vs {plan.reference}, {test.df} df"
            key = f"{endpoint}.logrank.{plan.group_key(g)}.p"
            ledger.add(key, test.p, "p", method, "analysis.stats.survival.logrank", software=test.software)
    return curves


def add_followup(ledger: Ledger, plan: Plan, data: pd.DataFrame) -> None:
    if plan.study.followup is None:
        return
    endpoint = plan.study.followup
    median = survival.reverse_km_followup(
        data[f"{endpoint}_months"].to_numpy(), data[f"{endpoint}_event"].to_numpy()
    )
    ledger.add_estimate(
        "followup.median",
        median.estimate,
        median.ci_low,
        median.ci_high,
        "months",
        "reverse Kaplan-Meier (censoring as event)",
        "analysis.stats.survival.reverse_km_followup",
        median.software,
    )


def _add_term(
    ledger: Ledger, key: str, model: cox.CoxModel, name: str, method: str, source: str, group: bool = False
) -> None:
    """A term's HR with CI and p; for a group term also the relative reduction in hazard, 1 - HR (with
    1 - the CI limits), the form in which trials often state their effect ("a 40% reduction")."""
    term = model.terms[name]
    low, high = term.ci
    ledger.add_estimate(f"{key}.hr", term.hr, low, high, "hr", method, source, model.software)
    ledger.add(f"{key}.p", term.p, "p", method, source, software=model.software)
    if group:
        method += "; reduction in hazard = 1 - HR"
        reduction = (1 - term.hr, 1 - high, 1 - low)
        ledger.add_estimate(f"{key}.reduction", *reduction, "percent", method, source, model.software)


def selection_words(plan: Plan) -> str:
    rule = plan.study.cox.selection
    if rule.rule == "p_below":
        return f"univariable p < {rule.threshold}"
    if rule.rule == "all":
        return "every candidate covariate"
    return "the declared covariates"


def add_cox(ledger: Ledger, plan: Plan, data: pd.DataFrame, endpoint: str) -> dict[str, cox.CoxModel]:
    """Univariable screens, the multivariable model chosen by the rule, and its PH test."""
    t, e = f"{endpoint}_months", f"{endpoint}_event"
    forced = list(plan.group_terms)
    rule = plan.study.cox.selection
    level = plan.settings.ci_level
    model, screens = cox.multivariable(
        data, t, e, forced, plan.candidates, rule.rule, rule.threshold, rule.covariates or [], level
    )
    for screen in screens.values():
        for term in screen.terms:
            _add_term(
                ledger,
                f"{endpoint}.cox.uni.{plan.term_key(term)}",
                screen,
                term,
                COX_METHOD + "; univariable, complete cases",
                "analysis.stats.cox.univariable",
                term in plan.group_terms,
            )
    words = selection_words(plan)
    source = "analysis.stats.cox.select_covariates"
    if model is None:
        method = f"selection rule: {words}"
        ledger.add(f"{endpoint}.cox.multi.covariates", [], None, method, source, text="no covariate")
        return {f"uni.{k}": v for k, v in screens.items()}
    for name in model.terms:
        _add_term(
            ledger,
            f"{endpoint}.cox.multi.{plan.term_key(name)}",
            model,
            name,
            COX_METHOD + f"; multivariable: group + covariates with {words}",
            "analysis.stats.cox.multivariable",
            name in plan.group_terms,
        )
    adjusted = [plan.term_labels[n] for n in model.terms if n not in forced]
    keys = list(dict.fromkeys(plan.term_key(n) for n in model.terms))
    text = ", ".join(adjusted) if adjusted else "no other covariate"
    ledger.add(f"{endpoint}.cox.multi.covariates", keys, None, f"selection rule: {words}", source, text=text)
    ledger.add(
        f"{endpoint}.cox.multi.n", model.n, "count", "complete cases in the multivariable model", source
    )
    ledger.add(
        f"{endpoint}.cox.multi.events", model.events, "count", "events in the multivariable model", source
    )
    ph = coxzph.cox_zph(model)
    method = "Schoenfeld-residual score test, KM time transform (R cox.zph)"
    source = "analysis.stats.coxzph.cox_zph"
    ledger.add(f"{endpoint}.zph.global.p", ph.p("GLOBAL"), "p", method, source, software=ph.software)
    violated = []
    for name in model.terms:
        ledger.add(
            f"{endpoint}.zph.{plan.term_key(name)}.p", ph.p(name), "p", method, source, software=ph.software
        )
        if ph.p(name) < 0.05:
            violated.append(plan.term_labels[name])
    ledger.add(f"{endpoint}.zph.violations", len(violated), "count", method + "; terms with p < 0.05", source)
    text = ", ".join(violated) if violated else "none"
    ledger.add(f"{endpoint}.zph.violated_terms", violated, None, method, source, text=text)
    return {"multi": model, **{f"uni.{k}": v for k, v in screens.items()}}


def add_response(ledger: Ledger, plan: Plan, data: pd.DataFrame) -> None:
    """Best response counts, ORR and DCR with Clopper-Pearson CIs, and Fisher's test, per criterion."""
    spec = plan.study.response
    arms = _arms(plan, data)
    level = plan.settings.ci_level
    for criterion in spec.criteria:
        prefix = "" if criterion.primary else f"{criterion.id}."
        column = criterion.column
        for g, part in arms.items():
            counts = response.best_response_counts(part[column], spec.categories)
            n = len(part)
            for category, k in counts.items():
                ledger.add(
                    f"{criterion.id}.bor.{category}.{g}",
                    k,
                    None,
                    "patients with this best response",
                    "analysis.stats.response.best_response_counts",
                    text=f"{k} ({100 * k / n:.1f}%)",
                )
        for name, levels in (("orr", spec.response), ("dcr", spec.control)):
            method = f"{name.upper()} ({'+'.join(levels)}), Clopper-Pearson exact 95% CI"
            for g, part in arms.items():
                rate = response.rate(part, column, levels, level)
                key = f"{prefix}{name}.{g}"
                source = "analysis.stats.response.rate"
                ledger.add_estimate(
                    key, rate.proportion, rate.low, rate.high, "percent", method, source, rate.software
                )
                count_key = f"{key}.responders" if name == "orr" else f"{key}.count"
                ledger.add(count_key, rate.k, "count", method, source)
                ledger.add(f"{key}.n", rate.n, "count", method, source)
            if len(arms) > 1:
                test = response.compare_rates(data, column, levels, plan.group_column)
                ledger.add(
                    f"{prefix}{name}.p",
                    test.p,
                    "p",
                    "Fisher's exact test, two-sided",
                    "analysis.stats.response.compare_rates",
                    software=test.software,
                )
        if criterion.primary and len(arms) > 1:
            for test_name in spec.tests:
                continuity = test_name == "chi_square_yates"
                key = "orr.chisq_yates.p" if continuity else "orr.chisq.p"
                test = response.chi_square_rates(data, column, spec.response, plan.group_column, continuity)
                source = "analysis.stats.response.chi_square_rates"
                ledger.add(key, test.p, "p", test.test, source, software=test.software)


def add_baseline(ledger: Ledger, plan: Plan, data: pd.DataFrame) -> list[baseline.Block]:
    """Table 1 cells and tests into the ledger (so the table and the text share one source)."""
    variables = [baseline.Variable(v.column, v.label, v.continuous, v.summary) for v in plan.table1]
    labels = {v.column: v.levels for v in plan.table1 if not v.continuous}
    groups = plan.groups or []
    group = plan.group_column
    blocks = baseline.baseline_table(data, group, groups, labels, variables, plan.settings.expected_min)
    source = "analysis.stats.baseline.summarise"
    methods = {
        baseline.MEDIAN_IQR: "median (IQR) of known values",
        baseline.MEAN_SD: "mean (SD) of known values",
        baseline.UNKNOWN: "patients with no recorded value",
    }
    for block in blocks:
        column = block.variable.column
        for line in block.lines:
            method = methods.get(line.key, "n (%) of patients with a known value")
            for g, text in line.cells.items():
                name = g if g == "overall" else plan.group_key(g)
                ledger.add(
                    f"baseline.{column}.{line.key}.{name}", line.values[g], None, method, source, text=text
                )
        test = block.test
        if test is not None:
            ledger.add(f"baseline.{column}.p", test.p, "p", test.test, source, software=test.software)
            ledger.add(
                f"baseline.{column}.test", test.test, None, "gtsummary default rule", source, text=test.test
            )
    return blocks


def add_published(ledger: Ledger, plan: Plan) -> None:
    """Figures from the literature that the article compares with, as declared (with their citation)."""
    for item in plan.study.published:
        method = f"published: {item.what} [@{item.citation}]"
        text = None
        if item.digits is not None and item.kind in ("percent", "months", "number", "hr"):
            shown = 100 * item.value if item.kind == "percent" else item.value
            text = f"{shown:.{item.digits}f}" + ("%" if item.kind == "percent" else "")
        source = f"{plan.where.file}: published"
        ledger.add(f"published.{item.key}", item.value, item.kind, method, source, text=text)


def analysis_table(plan: Plan, data: pd.DataFrame) -> pd.DataFrame:
    """What the models saw, per patient, for a reviewer to rerun them in R or SAS."""
    columns = [plan.study.data.id]
    if plan.group_column:
        columns.append(plan.group_column)
    for endpoint in plan.endpoints:
        columns += [f"{endpoint}_months", f"{endpoint}_event"]
    if plan.study.response:
        columns += [c.column for c in plan.study.response.criteria]
    columns += [*plan.group_terms, *plan.candidates]
    out = data[list(dict.fromkeys(columns))].copy()
    if plan.group_column:
        out[plan.group_column] = out[plan.group_column].astype(str)
    return out


def event_counts(data: pd.DataFrame, endpoint: str) -> int:
    return int(np.asarray(data[f"{endpoint}_event"]).sum())
