"""The synthetic cohort: a generator shaped like a registry export and its calibration search."""
