"""`docs/study-file.md`, generated from the schema: `python -m analysis.plan.docs > docs/study-file.md`.

Every section of the study file with its keys, types, defaults and descriptions, read from the
pydantic models of `analysis.plan.schema`, then a full example (the root study's own study.yaml).
A test checks that the committed file is what this writes, so the reference cannot drift from the
schema.
"""

from __future__ import annotations

import sys
import types
import typing
from pathlib import Path

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from analysis.plan.schema import Study

EXAMPLE = Path(__file__).resolve().parents[2] / "study.yaml"

INTRO = """# The study file (`study.yaml`)

A study is a folder: `study.yaml`, the data with its metadata and codebook, the prose
(`manuscript.qmd`), `references.bib`, `_quarto.yml`, and at most a small module of the study's own
derivations. The engine (`analysis/`) reads `study.yaml` and computes every number of the article
from it; nothing about a study is written in the engine. `python -m analysis new FOLDER --data
export.csv` drafts a study folder from an export.

The file is checked before anything runs: its form by the schema below (types, required keys; an
unknown key is refused, so a typo is never ignored), then its meaning (every column and level it
names exists in the codebook, derived columns form no circle, the derivation functions exist), then,
with the data loaded, that every declared group has patients. Every problem is reported at once,
with the file, the line and the key; the build stops without a traceback and keeps the outputs of
the last good build.

Ledger keys follow the names given here: endpoint `os` gives `os.median.<group>`, `os.rate12.<group>`,
`os.logrank.p`, `os.cox.uni.<term>.hr` and `os.cox.multi.<term>.hr`, where a group is named by its
level (or by `comparison.keys`) and the group term by `comparison.key` (`<key>.<group>` when more
than two groups are compared); Table 1 cells are `baseline.<column>.<level>.<group>`; response rates
`orr.<group>`, `dcr.<group>` (primary criteria) and `<id>.orr.<group>` (others); selection steps
`population.<id>.excluded`; published figures `published.<key>`.

The codebook (`data.codebook`) says what each column of the data holds: `type` (string, category,
integer, number, date), `values` and their printed `labels` (in table order), `min`/`max`, `unit`,
`required`, `unique`, `pattern`, `description`, and for the builder: `label` (how Table 1 names the
column), `applies_to: {column: level}` (filled only for patients with that level), `per_record: true`
(in long data, a column that differs between a patient's rows); and, beside `columns`, `date_order`
(`{later, earlier, rule}`: dates in clinical order), `not_after_cutoff` (dates that may not lie after
the metadata's cut-off) and `recodes` (the spellings an export may use for the codebook's terms).

This page is generated from `analysis/plan/schema.py` by `python -m analysis.plan.docs`.
"""


def type_name(annotation: object) -> str:
    """A field's type as the study file writes it."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        names = [type_name(a) for a in args if a is not type(None)]
        return " or ".join(names)
    if origin is typing.Literal:
        return " | ".join(f"`{a}`" for a in args)
    if origin is list:
        return f"list of {type_name(args[0])}"
    if origin is dict:
        return f"mapping of {type_name(args[0])} to {type_name(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    return {str: "text", int: "integer", float: "number", bool: "true/false"}.get(annotation, str(annotation))


def models(root: type[BaseModel] = Study) -> list[type[BaseModel]]:
    """Every model reachable from the root, in the order first met."""
    found: list[type[BaseModel]] = []

    def visit(model: type[BaseModel]) -> None:
        if model in found:
            return
        found.append(model)
        for field in model.model_fields.values():
            for arg in _leaves(field.annotation):
                if isinstance(arg, type) and issubclass(arg, BaseModel):
                    visit(arg)

    visit(root)
    return found


def _leaves(annotation: object) -> list:
    args = typing.get_args(annotation)
    return [leaf for a in args for leaf in _leaves(a)] if args else [annotation]


def default_text(field) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        return "optional"
    if field.default is None or field.default is PydanticUndefined:
        return "optional"
    return f"default `{field.default}`"


def section(model: type[BaseModel]) -> str:
    title = "study.yaml" if model is Study else model.__name__
    doc = " ".join((model.__doc__ or "").split())
    lines = [
        f"## {title}",
        "",
        f'<a id="{model.__name__.lower()}"></a>',
        "",
        doc,
        "",
        "| key | type | | description |",
    ]
    lines.append("|---|---|---|---|")
    for name, field in model.model_fields.items():
        key = field.alias or name
        nested = [a for a in _leaves(field.annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
        fallback = " ".join((nested[0].__doc__ or "").split()) if nested else ""
        description = (field.description or fallback).replace("|", "\\|")
        lines.append(f"| `{key}` | {type_name(field.annotation)} | {default_text(field)} | {description} |")
    return "\n".join(lines) + "\n"


def document(example: Path = EXAMPLE) -> str:
    parts = [INTRO, *(section(m) for m in models())]
    title = "## A full example: the study at the root of the repository"
    parts.append(f"{title}\n\n```yaml\n" + example.read_text(encoding="utf-8") + "```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    sys.stdout.write(document())
