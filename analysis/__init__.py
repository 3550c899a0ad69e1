"""The HAIC cohort analysis: load and validate the data, compute every reported number once.

`analysis.run(data_path)` returns the `Results` of one run; `results.ledger[key]` is a number as
the article prints it, with the method and the function that computed it.
"""

from analysis.ledger import Entry, Ledger
from analysis.pipeline import Results, run

__all__ = ["Entry", "Ledger", "Results", "run"]
