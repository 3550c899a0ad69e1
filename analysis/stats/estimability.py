"""A result that could not be estimated, and why: what the tables print instead of a number.

The reviewer analyses (weighting, subgroups, RMST) return a `NotEstimable` where the data do not
identify the estimate (groups separated by the covariates, a subgroup level without events, a horizon
beyond the follow-up), so that no NaN and no traceback reaches a table.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NotEstimable:
    """`what` could not be estimated; `reason` says why, in words a table can print."""

    what: str
    reason: str

    def __str__(self) -> str:
        return f"{self.what}: not estimable ({self.reason})"
