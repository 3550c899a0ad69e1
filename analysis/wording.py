"""Words chosen by the numbers: every phrase whose truth depends on a result is picked here.

Each choice is recorded in the ledger under `wording.`, so an updated dataset cannot leave a false
claim in the text and a change of wording shows up when two ledgers are compared.
"""

from __future__ import annotations

import re

from analysis import software
from analysis.endpoints import COVARIATES
from analysis.ledger import Ledger

ALPHA = 0.05
SOURCE = "analysis.wording"


def survival_difference(median_post: float | None, median_first: float | None, p: float) -> str:
    """How the post-ate-beva group's survival compares with first-line, given the log-rank p."""
    if median_post is None or median_first is None or median_post == median_first:
        direction = None
    else:
        direction = "longer" if median_post > median_first else "shorter"
    if p < ALPHA and direction:
        return f"was significantly {direction} in the post-ate-beva group"
    if direction:
        return (
            f"was numerically {direction} in the post-ate-beva group, "
            "but the difference was not statistically significant"
        )
    return "did not differ significantly between the groups"


def rate_difference(rate_post: float, rate_first: float, p: float) -> str:
    """How the post-ate-beva group's response rate compares with first-line."""
    if rate_post == rate_first:
        return "was the same in both groups"
    direction = "higher" if rate_post > rate_first else "lower"
    if p < ALPHA:
        return f"was significantly {direction} in the post-ate-beva group"
    return f"was {direction} in the post-ate-beva group, without statistical significance"


def adjusted_association(hr: float, p: float, outcome: str) -> str:
    """What the multivariable group effect says about the risk of an outcome."""
    if p >= ALPHA:
        return f"was not independently associated with the risk of {outcome}"
    direction = "lower" if hr < 1 else "higher"
    return f"was independently associated with a {direction} risk of {outcome}"


def significance(p: float) -> str:
    return "significant" if p < ALPHA else "not significant"


def other_tests(p_chisq: float, p_yates: float) -> str:
    """What the chi-square test and its continuity-corrected version say, after Fisher's test."""
    significant = (p_chisq < ALPHA, p_yates < ALPHA)
    if not any(significant):
        return "neither of which reaches significance"
    if all(significant):
        return "both of which reach significance"
    return "of which only the uncorrected test reaches significance"


def proportional_hazards(violated: list[str], model: str) -> str:
    """The proportional-hazards finding for one model, naming any term that violated it."""
    if not violated:
        return f"no covariate in the {model} model showed evidence against proportional hazards"
    return f"the proportional-hazards assumption was doubtful for {', '.join(violated)} in the {model} model"


def in_sentence(label: str) -> str:
    """A covariate label as it reads mid-sentence: ordinary first words lower-cased, names kept."""
    return label[0].lower() + label[1:] if re.match(r"[A-Z][a-z]+\b(?!-)", label) else label


def series(items: list[str]) -> str:
    """English list: "a", "a and b", "a, b and c"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def adjustment(covariates: list[str]) -> str:
    """What the multivariable model contained besides the treatment group."""
    labels = [in_sentence(COVARIATES[name]) for name in covariates if name in COVARIATES]
    if not labels:
        return "contained the treatment group alone, as no other covariate met the selection rule"
    return f"was adjusted for {series(labels)}"


#: How each kind of recode (analysis.recode) reads in the Methods.
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


def overall_verdict(comparisons: list[tuple[float | None, float | None, float]]) -> str:
    """ "better", "similar" or "worse" for the post-ate-beva group over (median_post, median_first, p).

    Worse when any endpoint is significantly shorter; better when any is significantly longer and none
    significantly shorter; similar otherwise.
    """
    significant = {
        "longer" if post > first else "shorter"
        for post, first, p in comparisons
        if p < ALPHA and post is not None and first is not None and post != first
    }
    if "shorter" in significant:
        return "worse"
    return "better" if significant else "similar"


SUMMARY: dict[str, dict[str, str]] = {
    "comparison": {
        "better": "did no worse, and by some measures better, than",
        "similar": "had survival similar to that of",
        "worse": "had shorter survival than",
    },
    "agreement": {
        "better": "agree in direction with",
        "similar": "are broadly consistent with",
        "worse": "differ from",
    },
    "implication": {
        "better": "our results suggest that its benefit may extend to the second line",
        "similar": "our results suggest that it keeps some activity in the second line",
        "worse": "our results do not show that its benefit extends to the second line",
    },
    "conclusion": {
        "better": "HAIC after ate-beva failure was followed by survival at least as long as that of "
        "first-line HAIC, which supports HAIC as a second-line option.",
        "similar": "HAIC after ate-beva failure was followed by survival similar to that of first-line HAIC, "
        "which supports HAIC as a second-line option.",
        "worse": "HAIC after ate-beva failure was followed by shorter survival than first-line HAIC, so its "
        "place in the second line needs careful selection of patients.",
    },
}


def add_wording(ledger: Ledger) -> None:
    """Record every result-dependent phrase of the article in the ledger."""
    add_software(ledger)

    def add(key: str, words: str, method: str) -> None:
        ledger.add(f"wording.{key}", words, None, method, SOURCE, text=words)

    for endpoint, outcome in (("os", "death"), ("pfs", "progression or death")):
        add(
            f"{endpoint}.difference",
            survival_difference(
                ledger[f"{endpoint}.median.post_ate_beva"].value,
                ledger[f"{endpoint}.median.first_line"].value,
                ledger[f"{endpoint}.logrank.p"].value,
            ),
            f"log-rank p against alpha = {ALPHA}, direction from the medians",
        )
        add(
            f"{endpoint}.logrank.significance",
            significance(ledger[f"{endpoint}.logrank.p"].value),
            f"log-rank p against alpha = {ALPHA}",
        )
        multi = f"{endpoint}.cox.multi.group"
        add(
            f"{endpoint}.adjusted",
            adjusted_association(ledger[f"{multi}.hr"].value, ledger[f"{multi}.p"].value, outcome),
            f"multivariable Wald p against alpha = {ALPHA}, direction from the HR",
        )
        add(
            f"{endpoint}.adjustment",
            adjustment(ledger[f"{endpoint}.cox.multi.covariates"].value),
            "covariates selected by the univariable rule, listed in prose",
        )
        add(
            f"{endpoint}.ph",
            proportional_hazards(ledger[f"{endpoint}.zph.violated_terms"].value, endpoint.upper()),
            "cox.zph p < 0.05 for any term",
        )
    verdict = overall_verdict(
        [
            (
                ledger[f"{e}.median.post_ate_beva"].value,
                ledger[f"{e}.median.first_line"].value,
                ledger[f"{e}.logrank.p"].value,
            )
            for e in ("os", "pfs")
        ]
    )
    for part, phrases in SUMMARY.items():
        add(
            f"summary.{part}",
            phrases[verdict],
            f"overall verdict '{verdict}': log-rank p of OS and PFS against alpha = {ALPHA}, "
            "direction from the medians",
        )
    add(
        "orr.other_tests",
        other_tests(ledger["orr.chisq.p"].value, ledger["orr.chisq_yates.p"].value),
        f"chi-square p with and without continuity correction against alpha = {ALPHA}",
    )
    add(
        "orr.difference",
        rate_difference(
            ledger["orr.post_ate_beva"].value, ledger["orr.first_line"].value, ledger["orr.p"].value
        ),
        f"Fisher p against alpha = {ALPHA}, direction from the rates",
    )
    add("orr.significance", significance(ledger["orr.p"].value), f"Fisher p against alpha = {ALPHA}")
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
    add(
        "data.availability",
        synthetic_words if synthetic else real_words,
        "from the data's metadata (synthetic flag)",
    )


def add_software(ledger: Ledger) -> None:
    """The Methods' software sentence, assembled from the software recorded on the numbers: each
    package that computed a number, with its version and the methods it computed (our own code last)."""
    source = "analysis.wording.add_software"
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
