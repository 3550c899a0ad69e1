"""What a build did, step by step: each step's time and whether it ran or was reused from the cache.

Printed as the build goes (to stderr, beside the scripts' own messages) and written as JSON to
`.cache/qrender/report.json`, which tests and tools read.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TextIO


@dataclass
class Step:
    kind: str  # pre-render, chunk, inline, format, post-render, ...
    name: str
    status: str  # ran, reused, written, failed
    seconds: float
    details: list[str] = field(default_factory=list)


class Progress:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.steps: list[Step] = []
        self.started = time.perf_counter()

    def step(
        self, kind: str, name: str, status: str, seconds: float, details: list[str] | None = None,
        echo: bool = True,
    ) -> Step:
        """Record a finished step and print it (its details too, unless they were shown already)."""
        step = Step(kind, name, status, round(seconds, 4), list(details or []))
        self.steps.append(step)
        time_text = f"{seconds:6.2f} s" if status != "reused" else ""
        print(f"qrender: {kind} {name}".ljust(52) + f" {status:<7} {time_text}".rstrip(), file=self.stream)
        for line in step.details if echo else []:
            print(f"           {line}", file=self.stream)
        self.stream.flush()
        return step

    def reused(self, kind: str | None = None) -> list[str]:
        return [s.name for s in self.steps if s.status == "reused" and kind in (None, s.kind)]

    def ran(self, kind: str | None = None) -> list[str]:
        return [s.name for s in self.steps if s.status != "reused" and kind in (None, s.kind)]

    def total(self) -> float:
        return time.perf_counter() - self.started

    def summary(self) -> str:
        units = [s for s in self.steps if s.kind in ("chunk", "inline", "front")]
        reused = sum(s.status == "reused" for s in units)
        return f"built in {self.total():.2f} s; {reused} of {len(units)} code units reused from the cache"

    def write(self, path: Path, outcome: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        steps = [asdict(s) for s in self.steps]
        report = {"outcome": outcome, "seconds": round(self.total(), 4), "steps": steps}
        path.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
