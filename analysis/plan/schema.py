"""The study file's schema: what `study.yaml` may say, as pydantic models.

pydantic checks the form (types, required keys, unknown keys refused, one of several ways chosen);
`analysis.plan.study` then checks what the form cannot know: that every column and level named
exists in the codebook and the data. `docs/study-file.md` is generated from these models
(`python -m analysis.plan.docs`), so each field's description here is its documentation.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

NAME = r"^[A-Za-z][A-Za-z0-9_]*$"


class Strict(BaseModel):
    """A mapping of the study file: unknown keys are refused (a typo is never silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _texts(values: list | None) -> list[str] | None:
    """Levels as text, whatever YAML read them as (1 -> "1")."""
    return None if values is None else [str(v) for v in values]


class LongLayout(Strict):
    """Several rows per patient, one per record type (e.g. recurrence and death rows of a trial)."""

    record: str = Field(description="the column that names each row's record type")
    records: dict[str, str] = Field(
        description="each value of that column -> the record's name; columns that vary within a "
        "patient become `<column>_<name>` (`time_death`), one row per patient"
    )

    @field_validator("records", mode="before")
    @classmethod
    def _keys_as_text(cls, value: object) -> object:
        return {str(k): v for k, v in value.items()} if isinstance(value, dict) else value


class Data(Strict):
    """Where the patients' data are and how they are shaped."""

    file: str = Field(description="the data file (.csv or .xlsx), its `<stem>.meta.yaml` beside it")
    codebook: str = Field(description="the codebook: every column's type, levels, labels and rules")
    id: str = Field(description="the patient identifier column (pseudonymous study numbers only)")
    derivations: str | None = Field(
        None, description="the study's own module of derivation functions (a .py file in the study folder)"
    )
    long: LongLayout | None = Field(None, description="set when the data have several rows per patient")


class Keep(Strict):
    """A rule on one column: the patients it keeps. Give one or more conditions; all must hold."""

    column: str = Field(description="the column the rule reads")
    min: float | None = Field(None, description="keep values at least this")
    max: float | None = Field(None, description="keep values at most this")
    in_: list[str] | None = Field(None, alias="in", description="keep these levels")
    not_in: list[str] | None = Field(None, description="keep every level but these")
    known: bool | None = Field(None, description="true: keep patients with a recorded value")

    @field_validator("in_", "not_in", mode="before")
    @classmethod
    def _levels_as_text(cls, value: object) -> object:
        return _texts(value) if isinstance(value, list) else value

    @model_validator(mode="after")
    def _some_condition(self) -> Keep:
        if all(getattr(self, k) is None for k in ("min", "max", "in_", "not_in", "known")):
            raise ValueError("give at least one condition: min, max, in, not_in or known")
        return self


class Step(Strict):
    """One selection step of the patient flow: who stays, and in words."""

    id: str = Field(pattern=NAME, description="the step's name in the ledger (`population.<id>.excluded`)")
    label: str = Field(description="the eligibility criterion as the flow diagram prints it")
    keep: Keep


class Population(Strict):
    """Who is analysed: the patients in the data, then each selection step in order."""

    source: str = Field("Patients in the data", description="the first box of the flow diagram")
    steps: list[Step] = Field(default_factory=list, description="selection steps, applied in order")


class Comparison(Strict):
    """The groups compared (omit the section for a single-arm study)."""

    column: str = Field(description="the group column (a category of the codebook)")
    levels: list[str] = Field(min_length=2, description="the groups in print order")
    reference: str = Field(description="the reference level of hazard ratios")
    key: str = Field("group", pattern=NAME, description="the group term's name in ledger keys")
    label: str | None = Field(
        None, description="row label of the group term (two groups); default '<level> vs <reference>'"
    )
    words: dict[str, str] = Field(
        default_factory=dict,
        description="how prose names each group ('the treated group'); default 'the <label> group'",
    )
    keys: dict[str, str] = Field(
        default_factory=dict,
        description="each group's name in ledger keys (`n.<name>`), where the level is no plain word "
        "('A+B': a_b); default the level itself",
    )

    @field_validator("levels", "reference", mode="before")
    @classmethod
    def _levels_as_text(cls, value: object) -> object:
        return _texts(value) if isinstance(value, list) else str(value)

    @model_validator(mode="after")
    def _levels_and_keys(self) -> Comparison:
        if len(set(self.levels)) != len(self.levels):
            raise ValueError("a level is listed twice")
        import re

        for level, key in self.keys.items():
            if level not in self.levels:
                raise ValueError(f"keys: {level!r} is not one of the levels {self.levels}")
            if not re.match(NAME, key):
                raise ValueError(f"keys: {key!r} must be a plain name (letters, digits, _)")
        names = [self.keys.get(level, level) for level in self.levels]
        for level, name in zip(self.levels, names, strict=True):
            if not re.match(NAME, name):
                raise ValueError(f"level {level!r} is no plain name: give its ledger name under keys")
        if len(set(names)) != len(names):
            raise ValueError("two groups have the same ledger name")
        return self


RULES = ("at_least", "above", "at_most", "below", "is_", "bins", "function")


class Derive(Strict):
    """A derived column: a cut-point, a grouping of levels or values, or a function of the study's own."""

    name: str = Field(pattern=NAME, description="the new column's name")
    label: str | None = Field(None, description="how tables and prose name it")
    from_: str | None = Field(None, alias="from", description="the column it is derived from")
    at_least: float | None = Field(None, description="1 when the value is >= this, else 0")
    above: float | None = Field(None, description="1 when the value is > this, else 0")
    at_most: float | None = Field(None, description="1 when the value is <= this, else 0")
    below: float | None = Field(None, description="1 when the value is < this, else 0")
    is_: list[str] | None = Field(None, alias="is", description="1 when the level is one of these, else 0")
    bins: dict[str, float | None] | None = Field(
        None, description="level -> highest value of the level, in order; the last level's is null (open)"
    )
    function: str | None = Field(None, description="a function of the study's derivations module")
    uses: list[str] = Field(default_factory=list, description="the columns the function reads")
    levels: dict[str, str] | None = Field(
        None, description="printed label of each level (cut-points: '0' and '1'), in table order"
    )

    @field_validator("is_", mode="before")
    @classmethod
    def _levels_as_text(cls, value: object) -> object:
        return _texts(value) if isinstance(value, list) else value

    @field_validator("levels", mode="before")
    @classmethod
    def _level_keys(cls, value: object) -> object:
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _one_rule(self) -> Derive:
        given = [r.rstrip("_") for r in RULES if getattr(self, r) is not None]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of {', '.join(r.rstrip('_') for r in RULES)} (given: {given})"
            )
        if self.function is None and self.from_ is None:
            raise ValueError(f"'{given[0]}' needs 'from': the column it is derived from")
        if self.function is not None and not self.uses:
            raise ValueError("a function needs 'uses': the columns it reads")
        if self.bins is not None and (not self.bins or list(self.bins.values())[-1] is not None):
            raise ValueError("bins: the last level is open (null); the others give their highest value")
        return self

    @property
    def sources(self) -> list[str]:
        """The columns this derivation reads."""
        return list(self.uses) if self.function else [self.from_]


class FromDates(Strict):
    """An endpoint from dates: the first event date on or before the cut-off, else censored at the
    last contact (never after the cut-off)."""

    start: str = Field(description="time zero (a date column)")
    events: list[str] = Field(min_length=1, description="event date columns; the earliest counts")
    last_contact: str = Field(
        description="the date of last contact, where patients without an event are censored"
    )


class TimeSource(Strict):
    """A time and its status column; the status value that means the event."""

    time: str
    status: str
    event: str = Field("1", description="the status value that means the event")

    @field_validator("event", mode="before")
    @classmethod
    def _event_as_text(cls, value: object) -> object:
        return str(value)


class FromTimes(Strict):
    """An endpoint from time and status columns (several: the earliest event counts)."""

    unit: Literal["days", "weeks", "months", "years"] = Field(description="the unit of the time columns")
    sources: list[TimeSource] = Field(min_length=1)


class Endpoint(Strict):
    """A time-to-event endpoint."""

    label: str = Field(description="its name in prose ('overall survival')")
    abbreviation: str = Field(description="'OS'")
    event: str = Field(description="the event in prose ('death'), as in 'the risk of death'")
    from_dates: FromDates | None = None
    from_times: FromTimes | None = None
    landmarks: list[float] = Field(default_factory=list, description="months at which rates are reported")

    @model_validator(mode="after")
    def _one_source(self) -> Endpoint:
        if (self.from_dates is None) == (self.from_times is None):
            raise ValueError("give exactly one of from_dates and from_times")
        return self

    @property
    def columns(self) -> list[str]:
        if self.from_dates is not None:
            d = self.from_dates
            return [d.start, *d.events, d.last_contact]
        return [c for s in self.from_times.sources for c in (s.time, s.status)]


class Criterion(Strict):
    """Response criteria and the column holding each patient's best response by them."""

    id: str = Field(pattern=NAME, description="ledger prefix (`<id>.bor.CR.<group>`)")
    name: str = Field(description="as printed, with its version")
    column: str
    primary: bool = Field(
        False, description="the primary criteria: its rates are `orr.<group>`, `dcr.<group>`"
    )


class Response(Strict):
    """Tumour response: best-response categories, which count as response and as disease control."""

    categories: list[str] = Field(min_length=1)
    response: list[str] = Field(min_length=1, description="categories counted as objective response")
    control: list[str] = Field(min_length=1, description="categories counted as disease control")
    criteria: list[Criterion] = Field(min_length=1)
    tests: list[Literal["chi_square", "chi_square_yates"]] = Field(
        default_factory=list, description="tests of the primary ORR besides Fisher's (`orr.chisq.p`)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Response:
        for name in ("response", "control"):
            stray = [c for c in getattr(self, name) if c not in self.categories]
            if stray:
                raise ValueError(f"{name}: {stray} not among the categories {self.categories}")
        if sum(c.primary for c in self.criteria) != 1:
            raise ValueError("exactly one criterion is primary")
        return self


class Table1Variable(Strict):
    """A line of Table 1."""

    column: str
    summary: Literal["median_iqr", "mean_sd", "n_percent"] | None = Field(
        None, description="default: n (%) for a category or a derived column with levels, else median (IQR)"
    )
    label: str | None = Field(None, description="default: the codebook's or the derivation's label")


class Table1(Strict):
    """Baseline characteristics by group, tested as gtsummary does by default (Wilcoxon rank-sum for
    continuous, Pearson's chi-square or Fisher's exact test when an expected count is small)."""

    variables: list[Table1Variable] = Field(min_length=1)


class Selection(Strict):
    """Which candidates enter the multivariable model (the group always does)."""

    rule: Literal["p_below", "all", "list"]
    threshold: float | None = Field(None, gt=0, lt=1, description="for p_below: univariable p below this")
    covariates: list[str] | None = Field(None, description="for list: these candidates")

    @model_validator(mode="after")
    def _complete(self) -> Selection:
        if self.rule == "p_below" and self.threshold is None:
            raise ValueError("rule p_below needs a threshold")
        if self.rule == "list" and not self.covariates:
            raise ValueError("rule list needs covariates")
        return self


class Cox(Strict):
    """Cox regression for every endpoint: univariable screens, then the multivariable model."""

    candidates: list[str] = Field(min_length=1, description="covariate columns (numeric or 0/1)")
    selection: Selection


class Digits(Strict):
    months: int = Field(1, ge=0, le=4)
    percent: int = Field(1, ge=0, le=4)
    hr: int = Field(2, ge=1, le=4)


class Settings(Strict):
    """Conventions of the whole analysis."""

    ci_level: float = Field(0.95, gt=0, lt=1, description="confidence level of every interval")
    alpha: float = Field(0.05, gt=0, lt=1, description="two-sided significance level")
    p_style: Literal["journal", "nejm"] = Field(
        "journal",
        description="journal: '< 0.001' else 3 decimals; nejm: '< 0.001', 3 decimals below 0.01, else 2",
    )
    days_per_month: float = Field(30.4375, gt=0, description="days per month when converting times")
    expected_min: int = Field(5, ge=1, description="smallest expected count for the chi-square test")
    digits: Digits = Field(default_factory=Digits)


class Published(Strict):
    """A figure from the literature, declared with its citation (never typed into the prose)."""

    key: str = Field(pattern=r"^[A-Za-z0-9_.]+$", description="ledger key `published.<key>`")
    value: float
    kind: Literal["hr", "percent", "months", "number", "count", "p"] = "number"
    citation: str = Field(description="the reference's key in references.bib")
    what: str = Field(description="what the figure is, in words")
    digits: int | None = Field(None, ge=0, le=4, description="decimals printed (default: the study's)")
    compare: str | None = Field(
        None,
        description="the ledger key of our estimate of the same quantity, with a CI: "
        "`wording.published.<key>` says whether the published value lies within that CI",
    )


class Verdict(Strict):
    """Sentences chosen by the overall verdict on two groups ('better', 'similar' or 'worse' for the
    non-reference group: a significantly longer or shorter survival on any endpoint)."""

    better: str
    similar: str
    worse: str


class Article(Strict):
    """The study's words that the engine prints."""

    abbreviations: str = Field("", description="the abbreviations footnote of the tables")
    time_origin: str = Field("the start of follow-up", description="time zero in words ('randomisation')")
    names: dict[str, str] = Field(
        default_factory=dict,
        description="names with digits the prose may hold, as regular expressions, each with its reason "
        "(the prose check refuses any other digit typed by hand)",
    )
    summary: dict[str, Verdict] = Field(
        default_factory=dict,
        description="named sentences chosen by the verdict (`wording.summary.<name>`; with three or more "
        "groups, one per non-reference group against the reference: `wording.summary.<name>.<group>`)",
    )
    data_availability: str | None = Field(
        None,
        description="the data-availability statement (`wording.data.availability`), where the "
        "engine's default for real or synthetic data does not fit (e.g. public data)",
    )


class Study(Strict):
    """A study: its data, population, comparison, endpoints, analyses and article settings."""

    data: Data
    population: Population = Field(default_factory=Population)
    comparison: Comparison | None = None
    derive: list[Derive] = Field(default_factory=list)
    endpoints: dict[str, Endpoint] = Field(min_length=1, description="by ledger name ('os')")
    followup: str | None = Field(None, description="the endpoint whose reverse Kaplan-Meier gives follow-up")
    response: Response | None = None
    table1: Table1
    cox: Cox | None = None
    settings: Settings = Field(default_factory=Settings)
    published: list[Published] = Field(default_factory=list)
    article: Article = Field(default_factory=Article)
    reviewer: Reviewer | None = None

    @model_validator(mode="after")
    def _names(self) -> Study:
        if self.followup is not None and self.followup not in self.endpoints:
            raise ValueError(f"followup: {self.followup!r} is not an endpoint ({', '.join(self.endpoints)})")
        names = [d.name for d in self.derive]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"derive: {', '.join(twice)} declared twice")
        return self


# --- what reviewers ask of a non-randomised comparison (each analysis optional) --------------------


class Flow(Strict):
    """The patient flow diagram (STROBE item 13) from the population steps: the source box is
    `population.source`, one side box per step with its exclusions, the patients analysed, the groups."""

    analysed: str = Field("Patients analysed", description="the box of the patients analysed")
    exclusions: dict[str, str] = Field(
        default_factory=dict,
        description="step id -> the words of its exclusion box; default 'Excluded: not <step label>'",
    )


class Iptw(Strict):
    """Propensity-score weighting of the two groups (the non-reference level is 'treated'): the score
    from a logistic model on the covariates, weights, balance, weighted Kaplan-Meier and Cox."""

    covariates: list[str] = Field(min_length=1, description="covariate columns of the score (numeric or 0/1)")
    estimand: Literal["ATE", "ATT"] = Field(
        "ATE", description="ATE: the whole cohort; ATT: the treated group"
    )
    stabilised: bool = Field(False, description="stabilised ATE weights (each group's share of patients)")
    trim: float | None = Field(
        None, gt=50, lt=100, description="weights above this percentile set to it (none: no trimming)"
    )
    endpoints: list[str] | None = Field(None, description="endpoints analysed (default: all)")
    balance_threshold: float = Field(0.1, gt=0, description="the SMD a covariate is balanced under")

    @model_validator(mode="after")
    def _stabilised_ate(self) -> Iptw:
        if self.stabilised and self.estimand != "ATE":
            raise ValueError("stabilised weights are defined for the ATE (ATT weights need no stabilisation)")
        return self


class Subgroups(Strict):
    """The group's HR within each level of each subgroup variable, and the p-value for interaction."""

    variables: list[str] = Field(min_length=1, description="subgroup columns (categories or 0/1)")
    endpoints: list[str] | None = Field(None, description="endpoints analysed (default: all)")


class RmstSpec(Strict):
    """Restricted mean survival time per group and its difference, up to a horizon per endpoint."""

    horizon: dict[str, float] = Field(min_length=1, description="endpoint -> horizon in months")


class EValueSpec(Strict):
    """E-values (VanderWeele and Ding 2017) of the group's HR and of its CI limit closer to 1."""

    endpoints: list[str] | None = Field(None, description="endpoints (default: all)")
    hr: Literal["iptw", "adjusted", "unadjusted"] = Field(
        "iptw", description="which HR: the IPTW-weighted, the multivariable or the univariable Cox model's"
    )
    outcome: Literal["common", "rare"] = Field(
        "common", description="common (over 15% had the event: the square-root transform) or rare"
    )


class Reviewer(Strict):
    """Analyses reviewers ask of a non-randomised two-group comparison, each declared or omitted."""

    flow: Flow | None = None
    iptw: Iptw | None = None
    subgroups: Subgroups | None = None
    rmst: RmstSpec | None = None
    evalue: EValueSpec | None = None


Study.model_rebuild()  # the study refers to the reviewer section, defined after it
