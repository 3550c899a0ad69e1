"""Errors that end a command cleanly: a report for the user, an exit code, no traceback."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One broken rule in an input file, located as precisely as the rule allows."""

    file: str
    row: int | None
    column: str | None
    value: object
    rule: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        value = "" if self.value is None else f": value {self.value!r}"
        return f"{', '.join(where)}{value}: {self.rule}"


class UserError(Exception):
    """A problem the user can fix; the command prints it and exits with `exit_code`."""

    exit_code = 2

    def report(self) -> str:
        return str(self)


class CohortError(UserError):
    """The cohort file broke one or more rules; holds every problem found, not just the first."""

    def __init__(self, problems: list[Problem], file: str = "") -> None:
        self.problems = list(problems)
        self.file = file
        super().__init__(self.report())

    def report(self) -> str:
        head = f"{len(self.problems)} problem(s) in {self.file or 'the cohort file'}:"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])
