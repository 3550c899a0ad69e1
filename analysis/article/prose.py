"""Checks on the manuscript source: no hand-typed number in prose, and word counts.

Every number a reader sees must come from an inline expression; the few digits that are names
(a version of response criteria, a trial's name, a grant identifier) are allowed by an explicit
list in the study file (`article.names`, read here as plain YAML), each with its reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from analysis.errors import Problem, UserError
from analysis.results.ledger import Ledger

#: names with digits that any article may print (the study file adds its own: `article.names`)
ALLOWED: dict[str, str] = {}
NUMBER = re.compile(r"\d")
STRIP = [
    re.compile(r"^(`{3,}|~{3,}).*?^\1\s*$", re.S | re.M),  # fenced code and chunks
    re.compile(r"`[^`]*`"),  # inline code and inline expressions
    re.compile(r"\{\{<.*?>\}\}"),  # shortcodes such as {{< var n.total.text >}}
    re.compile(r"\[-?@[^\]]*\]"),  # bracketed citations
    re.compile(r"(?<![\w@])@[\w:.#$%&\-+?<>~/]+"),  # bare citations and cross-references
    re.compile(r"\{[#.][^}]*\}"),  # attributes
    re.compile(r"\]\([^)]*\)"),  # link and image targets
    re.compile(r"<!--.*?-->", re.S),  # comments
]
MAIN_SECTIONS = ("Introduction", "Materials and methods", "Results", "Discussion", "Conclusions")


@dataclass(frozen=True)
class Source:
    front: dict
    body: str
    body_line: int


def read_source(path: Path) -> Source:
    text = path.read_text(encoding="utf-8")
    if text.startswith("---"):
        end = text.index("\n---", 3)
        return Source(yaml.safe_load(text[3:end]) or {}, text[end + 4 :], text[: end + 4].count("\n") + 1)
    return Source({}, text, 1)


def _blank(match: re.Match) -> str:
    return re.sub(r"[^\n]", " ", match.group(0))


def allowed_names(manuscript: Path) -> dict[str, str]:
    """The names with digits the study file beside the manuscript allows (`article.names`: a regular
    expression per name, with its reason), and the engine's own."""
    study = Path(manuscript).with_name("study.yaml")
    try:
        content = yaml.safe_load(study.read_text(encoding="utf-8")) or {}
        names = (content.get("article") or {}).get("names") or {}
    except (OSError, yaml.YAMLError, AttributeError):
        names = {}  # a broken study file is reported by the analysis, with its line
    return ALLOWED | {str(k): str(v) for k, v in names.items()} if isinstance(names, dict) else dict(ALLOWED)


def prose_only(text: str, allowed: dict[str, str] | None = None) -> str:
    """The text a reader sees, minus code, expressions, citations, attributes and allowed names (line
    breaks kept)."""
    for pattern in STRIP:
        text = pattern.sub(_blank, text)
    for pattern in allowed if allowed is not None else ALLOWED:
        text = re.sub(pattern, _blank, text)
    return text


def hand_typed_numbers(path: Path) -> list[Problem]:
    """Every digit in the prose (front-matter abstract included) that no inline expression produced."""
    source = read_source(path)
    allowed = allowed_names(path)
    problems = []
    parts = [(str(source.front.get(key, "")), 1, key) for key in ("title", "abstract", "running-title")]
    parts.append((source.body, source.body_line, None))
    for text, start_line, key in parts:
        for offset, line in enumerate(prose_only(text, allowed).split("\n")):
            for match in re.finditer(r"\S*\d\S*", line):
                where = start_line + offset if key is None else 1
                column = f"front matter '{key}'" if key else None
                problems.append(
                    Problem(
                        path.name,
                        where,
                        column,
                        match.group(0),
                        "number typed in prose; inline it from the ledger",
                    )
                )
    return problems


class HandTypedNumbers(UserError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(self.report())

    def report(self) -> str:
        lines = [f"{len(self.problems)} hand-typed number(s) in the manuscript:"]
        return "\n".join(lines + [f"  - {p}" for p in self.problems])


def check_manuscript(path: str | Path = "manuscript.qmd") -> None:
    """Stop the build when the prose holds a number that does not come from the analysis."""
    problems = hand_typed_numbers(Path(path))
    if problems:
        raise HandTypedNumbers(problems)


def _words(text: str, allowed: dict[str, str] | None = None) -> int:
    text = re.sub(r"`\{python\}[^`]*`|\{\{< var [^>]*>\}\}", " X ", text)
    return len(re.findall(r"[A-Za-z0-9][\w'’\-–.%/]*", prose_only(text, allowed)))


def word_counts(path: str | Path = "manuscript.qmd") -> dict[str, int]:
    """Words in the abstract and in the main text (Introduction to Conclusions, no tables or legends)."""
    source = read_source(Path(path))
    allowed = allowed_names(Path(path))
    abstract = _words(str(source.front.get("abstract", "")), allowed)
    main, counting = 0, False
    for block in re.split(r"^(?=# )", source.body, flags=re.M):
        heading = block.split("\n", 1)[0].lstrip("# ").split("{")[0].strip()
        if block.startswith("# "):
            counting = heading in MAIN_SECTIONS
        if counting:
            main += _words(block.split("\n", 1)[1] if "\n" in block else "", allowed)
    return {"abstract": abstract, "main": main}


def add_word_counts(ledger: Ledger, manuscript: str | Path) -> None:
    """The manuscript's word counts as ledger entries (`manuscript.words.abstract`, `.main`)."""
    for part, words in word_counts(manuscript).items():
        ledger.add(
            f"manuscript.words.{part}",
            words,
            "count",
            "words in the manuscript source",
            "analysis.article.prose.word_counts",
        )


def add_arguments(parser) -> None:
    parser.add_argument("paths", nargs="*", default=["manuscript.qmd"], help="default: manuscript.qmd")


def command(args) -> int:
    """Check manuscripts for hand-typed numbers and count their words (exit 2 on a typed number)."""
    return main(args.paths)


def main(argv: list[str] | None = None) -> int:
    """`python -m analysis prose manuscript.qmd`: report hand-typed numbers and word counts."""
    import sys

    paths = (argv if argv is not None else sys.argv[1:]) or ["manuscript.qmd"]
    status = 0
    for path in paths:
        if not Path(path).is_file():
            print(f"{path}: no such manuscript file", file=sys.stderr)
            status = 2
            continue
        problems = hand_typed_numbers(Path(path))
        if problems:
            print(HandTypedNumbers(problems).report(), file=sys.stderr)
            status = 2
            continue
        counts = word_counts(path)
        print(
            f"{path}: no hand-typed number; abstract {counts['abstract']} words, main text {counts['main']}"
        )
    return status


if __name__ == "__main__":
    raise SystemExit(main())
