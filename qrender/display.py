"""How great_tables tables display in a document rendered by Quarto's Jupyter engine.

A `GT` displays as HTML. For Word and PDF, Quarto reads HTML tables into its document, and for
typst first inlines their CSS with `juice`, a module the offline Quarto kit does not carry (one
error line per table). Offered instead as Markdown holding a `{=pandoc-reader-html}` raw block, the
same HTML is read by pandoc's HTML reader straight into a table for every format, as qrender reads
every `GT`, so the two renderers see the same table. The `text/html` display is withdrawn: any
notebook output in HTML makes Quarto load require.js and jQuery from a CDN into the HTML page
(quarto-cli's jupyter/widgets.ts), which fails offline and which the article does not need.
"""

from __future__ import annotations

import sys


def markdown_table(gt) -> str:
    """A table's HTML as a raw block that pandoc's HTML reader turns into a table."""
    return f"```{{=pandoc-reader-html}}\n{gt.as_raw_html()}\n```\n"


def register() -> None:
    """Under IPython (Quarto's Jupyter kernel), display every `GT` as Markdown only; else nothing
    (and IPython, 0.1 s to import, is not loaded to find that out)."""
    if "IPython" not in sys.modules:
        return
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    from great_tables import GT

    shell.display_formatter.formatters["text/markdown"].for_type(GT, markdown_table)
    shell.display_formatter.formatters["text/html"].for_type(GT, lambda gt: None)
