"""The engine of a study's article: load and validate the data, compute every reported number once.

`analysis.run(data_path)` returns the `Results` of one run; `results.ledger[key]` is a number as
the article prints it, with the method and the function that computed it.

`run` and `Results` are imported on first use, so that the light modules (the ledger, the cache
keys, the prose check, the Quarto variables) load without pandas, SciPy or lifelines: the build
steps that only reuse a cached run start in milliseconds.
"""

from analysis.results.ledger import Entry, Ledger

__all__ = ["Entry", "Ledger", "Results", "run"]


def __getattr__(name: str):
    if name in ("Results", "run"):
        from analysis import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")
