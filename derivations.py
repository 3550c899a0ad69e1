"""The HAIC study's own derivations: what no declaration in study.yaml can express.

Plain functions from the analysis data frame to one column, named in study.yaml (`derive:` with
`function:`); the engine calls each once, after the columns it `uses` exist.
"""

import numpy as np
import pandas as pd

#: ALBI grade cut-points (Johnson et al., J Clin Oncol 2015;33:550-8): grade 1 up to -2.60,
#: grade 2 up to -1.39, grade 3 above.
ALBI_CUTS = (-2.60, -1.39)
BILIRUBIN_UMOL_PER_MG_DL = 17.1


def albi_score(data: pd.DataFrame) -> pd.Series:
    """ALBI score = 0.66 log10(bilirubin, umol/L) - 0.085 albumin (g/L) (Johnson et al., J Clin Oncol
    2015;33:550-8), from albumin in g/dL and bilirubin in mg/dL; missing if either is."""
    bilirubin_umol_l = data["bilirubin_mg_dl"] * BILIRUBIN_UMOL_PER_MG_DL
    return 0.66 * np.log10(bilirubin_umol_l) - 0.085 * (data["albumin_g_dl"] * 10)


def albi_grade(data: pd.DataFrame) -> pd.Series:
    """ALBI grade 1, 2 or 3 from the ALBI score by the cut-points of Johnson et al. (2015)."""
    score = data["albi_score"]
    grade = pd.Series(
        np.select([score <= ALBI_CUTS[0], score <= ALBI_CUTS[1]], [1, 2], default=3), index=score.index
    ).where(score.notna())
    return grade.astype("Int64")
