"""Refuse direct identifiers before anything is read further or written anywhere."""

from __future__ import annotations

import re

import pandas as pd

from analysis.errors import Problem

IDENTIFIER_HEADERS = re.compile(
    r"(^|_)(name|surname|first_?name|last_?name|rrn|resident|registration_?no|jumin|ssn|phone|tel|"
    r"mobile|cell|address|addr|street|zip|postcode|email|birth|dob|mrn|hospital_?id|chart_?no)(_|$)"
    r"|성명|이름|주민|전화|휴대|주소|생년월일",
    re.IGNORECASE,
)
IDENTIFIER_VALUES = {  # the whole cell, surrounding spaces allowed
    what: re.compile(rf"^\s*(?:{body})\s*$", re.IGNORECASE)
    for what, body in {
        "a resident registration number": r"\d{6}-?[1-8]\d{6}",
        "a phone number": r"(\+82[- ]?)?0?1[016789][- ]?\d{3,4}[- ]?\d{4}|0\d{1,2}-\d{3,4}-\d{4}",
        "an e-mail address": r"[^@\s]+@[^@\s]+\.[a-z]{2,}",
    }.items()
}
PRIVACY_RULE = (
    "looks like a direct patient identifier ({what}); remove it from the export. "
    "Only pseudonymous study numbers may enter data/ (nothing was written)"
)


def identifier_problems(frame: pd.DataFrame, file: str) -> list[Problem]:
    """Columns whose header or values look like names, RRNs, phones, addresses or birth dates."""
    problems = []
    for column in frame.columns:
        if IDENTIFIER_HEADERS.search(str(column)):
            problems.append(Problem(file, None, str(column), None, PRIVACY_RULE.format(what="its header")))
            continue
        values = frame[column].dropna().astype(str)
        distinct = pd.Series(values.unique())
        for what, pattern in IDENTIFIER_VALUES.items():
            hits = distinct[distinct.str.match(pattern)]
            if len(hits):
                row = int(values.index[values == hits.iloc[0]][0]) + 2
                problems.append(Problem(file, row, str(column), "(withheld)", PRIVACY_RULE.format(what=what)))
                break
    return problems
