"""Small WordprocessingML helpers: children in schema order, text of an element, page geometry.

Word and LibreOffice both refuse or misread properties written out of the order the schema fixes,
so every property is inserted through `child`, which knows that order for the elements we touch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from docx.oxml import OxmlElement
from docx.oxml.ns import qn

#: Schema order of the property elements this package writes (ECMA-376 part 1, section 17).
ORDER = {
    "w:pPr": (
        "pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl", "numPr",
        "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap",
        "overflowPunct", "topLinePunct", "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd",
        "snapToGrid", "spacing", "ind", "contextualSpacing", "mirrorIndents", "suppressOverlap", "jc",
        "textDirection", "textAlignment", "textboxTightWrap", "outlineLvl", "divId", "cnfStyle", "rPr",
        "sectPr", "pPrChange",
    ),
    "w:rPr": (
        "rStyle", "rFonts", "b", "bCs", "i", "iCs", "caps", "smallCaps", "strike", "dstrike", "outline",
        "shadow", "emboss", "imprint", "noProof", "snapToGrid", "vanish", "webHidden", "color", "spacing",
        "w", "kern", "position", "sz", "szCs", "highlight", "u", "effect", "bdr", "shd", "fitText",
        "vertAlign", "rtl", "cs", "em", "lang", "eastAsianLayout", "specVanish", "oMath",
    ),
    "w:tblPr": (
        "tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize", "tblStyleColBandSize",
        "tblW", "jc", "tblCellSpacing", "tblInd", "tblBorders", "shd", "tblLayout", "tblCellMar",
        "tblLook", "tblCaption", "tblDescription", "tblPrChange",
    ),
    "w:trPr": (
        "cnfStyle", "divId", "gridBefore", "gridAfter", "wBefore", "wAfter", "cantSplit", "trHeight",
        "tblHeader", "tblCellSpacing", "jc", "hidden",
    ),
    "w:tcPr": (
        "cnfStyle", "tcW", "gridSpan", "hMerge", "vMerge", "tcBorders", "shd", "noWrap", "tcMar",
        "textDirection", "tcFitText", "vAlign", "hideMark",
    ),
    "w:tblBorders": ("top", "start", "left", "bottom", "end", "right", "insideH", "insideV"),
    "w:tcBorders": ("top", "start", "left", "bottom", "end", "right", "insideH", "insideV", "tl2br", "tr2bl"),
    "w:sectPr": (
        "headerReference", "footerReference", "footnotePr", "endnotePr", "type", "pgSz", "pgMar",
        "paperSrc", "pgBorders", "lnNumType", "pgNumType", "cols", "formProt", "vAlign", "noEndnote",
        "titlePg", "textDirection", "bidi", "rtlGutter", "docGrid", "printerSettings",
    ),
}
#: Where a property element sits in its parent: the parent's own properties come first.
PROPERTIES_FIRST = {"w:p": "w:pPr", "w:r": "w:rPr", "w:tbl": "w:tblPr", "w:tr": "w:trPr", "w:tc": "w:tcPr"}


def tag(element) -> str:
    """`w:name` for an element of the main namespace."""
    return "w:" + element.tag.rsplit("}", 1)[-1]


def properties(element):
    """The element's property child (`w:pPr` of a `w:p`, ...), created first in it when missing."""
    name = PROPERTIES_FIRST[tag(element)]
    found = element.find(qn(name))
    if found is None:
        found = OxmlElement(name)
        element.insert(0, found)
    return found


def child(parent, name: str, **attributes: str):
    """Get or insert the child `w:<name>` at its place in the schema order; set its attributes."""
    found = parent.find(qn(f"w:{name}"))
    if found is None:
        found = OxmlElement(f"w:{name}")
        order = ORDER[tag(parent)]
        later = set(order[order.index(name) + 1 :])
        for index, existing in enumerate(parent):
            if existing.tag.rsplit("}", 1)[-1] in later:
                parent.insert(index, found)
                break
        else:
            parent.append(found)
    for key, value in attributes.items():
        found.set(qn(f"w:{key}"), str(value))
    return found


def drop(parent, name: str) -> None:
    for found in parent.findall(qn(f"w:{name}")):
        parent.remove(found)


def text_of(element) -> str:
    """The visible text under an element: runs' text, tabs as spaces."""
    parts = []
    for node in element.iter(qn("w:t"), qn("w:tab"), qn("w:br")):
        parts.append(node.text or "" if node.tag == qn("w:t") else " ")
    return "".join(parts)


LENGTH = re.compile(r"^\s*([0-9.]+)\s*(cm|mm|in|pt)\s*$")
TWIPS = {"cm": 1440 / 2.54, "mm": 144 / 2.54, "in": 1440, "pt": 20}
PAPERS = {"a4": ("21cm", "29.7cm"), "a5": ("14.8cm", "21cm"), "us-letter": ("8.5in", "11in")}


def twips(length: str | int | float) -> int:
    """A typst/CSS length ("2.2cm", "25mm", "1in", "72pt") in twentieths of a point."""
    match = LENGTH.match(str(length))
    if not match:
        raise ValueError(f"not a length in cm, mm, in or pt: {length!r}")
    return round(float(match.group(1)) * TWIPS[match.group(2)])


@dataclass(frozen=True)
class Page:
    """A portrait page and its margins, in twips; `text_width` for portrait and landscape."""

    width: int
    height: int
    margin_x: int
    margin_y: int

    @property
    def text_width(self) -> int:
        return self.width - 2 * self.margin_x

    @property
    def landscape_text_width(self) -> int:
        return self.height - 2 * self.margin_x


def page_from_options(options: dict) -> Page:
    """The page of the typst format (`papersize`, `margin` in _quarto.yml), so Word prints on the same
    paper with the same margins as the PDF. Defaults: A4 with 2.5 cm margins."""
    paper = str(options.get("papersize", "a4")).lower()
    if paper not in PAPERS:
        raise ValueError(f"papersize {paper!r} is not one of {sorted(PAPERS)}")
    width, height = (twips(x) for x in PAPERS[paper])
    margin = options.get("margin", {}) or {}
    if not isinstance(margin, dict):
        margin = {"x": margin, "y": margin}
    x = twips(margin.get("x", margin.get("left", "2.5cm")))
    y = twips(margin.get("y", margin.get("top", "2.5cm")))
    return Page(width, height, x, y)


class TextWidth:
    """Widths of text as Word or LibreOffice set it, measured with DejaVu Serif (shipped with
    matplotlib, so the same on every machine). DejaVu Serif is wider than Times New Roman and its
    metric twin Liberation Serif, and it is what LibreOffice draws when neither is installed, so a
    width measured here is enough wherever the document is opened."""

    def __init__(self) -> None:
        import importlib.util
        import os

        from fontTools.ttLib import TTFont

        # matplotlib's data folder, found without importing matplotlib (0.2 s the post-render
        # step would spend on every build)
        package = importlib.util.find_spec("matplotlib").submodule_search_locations[0]
        fonts = os.path.join(package, "mpl-data", "fonts", "ttf")
        self._faces = {}
        for bold, name in ((False, "DejaVuSerif.ttf"), (True, "DejaVuSerif-Bold.ttf")):
            font = TTFont(os.path.join(fonts, name), lazy=True)
            metrics, cmap = font["hmtx"].metrics, font.getBestCmap()
            em = font["head"].unitsPerEm
            fallback = metrics[cmap[ord("M")]][0]
            self._faces[bold] = (metrics, cmap, em, fallback)

    def __call__(self, text: str, points: float, bold: bool = False) -> float:
        """Width of `text` at `points` size, in twips."""
        metrics, cmap, em, fallback = self._faces[bold]
        units = sum(metrics[cmap[ord(c)]][0] if ord(c) in cmap else fallback for c in text)
        return units / em * points * 20
