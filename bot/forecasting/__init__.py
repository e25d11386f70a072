"""Forecasts against the truth: probabilities parsed from answers and members, resolution, and the scores
(Brier, log, calibration) that say who called it right."""
