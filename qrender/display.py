"""How great_tables tables display in a document rendered by Quarto's Jupyter engine.

A `GT` displays as HTML. For Word and PDF, Quarto reads HTML tables into its document, and for
typst first inlines their CSS with `juice`, a module the offline Quarto kit does not carry (one
error line per table). Offered also as Markdown holding a `{=pandoc-reader-html}` raw block, the
same HTML is read by pandoc's HTML reader straight into a table for Word and PDF, while the HTML
output keeps great_tables' own rendering (Quarto prefers `text/html` there). qrender reads every
`GT` through pandoc's HTML reader already, so the two renderers see the same table.
"""

from __future__ import annotations


def markdown_table(gt) -> str:
    """A table's HTML as a raw block that pandoc's HTML reader turns into a table."""
    return f"```{{=pandoc-reader-html}}\n{gt.as_raw_html()}\n```\n"


def register() -> None:
    """Under IPython (Quarto's Jupyter kernel), display every `GT` as Markdown too; else nothing."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    from great_tables import GT

    shell.display_formatter.formatters["text/markdown"].for_type(GT, markdown_table)
