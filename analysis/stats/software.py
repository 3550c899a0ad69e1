"""Which software computed each result, recorded as the analysis runs.

Every statistical function returns, with its result, a `Software` record naming the method and the
callable that computed it; the package and its version are read from that callable, not typed. The
ledger keeps the record on each number it prints (`numbers.json` shows it), and the Methods'
software sentence (`software.sentence`) is assembled from the records of the numbers, so it names
exactly the packages that ran, with their versions.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import metadata

OWN = "analysis"
#: How each package is named in prose, and its reference in references.bib (if the article cites it).
NAMES = {
    "lifelines": "lifelines",
    "scipy": "SciPy",
    "numpy": "NumPy",
    "statsmodels": "statsmodels",
    OWN: "this project's own code",
}
CITATIONS = {"lifelines": "davidson2019lifelines", "statsmodels": "seabold2010statsmodels"}


@dataclass(frozen=True)
class Software:
    """A method, the package that computed it (OWN for this project's code) and the package's version."""

    method: str
    package: str
    version: str

    def as_dict(self) -> dict:
        return {"method": self.method, "package": self.package, "version": self.version}

    @property
    def name(self) -> str:
        """The package as prose names it, with its version ("lifelines 0.30.3")."""
        words = NAMES.get(self.package, self.package)
        return words if self.package == OWN else f"{words} {self.version}"


@cache
def _version(package: str) -> str:
    """The installed version of a top-level package (its distribution usually has its name; else
    the installed distributions are searched, once)."""
    if package == OWN:
        return ""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return metadata.version(metadata.packages_distributions()[package][0])


def computed_by(method: str, function: object) -> Software:
    """The record for `method` computed by `function` (a class or function of some package)."""
    package = function.__module__.split(".")[0]
    return Software(method, package, _version(package))
