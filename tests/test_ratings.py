"""The rating math: Bradley-Terry strengths recovered from simulated votes, intervals, ties, peer rankings."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.arena.ratings import Ballot, fit, pairwise_ratings, ranking_ballots, ratings


def simulate(strengths: dict[str, float], votes: int, seed: int, seats: int = 2) -> list[Ballot]:
    """Members pick the best of `seats` answers with Bradley-Terry odds (log10 strengths)."""
    rng = np.random.default_rng(seed)
    names = list(strengths)
    ballots = []
    for _ in range(votes):
        seated = [names[i] for i in rng.choice(len(names), size=seats, replace=False)]
        weights = np.array([10 ** strengths[m] for m in seated])
        ballots.append(Ballot(tuple(seated), seated[rng.choice(seats, p=weights / weights.sum())]))
    return ballots


def test_known_strengths_are_recovered() -> None:
    truth = {"a": -0.45, "b": -0.15, "c": 0.15, "d": 0.45}  # 120 Elo apart
    found = {r.model: r for r in ratings(simulate(truth, 3000, seed=7), list(truth), samples=100)}
    assert [r for r in sorted(found, key=lambda m: -found[m].rating)] == ["d", "c", "b", "a"]
    for model, strength in truth.items():
        assert abs(found[model].rating - (1000 + 400 * strength)) < 30
        assert found[model].low < found[model].rating < found[model].high


def test_equal_strengths_give_overlapping_intervals() -> None:
    truth = dict.fromkeys("abc", 0.0)
    found = ratings(simulate(truth, 600, seed=3, seats=3), list(truth), samples=100)
    assert max(r.low for r in found) < min(r.high for r in found)


def test_a_tie_is_half_a_win_each_way() -> None:
    [first, second] = ratings([Ballot(("a", "b"), None), Ballot(("a", "b"), None)], ["a", "b"], samples=20)
    assert first.rating == second.rating == 1000


def test_an_unbeaten_model_stays_finite_and_first() -> None:
    found = ratings([Ballot(("a", "b"), "a")] * 5, ["a", "b"], samples=20)
    assert [r.model for r in found] == ["a", "b"] and np.isfinite(found[0].rating)


def test_models_never_voted_on_are_left_out() -> None:
    assert [r.model for r in ratings([Ballot(("a", "b"), "b")], ["a", "b", "c"], samples=10)] == ["b", "a"]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.floats(0, 5)), max_size=12))
def test_fit_is_centred_and_finite(cells: list[tuple[int, int, float]]) -> None:
    wins = np.zeros((4, 4))
    for i, j, w in cells:
        if i != j:
            wins[i, j] += w
    logs = fit(wins)
    assert np.all(np.isfinite(logs)) and abs(logs.mean()) < 1e-9


def test_peer_rankings_become_pairs_and_a_rating() -> None:
    pairs = ranking_ballots([["gpt", "llama"], ["claude", "gpt"], ["claude", "llama"]])  # reviewers: claude, llama, gpt
    assert pairs == [("gpt", "llama"), ("claude", "gpt"), ("claude", "llama")]
    assert [r.model for r in pairwise_ratings(pairs, ["claude", "gpt", "llama"], samples=20)] == ["claude", "gpt",
                                                                                                    "llama"]
