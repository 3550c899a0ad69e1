"""Render a Quarto manuscript project to typst-PDF, DOCX and HTML without Quarto.

The subset of Quarto it understands (front matter, python chunks with `#|` options, inline
expressions, cross-references, citations) keeps Quarto's meaning; anything outside it stops the
build with the file, line and construct named, so that no content is silently dropped.
"""
