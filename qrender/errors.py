"""Errors that stop a build with a message for the author instead of a traceback."""

from __future__ import annotations


class BuildError(Exception):
    """The document cannot be built as written; `exit_code` 2 for input errors, 1 for failed code."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def located(path: str, line: int, message: str) -> str:
    """`file:line: message`, the form editors jump to."""
    return f"{path}:{line}: {message}"
