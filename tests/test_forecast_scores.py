"""Scores of resolved forecasts (issue 28): Brier, log and calibration match an independent reference on 600
synthetic questions, and forecasts are read as people and models write them."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from bot.forecasting.parse import parse_forecast, parse_outcomes
from bot.forecasting.scores import LOG_FLOOR, Scored, summarise


def synthetic(count: int, seed: int = 7) -> list[Scored]:
    rng = random.Random(seed)
    made = []
    for index in range(count):
        size = 2 if index % 3 else rng.randint(3, 6)
        names = [f"o{n}" for n in range(size)]
        weights = [rng.random() ** 2 for _ in names]
        if index % 17 == 0:
            weights[0] = 0.0  # a 0% forecast: the log score's floor
        total = sum(weights) or 1.0
        made.append(Scored({n: w / total for n, w in zip(names, weights, strict=True)}, rng.choice(names)))
    return made


def test_scores_match_a_reference_on_600_questions() -> None:
    forecasts = synthetic(600)
    briers, logs = [], []
    for forecast in forecasts:  # the reference: vectors, written apart from the code under test
        p = np.array(list(forecast.probabilities.values()))
        o = np.array([1.0 if n == forecast.outcome else 0.0 for n in forecast.probabilities])
        briers.append(float(np.sum((p - o) ** 2) / 2))
        logs.append(float(np.log(np.maximum(p[o == 1.0], LOG_FLOOR))[0]))
        assert forecast.brier == pytest.approx(briers[-1], abs=1e-12)
        assert forecast.log == pytest.approx(logs[-1], abs=1e-12)
    summary = summarise(forecasts)
    assert summary is not None and summary.count == 600
    mean, sd = float(np.mean(briers)), float(np.std(briers, ddof=1))
    assert summary.mean_brier == pytest.approx(mean, abs=1e-9)
    assert summary.mean_log == pytest.approx(float(np.mean(logs)), abs=1e-9)
    assert summary.low == pytest.approx(mean - 1.959963984540054 * sd / math.sqrt(600), abs=1e-9)
    assert summary.high == pytest.approx(mean + 1.959963984540054 * sd / math.sqrt(600), abs=1e-9)
    pairs = [(f.probabilities[n], float(n == f.outcome)) for f in forecasts
             for n in (list(f.probabilities)[:1] if len(f.probabilities) == 2 else f.probabilities)]
    p_all, o_all = np.array([p for p, _ in pairs]), np.array([o for _, o in pairs])
    index = np.minimum((p_all * 10).astype(int), 9)
    expected = [(b / 10, int(np.sum(index == b)), float(np.mean(p_all[index == b])), float(np.mean(o_all[index == b])))
                for b in range(10) if np.any(index == b)]
    assert len(summary.buckets) == len(expected)
    for bucket, (low, count, predicted, observed) in zip(summary.buckets, expected, strict=True):
        assert (bucket.low, bucket.count) == (low, count)
        assert bucket.predicted == pytest.approx(predicted, abs=1e-9)
        assert bucket.observed == pytest.approx(observed, abs=1e-9)


def test_known_values() -> None:
    assert Scored({"Yes": 0.7, "No": 0.3}, "Yes").brier == pytest.approx(0.09)  # (0.7 - 1)²
    assert Scored({"Yes": 0.5, "No": 0.5}, "No").brier == pytest.approx(0.25)
    assert Scored({"A": 1.0, "B": 0.0, "C": 0.0}, "C").brier == pytest.approx(1.0)  # the worst
    assert Scored({"Yes": 0.0, "No": 1.0}, "Yes").log == pytest.approx(math.log(0.001))
    one = summarise([Scored({"Yes": 0.8, "No": 0.2}, "Yes")])
    assert one is not None and one.low == one.high == pytest.approx(0.04)
    assert summarise([]) is None


def test_forecasts_are_read_as_written() -> None:
    yes_no = ["Yes", "No"]
    read = parse_forecast("I think so.\n\n**Forecast**\n- Yes: 70%\n- No: 30%", yes_no)
    assert read is not None and read.probabilities == {"Yes": 0.7, "No": 0.3} and not read.normalised
    read = parse_forecast("Probability: 0.65", yes_no)
    assert read is not None and read.probabilities == pytest.approx({"Yes": 0.65, "No": 0.35})
    read = parse_forecast("Yes: 80%\nNo: 40%", yes_no)  # 120%: scaled and said
    assert read is not None and read.normalised and read.probabilities == pytest.approx({"Yes": 2 / 3, "No": 1 / 3})
    three = ["Rust", "Go", "Zig"]
    read = parse_forecast("- **Rust** — 50 %\n- Go: 30%", three)  # Zig gets what is left
    assert read is not None and read.normalised and read.probabilities == pytest.approx(
        {"Rust": 0.5, "Go": 0.3, "Zig": 0.2})
    read = parse_forecast("Rust: 20%\nGo: 30%\nRust: 60%\nGo: 40%", three)  # the last block counts
    assert read is not None and read.probabilities == pytest.approx({"Rust": 0.6, "Go": 0.4, "Zig": 0.0})
    assert parse_forecast("No numbers here.", yes_no) is None
    read = parse_forecast("Likely.\n\nPosition: Go\nConfidence: 70%\nChanged: no", three)  # a debate's stance
    assert read is not None and read.probabilities == pytest.approx({"Rust": 0.15, "Go": 0.7, "Zig": 0.15})
    read = parse_forecast("Position: No\nConfidence: 80%", yes_no)  # its confidence is in the position held
    assert read is not None and read.probabilities == pytest.approx({"Yes": 0.2, "No": 0.8})
    assert parse_forecast("Yes: 0%\nNo: 0%", yes_no) is None
    assert parse_outcomes(None) == ["Yes", "No"] and parse_outcomes("Rust, Go; Zig") == ["Rust", "Go", "Zig"]
    for bad in ("a,b,c,d,e,f,g", "only", "a, A"):
        with pytest.raises(ValueError):
            parse_outcomes(bad)


def test_the_calibration_chart_keeps_its_words_apart() -> None:
    from bot.chart_style import overlapping_texts
    from bot.charts import calibration_figure

    summary = summarise(synthetic(300))
    assert summary is not None and len(summary.buckets) == 10
    figure = calibration_figure(summary.buckets, "GPT", "GPT: calibration over 300 resolved forecast(s)")
    assert overlapping_texts(figure) == []


def test_the_edges_of_the_scores() -> None:
    assert Scored({"Yes": 1.0}, "No").log == pytest.approx(math.log(0.001))  # an outcome it never named
    certain = summarise([Scored({"Yes": 1.0, "No": 0.0}, "Yes")])
    assert certain is not None and [(b.low, b.count) for b in certain.buckets] == [(0.9, 1)]  # 100%: the top bucket
    two = summarise([Scored({"Yes": 1.0, "No": 0.0}, "No"), Scored({"Yes": 1.0, "No": 0.0}, "Yes")])
    assert two is not None and two.mean_brier == pytest.approx(0.5)
    assert two.low == 0.0 and two.high == 1.0  # 0.5 ± 0.98, held inside the scale
    close = summarise([Scored({"Yes": 0.6, "No": 0.4}, "Yes"), Scored({"Yes": 0.8, "No": 0.2}, "Yes")])
    assert close is not None and close.high == pytest.approx(0.1 + Z * math.sqrt(0.0072) / math.sqrt(2))


Z = 1.959963984540054
