"""The ledger as Quarto variables (`_variables.yml`), for text that Quarto reads before any code runs.

Quarto evaluates the front matter (the structured abstract) before the first chunk, so numbers
there cannot come from the setup chunk; `{{< var KEY.FORM >}}` reads them from `_variables.yml`,
which the project's pre-render step writes from the same cached analysis. Each ledger key is a
node of nested mappings (`os.median.treated` -> `os: median: treated:`), holding its forms:

- `text`: the number as printed, e.g. `6.8`;
- `with_ci`: estimate and interval, e.g. `6.8 (95% CI 5.3–9.7)`, where the key has a `.ci` entry;
- `clause`: a p-value as it stands in a sentence, `p = 0.073`, for keys ending in `.p`.

Every form is the entry's Markdown (a span carrying its key, method and source), so a number from
a variable keeps its provenance in HTML exactly as an inline expression does.

Entries whose text cites a reference (the Methods' software sentence cites lifelines) are variables
too. Quarto reads `_variables.yml` into the document's metadata (`_quarto-vars`), where citeproc
would collect every citation, used or not, ahead of the body's and number that reference first;
the title-block filter (qrender/filters/titleblock.lua, after shortcodes) removes them from the
metadata before citeproc runs, so only the body's citations, in their places, are numbered.
qrender puts variables into the text before pandoc reads it, as citations of the body.

`_variables.yml` holds only the ledger keys the text reads (`used_yaml`): each variable Quarto reads
is Markdown in the document's metadata, which every one of its filters walks in every format.

The text reads the project's `supplement/*.yaml` files (doses, regimens: words, not results) as
`{{< var supplement.FILE.KEY... >}}` (`supplement_yaml`).

With no inline `{python}` expression left, Quarto can cache the document's execution (`execute:
cache: true`, jupyter-cache, keyed on the code cells: a prose edit runs no code).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

from analysis.article.prose import add_word_counts
from analysis.results.ledger import Ledger

FORMS = ("text", "with_ci", "clause")
CITATION = re.compile(r"(?<![\w@])@[A-Za-z0-9_]")
SHORTCODE = re.compile(r"\{\{<\s*var\s+(?P<name>[^\s>]+)\s*>\}\}")
HEADER = "# Written by the pre-render step from the analysis ledger; do not edit. inputs: "
TOP_KEY = re.compile(r"^([^\s#][^:\n]*):", re.M)
#: where the pre-render step records the keys the manuscript reads through `{{< var >}}`
KEYS_USED = Path(".cache") / "manuscript" / "variables-used.txt"


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
        printed = forms(ledger, key)
        node = tree
        for part in key.split("."):
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"ledger key {key!r} passes through a form name of a shorter key")
        for form, markdown in printed.items():
            if form in node:
                raise ValueError(f"ledger key {key!r}: its form {form!r} is also a longer key's part")
            node[form] = markdown
    return tree


def variables_yaml(ledger: Ledger) -> str:
    """The ledger as YAML for `_variables.yml` (sorted keys: the same ledger gives the same bytes)."""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    tree = quarto_variables(ledger)
    return yaml.dump(tree, Dumper=dumper, sort_keys=True, allow_unicode=True, width=1000)


def used_yaml(body: str, keys: list[str]) -> str:
    """The part of a variables YAML body (`variables_yaml`) that the given ledger keys read, in the
    same form. Quarto parses every variable as Markdown into the document's metadata, which each of
    its filters walks in each format: the whole ledger there costs seconds per render, the keys the
    manuscript reads almost nothing."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    tree = yaml.load(body, Loader=loader) or {}
    out: dict = {}
    for key in keys:
        node = tree
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            continue  # not in this body (another body's key, or not a ledger key)
        target = out
        for part in key.split("."):
            target = target.setdefault(part, {})
        target.update({form: node[form] for form in FORMS if form in node})
    if not out:
        return ""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(out, Dumper=dumper, sort_keys=True, allow_unicode=True, width=1000)


def manuscript_yaml(manuscript: Path) -> str:
    """The manuscript's word counts as variables (`manuscript.words.main.text`): they change with
    the prose, so they are written on every build, apart from the cached analysis."""
    ledger = Ledger()
    add_word_counts(ledger, manuscript)
    return variables_yaml(ledger)


def write_variables(path: Path, inputs: str, *bodies: str) -> bool:
    """Write `_variables.yml` from YAML bodies whose top-level keys differ, the inputs' digest in the
    first line; only when its content changes. Returns whether it was written."""
    seen: set[str] = set()
    for body in bodies:
        top = set(TOP_KEY.findall(body))
        if top & seen:
            raise ValueError(f"variables: top-level key(s) {sorted(top & seen)} given twice")
        seen |= top
    text = f"{HEADER}{inputs}\n" + "".join(bodies)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    partial = path.with_name(f".{path.name}.partial")  # replaced in one step: a build never reads half
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
    return True


def record_keys_used(text: str, path: Path = KEYS_USED) -> None:
    """Write the ledger keys a manuscript reads through `{{< var >}}`, one per line, for its code
    to track as printed (`read_keys_used`) without reading the manuscript itself."""
    content = "".join(f"{key}\n" for key in keys_used(text))
    if path.exists() and path.read_text(encoding="utf-8") == content:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")


def read_keys_used(path: Path = KEYS_USED) -> list[str]:
    """The keys `record_keys_used` wrote (the pre-render step writes them before any chunk runs)."""
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: the pre-render step (prerender.py) writes it")
    return path.read_text(encoding="utf-8").split()


def keys_used(text: str) -> list[str]:
    """Ledger keys read through `{{< var KEY.FORM >}}` in a manuscript's text, in order."""
    keys = []
    for match in SHORTCODE.finditer(text):
        key, _, form = match.group("name").rpartition(".")
        if form in FORMS and key not in keys:
            keys.append(key)
    return keys


def supplement_yaml(root: Path, text: str) -> str:
    """The project's `supplement/FILE.yaml` files that the text reads as `{{< var supplement.FILE... >}}`,
    as a variables YAML body under `supplement:` (words the authors keep beside the data, such as
    regimens, printed as written)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    stems = {m.group("name").split(".")[1] for m in SHORTCODE.finditer(text)
             if m.group("name").startswith("supplement.") and m.group("name").count(".") >= 2}
    tree = {}
    for stem in sorted(stems):
        path = root / "supplement" / f"{stem}.yaml"
        if not path.is_file():
            raise FileNotFoundError(f"{{{{< var supplement.{stem}... >}}}}: {path} not found")
        tree[stem] = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    if not tree:
        return ""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump({"supplement": tree}, Dumper=dumper, sort_keys=True, allow_unicode=True, width=1000)
