"""The article's self-consistency check finds contradictions planted in a ledger."""

from __future__ import annotations

import dataclasses

import pytest

import analysis
from analysis.results.consistency import Contradiction, check, contradictions
from tests.conftest import COHORT


@pytest.fixture
def ledger():
    return analysis.run(COHORT).ledger


def plant(ledger, key: str, **changes) -> None:
    ledger._entries[key] = dataclasses.replace(ledger[key], **changes)


def test_fresh_ledger_is_consistent(ledger):
    assert contradictions(ledger) == []


@pytest.mark.parametrize(
    ("key", "changes", "needle"),
    [
        ("n.first_line", {"value": 84, "text": "84"}, "group sizes sum"),
        ("orr.post_ate_beva", {"text": "36.3%"}, "orr.post_ate_beva: printed 36.3%"),
        ("os.median.first_line", {"value": 20.0, "text": "20.0"}, "outside its CI"),
        ("os.cox.multi.group.p", {"value": 0.4, "text": "0.400"}, "disagree"),
    ],
)
def test_planted_contradiction_is_found(ledger, key, changes, needle):
    plant(ledger, key, **changes)
    found = contradictions(ledger)
    assert any(needle in f for f in found), found
    with pytest.raises(Contradiction):
        check(ledger)
