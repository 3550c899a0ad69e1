"""Reviewing built articles: `verify` (does a built article say what the data give?), `diff` (a
marked-up manuscript between two submissions), `changes` (the report for the response to reviewers)
and `submission` (archive a build).

`analysis` computes the numbers and `qrender` renders the article; this package reads what an
article says back, word by word and where, and compares two readings (`articletext`, `articlediff`).
"""
