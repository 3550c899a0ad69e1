"""The ledger as Quarto variables (`_variables.yml`), for text that Quarto reads before any code runs.

Quarto evaluates the front matter (the structured abstract) before the first chunk, so numbers
there cannot come from the setup chunk; `{{< var KEY.FORM >}}` reads them from `_variables.yml`,
which the project's pre-render step writes from the same cached analysis. Each ledger key is a
node of nested mappings (`os.median.first_line` -> `os: median: first_line:`), holding its forms:

- `text`: the number as printed, e.g. `6.8`;
- `with_ci`: estimate and interval, e.g. `6.8 (95% CI 5.3–9.7)`, where the key has a `.ci` entry;
- `clause`: a p-value as it stands in a sentence, `p = 0.073`, for keys ending in `.p`.

Every form is the entry's Markdown (a span carrying its key, method and source), so a number from
a variable keeps its provenance in HTML exactly as an inline expression does.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from analysis.ledger import Ledger

FORMS = ("text", "with_ci", "clause")
SHORTCODE = re.compile(r"\{\{<\s*var\s+(?P<name>[^\s>]+)\s*>\}\}")
HEADER = "# Written by the pre-render step from the analysis ledger; do not edit. inputs: "


def forms(ledger: Ledger, key: str) -> dict[str, str]:
    """The Markdown of each form a ledger key can be printed in."""
    out = {"text": ledger[key]._repr_markdown_()}
    if f"{key}.ci" in ledger and "config.ci_level" in ledger:
        out["with_ci"] = ledger.with_ci(key)._repr_markdown_()
    if key.endswith(".p") and isinstance(ledger[key].value, float):
        out["clause"] = ledger.p(key)._repr_markdown_()
    return out


def quarto_variables(ledger: Ledger) -> dict:
    """Nested mappings, one node per ledger key, its forms as leaves."""
    tree: dict = {}
    for key in ledger.keys():  # noqa: SIM118 (Ledger iterates entries, not keys)
        node = tree
        for part in key.split("."):
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"ledger key {key!r} passes through a form name of a shorter key")
        for form, markdown in forms(ledger, key).items():
            if form in node:
                raise ValueError(f"ledger key {key!r}: its form {form!r} is also a longer key's part")
            node[form] = markdown
    return tree


def write_variables(ledger: Ledger, path: Path, inputs: str) -> None:
    """Write `_variables.yml` (deterministic: sorted keys, the inputs' digest in the first line)."""
    body = yaml.safe_dump(quarto_variables(ledger), sort_keys=True, allow_unicode=True, width=1000)
    path.write_text(f"{HEADER}{inputs}\n{body}", encoding="utf-8")


def written_for(path: Path) -> str | None:
    """The inputs' digest a variables file was written for, or None."""
    if not path.exists():
        return None
    first = path.read_text(encoding="utf-8").split("\n", 1)[0]
    return first[len(HEADER) :] if first.startswith(HEADER) else None


def keys_used(text: str) -> list[str]:
    """Ledger keys read through `{{< var KEY.FORM >}}` in a manuscript's text, in order."""
    keys = []
    for match in SHORTCODE.finditer(text):
        key, _, form = match.group("name").rpartition(".")
        if form in FORMS and key not in keys:
            keys.append(key)
    return keys
