"""Words chosen by the numbers: every phrase whose truth depends on a result is picked here.

Each choice is recorded in the ledger under `wording.`, so an updated dataset cannot leave a false
claim in the text and a change of wording shows up when two ledgers are compared.
"""

from __future__ import annotations

import re

from analysis.plan.plan import Plan
from analysis.results.ledger import Ledger
from analysis.stats import software

ALPHA = 0.05
SOURCE = "analysis.article.wording"


def survival_difference(
    median_other: float | None, median_ref: float | None, p: float, group: str, alpha: float = ALPHA
) -> str:
    """How one group's survival compares with the reference group's, given the log-rank p (`group`:
    the other group in words, 'the treated group')."""
    if median_other is None or median_ref is None or median_other == median_ref:
        direction = None
    else:
        direction = "longer" if median_other > median_ref else "shorter"
    return difference_words(direction, p, group, alpha)


def difference_words(direction: str | None, p: float, group: str, alpha: float = ALPHA) -> str:
    """The survival comparison in words, from its direction ('longer', 'shorter' or None) and p."""
    if p < alpha and direction:
        return f"was significantly {direction} in {group}"
    if direction:
        return f"was numerically {direction} in {group}, but the difference was not statistically significant"
    if p < alpha:  # no median and no hazard ratio to say which way
        return "differed significantly between the groups"
    return "did not differ significantly between the groups"


def groups_difference(p: float, alpha: float = ALPHA) -> str:
    """Whether survival differed across three or more groups (the log-rank test of all of them)."""
    if p < alpha:
        return "differed significantly between the groups"
    return "did not differ significantly between the groups"


def rate_difference(rate_other: float, rate_ref: float, p: float, group: str, alpha: float = ALPHA) -> str:
    """How one group's response rate compares with the reference group's."""
    if rate_other == rate_ref:
        return "was the same in both groups"
    direction = "higher" if rate_other > rate_ref else "lower"
    if p < alpha:
        return f"was significantly {direction} in {group}"
    return f"was {direction} in {group}, without statistical significance"


def adjusted_association(hr: float, p: float, outcome: str, alpha: float = ALPHA) -> str:
    """What the multivariable group effect says about the risk of an outcome."""
    if p >= alpha:
        return f"was not independently associated with the risk of {outcome}"
    direction = "lower" if hr < 1 else "higher"
    return f"was independently associated with a {direction} risk of {outcome}"


def significance(p: float, alpha: float = ALPHA) -> str:
    return "significant" if p < alpha else "not significant"


def other_tests(p_chisq: float, p_yates: float, alpha: float = ALPHA) -> str:
    """What the chi-square test and its continuity-corrected version say, after Fisher's test."""
    significant = (p_chisq < alpha, p_yates < alpha)
    if not any(significant):
        return "neither of which reaches significance"
    if all(significant):
        return "both of which reach significance"
    return "of which only the uncorrected test reaches significance"


def proportional_hazards(violated: list[str], model: str) -> str:
    """The proportional-hazards finding for one model, naming any term that violated it."""
    if not violated:
        return f"no covariate in the {model} model showed evidence against proportional hazards"
    named = series([in_sentence(label) for label in violated])
    return f"the proportional-hazards assumption was doubtful for {named} in the {model} model"


def in_sentence(label: str) -> str:
    """A covariate label as it reads mid-sentence: ordinary first words lower-cased, names kept."""
    return label[0].lower() + label[1:] if re.match(r"[A-Z][a-z]+\b(?!-)", label) else label


def series(items: list[str]) -> str:
    """English list: "a", "a and b", "a, b and c"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def adjustment(labels: list[str]) -> str:
    """What the multivariable model contained besides the treatment group (the covariates' labels)."""
    labels = [in_sentence(label) for label in labels]
    if not labels:
        return "contained the treatment group alone, as no other covariate met the selection rule"
    return f"was adjusted for {series(labels)}"


#: How each kind of recode (analysis.data.recode) reads in the Methods.
RECODE_WORDS = {
    "synonym": "other spellings of a level",
    "case": "letter case",
    "surrounding spaces": "surrounding spaces",
    "missing word": "words meaning missing",
    "blank cell": "blank cells",
    "date format": "other date formats",
    "decimal comma": "decimal commas",
    "above the assay limit": "values beyond an assay limit",
    "below the assay limit": "values beyond an assay limit",
}


def recoding(cells: int, cells_text: str, rules: list[str]) -> str:
    """The Methods sentence on how the export was brought to the codebook's terms."""
    if not cells:
        return "Every value of the export was written in the terms of the codebook, so none was recoded."
    kinds = list(dict.fromkeys(words for rule, words in RECODE_WORDS.items() if rule in rules))
    kinds += [rule for rule in rules if rule not in RECODE_WORDS]
    cells_were = "cell of the export was" if cells == 1 else "cells of the export were"
    return (
        f"Before analysis, {cells_text} {cells_were} recoded to the terms of the codebook, as the "
        f"codebook declares ({series(kinds)}); the recode log distributed with the analysis outputs "
        "lists each recode."
    )


def assay_limits(beyond: list[tuple[str, int, str]]) -> str:
    """The Methods sentences on laboratory values written beyond an assay's measuring range (no
    apostrophe in the words: pandoc would print it curly, and verify compares text).

    `beyond` holds (what, patients, patients as printed), e.g. ("serum alpha-fetoprotein above
    60,500 ng/mL", 2, "2"), for every limit met in the data.
    """
    met = [(what, n, text) for what, n, text in beyond if n]
    if not met:
        return "No laboratory value was written beyond the measuring range of its assay."
    parts = [f"{what} in {text} patient{'s' if n != 1 else ''}" for what, n, text in met]
    return (
        "Laboratory values written beyond the measuring range of their assay were analysed at the limit "
        f"and flagged: {series(parts)}. Where the limit left open whether a value reached the cut-off of "
        "a covariate, that covariate was treated as missing for the patient."
    )


def overall_verdict(comparisons: list[tuple[float | None, float | None, float]], alpha: float = ALPHA) -> str:
    """ "better", "similar" or "worse" for the non-reference group over (median_other, median_ref, p).

    Worse when any endpoint is significantly shorter; better when any is significantly longer and none
    significantly shorter; similar otherwise.
    """
    directions = [
        (None if None in (post, first) or post == first else "longer" if post > first else "shorter", p)
        for post, first, p in comparisons
    ]
    return verdict(directions, alpha)


def verdict(comparisons: list[tuple[str | None, float]], alpha: float = ALPHA) -> str:
    """ "better", "similar" or "worse" over (direction, p) of every endpoint, as `overall_verdict`."""
    significant = {direction for direction, p in comparisons if p < alpha and direction}
    if "shorter" in significant:
        return "worse"
    return "better" if significant else "similar"


def add_wording(ledger: Ledger, plan: Plan) -> None:
    """Record every result-dependent phrase of the article in the ledger."""
    add_software(ledger)
    alpha = plan.settings.alpha

    def add(key: str, words: str, method: str) -> None:
        ledger.add(f"wording.{key}", words, None, method, SOURCE, text=words)

    two = len(plan.groups) == 2
    other = next((g for g in plan.arms if g != plan.reference_key), None)
    ref = plan.reference_key
    comparisons = []
    for endpoint, spec in plan.endpoints.items():
        if len(plan.groups) > 1:
            p = ledger[f"{endpoint}.logrank.p"].value
            if two:
                medians = (
                    ledger[f"{endpoint}.median.{other}"].value,
                    ledger[f"{endpoint}.median.{ref}"].value,
                )
                comparisons.append((*medians, p))
                words = survival_difference(*medians, p, plan.group_words(other), alpha)
                method = f"log-rank p against alpha = {alpha}, direction from the medians"
            else:
                words, method = groups_difference(p, alpha), f"log-rank p against alpha = {alpha}"
            add(f"{endpoint}.difference", words, method)
            add(
                f"{endpoint}.logrank.significance",
                significance(p, alpha),
                f"log-rank p against alpha = {alpha}",
            )
        if plan.study.cox is None:
            continue
        for key in plan.group_terms.values():
            multi = f"{endpoint}.cox.multi.{key}"
            suffix = "" if two else f".{key.split('.', 1)[1]}"
            add(
                f"{endpoint}.adjusted{suffix}",
                adjusted_association(
                    ledger[f"{multi}.hr"].value, ledger[f"{multi}.p"].value, spec.event, alpha
                ),
                f"multivariable Wald p against alpha = {alpha}, direction from the HR",
            )
        chosen = [
            n for n in ledger[f"{endpoint}.cox.multi.covariates"].value if n not in plan.group_terms.values()
        ]
        if f"{endpoint}.zph.violated_terms" not in ledger:  # no multivariable model was fitted
            continue
        add(
            f"{endpoint}.adjustment",
            adjustment([plan.term_labels[n] for n in chosen]),
            "covariates selected by the rule, listed in prose",
        )
        add(
            f"{endpoint}.ph",
            proportional_hazards(ledger[f"{endpoint}.zph.violated_terms"].value, spec.abbreviation),
            "cox.zph p < 0.05 for any term",
        )
    if two and plan.study.article.summary:
        chosen = overall_verdict(comparisons, alpha)
        for part, phrases in plan.study.article.summary.items():
            add(
                f"summary.{part}",
                getattr(phrases, chosen),
                f"overall verdict '{chosen}': log-rank p of every endpoint against alpha = {alpha}, "
                "direction from the medians",
            )
    if len(plan.groups) > 2:
        add_pairwise(ledger, plan, add)
    add_balance(ledger, plan, add)
    add_published_comparisons(ledger, plan, add)
    response = plan.study.response
    if response is not None and two:
        if "chi_square" in response.tests and "chi_square_yates" in response.tests:
            add(
                "orr.other_tests",
                other_tests(ledger["orr.chisq.p"].value, ledger["orr.chisq_yates.p"].value, alpha),
                f"chi-square p with and without continuity correction against alpha = {alpha}",
            )
        add(
            "orr.difference",
            rate_difference(
                ledger[f"orr.{other}"].value,
                ledger[f"orr.{ref}"].value,
                ledger["orr.p"].value,
                plan.group_words(other),
                alpha,
            ),
            f"Fisher p against alpha = {alpha}, direction from the rates",
        )
        add(
            "orr.significance",
            significance(ledger["orr.p"].value, alpha),
            f"Fisher p against alpha = {alpha}",
        )
    recoded = ledger["data.recoded_cells"]
    add(
        "methods.recodes",
        recoding(recoded.value, recoded.text, ledger["data.recode_rules"].value),
        "from the count and kinds of recodes applied to the export",
    )
    beyond = [
        (ledger[f"{entry.key}.what"].text, entry.value, entry.text)
        for entry in ledger
        if entry.key.startswith("data.beyond_limit.") and not entry.key.endswith(".what")
    ]
    add("methods.assay_limits", assay_limits(beyond), "from the values flagged beyond an assay limit")
    synthetic = ledger["study.synthetic"].value
    add(
        "data.limitation",
        "Finally, the data analysed here are synthetic: they reproduce the published summary results, and "
        "the estimates that were not published (for example the baseline table and the covariate effects) "
        "illustrate the analysis rather than describe real patients."
        if synthetic
        else "Finally, data were abstracted from routine records, so some laboratory values are missing.",
        "from the data's metadata (synthetic flag)",
    )
    synthetic_words = (
        "The data analysed here are a synthetic cohort generated to reproduce the published summary "
        "results; they describe no real patient. The generator, its seed and the data are distributed "
        "with the manuscript source."
    )
    real_words = (
        "The patient-level data are not publicly available because of patient privacy; de-identified "
        "data are available from the corresponding author on reasonable request and with approval of "
        "the institutional review board."
    )
    declared = plan.study.article.data_availability
    add(
        "data.availability",
        " ".join(declared.split()) if declared else synthetic_words if synthetic else real_words,
        "declared in the study file" if declared else "from the data's metadata (synthetic flag)",
    )


def direction(ledger: Ledger, plan: Plan, endpoint: str, key: str) -> str | None:
    """Whether a group's survival was 'longer' or 'shorter' than the reference's: from the medians when
    both are reached and differ, else from the unadjusted hazard ratio (HR < 1: longer)."""
    other, ref = (ledger[f"{endpoint}.median.{g}"].value for g in (key, plan.reference_key))
    if other is not None and ref is not None and other != ref:
        return "longer" if other > ref else "shorter"
    term = next((t for c, t in plan.group_terms.items() if plan.group_key(plan.term_level(c)) == key), None)
    hr = f"{endpoint}.cox.uni.{term}.hr"
    if term is None or hr not in ledger or ledger[hr].value == 1:
        return None
    return "longer" if ledger[hr].value < 1 else "shorter"


def add_pairwise(ledger: Ledger, plan: Plan, add) -> None:
    """Three or more groups: each group against the reference, by endpoint (`<endpoint>.<group>.difference`)
    and overall (`summary.<name>.<group>`), from the pairwise log-rank tests."""
    alpha = plan.settings.alpha
    ref = plan.group_words(plan.reference_key)
    method = f"pairwise log-rank p vs alpha = {alpha}; direction from the medians, else the unadjusted HR"
    for key in plan.arms:
        if key == plan.reference_key:
            continue
        found = []
        for endpoint in plan.endpoints:
            p = ledger[f"{endpoint}.logrank.{key}.p"].value
            found.append((direction(ledger, plan, endpoint, key), p))
            words = difference_words(*found[-1], f"{plan.group_words(key)} than in {ref}", alpha)
            add(f"{endpoint}.{key}.difference", words, method)
        chosen = verdict(found, alpha)
        for part, phrases in plan.study.article.summary.items():
            why = f"verdict '{chosen}' over every endpoint: {method}"
            add(f"summary.{part}.{key}", getattr(phrases, chosen), why)


def add_balance(ledger: Ledger, plan: Plan, add) -> None:
    """Which Table 1 characteristics differed between the groups (`baseline.balance`)."""
    if len(plan.groups) < 2:
        return
    alpha = plan.settings.alpha
    differing = [
        in_sentence(line.label)
        for line in plan.table1
        if f"baseline.{line.column}.p" in ledger and ledger[f"baseline.{line.column}.p"].value < alpha
    ]
    words = (
        f"{series(differing)} differed significantly between the groups"
        if differing
        else "no baseline characteristic differed significantly between the groups"
    )
    add("baseline.balance", words, f"Table 1 tests against alpha = {alpha}")


def add_published_comparisons(ledger: Ledger, plan: Plan, add) -> None:
    """For each published figure declared with `compare`, whether it lies within our CI of the same
    quantity (`published.<key>`), and whether all do (`published.all`)."""
    from analysis.plan.study import raise_if

    verdicts, problems = [], []
    for i, item in enumerate(plan.study.published):
        if item.compare is None:
            continue
        if f"{item.compare}.ci_low" not in ledger:
            rule = "not a ledger key with a confidence interval (e.g. os.cox.uni.<term>.reduction)"
            problems.append(plan.where.problem(("published", i, "compare"), rule, item.compare))
            continue
        low, high = ledger[f"{item.compare}.ci_low"].value, ledger[f"{item.compare}.ci_high"].value
        inside = low is not None and high is not None and low <= item.value <= high
        verdicts.append(inside)
        words = "is consistent with" if inside else "differs from"
        add(f"published.{item.key}", words, f"published value within our CI of {item.compare}")
    raise_if(problems, plan.where.file)
    if verdicts:
        words = "are consistent with" if all(verdicts) else "differ in part from"
        add("published.all", words, "every compared published value within our CI")


def add_software(ledger: Ledger) -> None:
    """The Methods' software sentence, assembled from the software recorded on the numbers: each
    package that computed a number, with its version and the methods it computed (our own code last)."""
    source = "analysis.article.wording.add_software"
    methods: dict[str, list[str]] = {}
    for entry in ledger:
        if entry.software is not None:
            methods.setdefault(entry.software.package, [])
            if entry.software.method not in methods[entry.software.package]:
                methods[entry.software.package].append(entry.software.method)
    records = {e.software.package: e.software for e in ledger if e.software is not None}
    packages = sorted(methods, key=lambda package: package == software.OWN)
    clauses: list[list] = []
    for package in packages:
        listed = ledger.add(
            f"software.methods.{package}",
            methods[package],
            None,
            "methods whose numbers this package computed",
            source,
            text=series(methods[package]),
        )
        clause: list = [listed, " were computed with " if not clauses else " with "]
        if package == software.OWN:
            clause.append(
                f"{software.NAMES[package]}, written where no maintained library computes them as R does"
            )
        else:
            version = f"software.{package}"
            if version not in ledger:
                ledger.add(
                    version,
                    records[package].version,
                    None,
                    "running environment",
                    source,
                    text=records[package].version,
                )
            clause += [f"{software.NAMES.get(package, package)} ", ledger[version]]
            if package in software.CITATIONS:
                clause.append(f" [@{software.CITATIONS[package]}]")
        clauses.append(clause)
    parts: list = []
    for i, clause in enumerate(clauses):
        if i:
            parts.append("; and " if i == len(clauses) - 1 else "; ")
        parts += clause
    parts.append(".")
    ledger.add_sentence("software.sentence", parts, "software recorded on the numbers", source)
