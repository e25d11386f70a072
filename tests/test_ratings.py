"""The rating math: Bradley-Terry strengths recovered from simulated votes, intervals, ties, peer rankings."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.arena.ratings import Ballot, fit, fitted, pairwise_ratings, ranking_ballots, ratings
from bot.arena.style import Style, style_of
from bot.kinds import Ties


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


def test_a_tie_is_half_a_win_each_way_when_ties_are_half() -> None:
    [first, second] = ratings([Ballot(("a", "b"), None), Ballot(("a", "b"), None)], ["a", "b"], samples=20,
                              ties=Ties.HALF)
    assert first.rating == second.rating == 1000
    base = [Ballot(("a", "b"), "a")] * 3
    assert ratings(base + [Ballot(("a", "b"), None)] * 3, ["a", "b"], ties=Ties.HALF)[0].rating < \
        ratings(base, ["a", "b"])[0].rating


def test_by_default_a_tie_moves_no_rating_and_is_no_game() -> None:
    base = [Ballot(("a", "b"), "a")] * 3 + [Ballot(("b", "c"), "b")] * 2
    with_ties = base + [Ballot(("a", "b"), None)] * 4 + [Ballot(("a", "c"), None)]
    assert ratings(with_ties, ["a", "b", "c"]) == ratings(base, ["a", "b", "c"])
    assert ratings([Ballot(("a", "b"), None)], ["a", "b"]) == []


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


# --- style control ----------------------------------------------------------------------------------------


def kendall_tau(truth: list[str], found: list[str]) -> float:
    place = {m: i for i, m in enumerate(found)}
    pairs = [(a, b) for i, a in enumerate(truth) for b in truth[i + 1:]]
    concordant = sum(1 for a, b in pairs if place[a] < place[b])
    return (2 * concordant - len(pairs)) / len(pairs)


def biased_votes(seed: int, votes: int = 2000) -> tuple[list[str], list[Ballot]]:
    """Eight models 48 Elo apart, the weaker ones writing longer answers with more list items; members pick
    with Bradley-Terry odds plus a reward for length and lists as such (normalised differences)."""
    rng = np.random.default_rng(seed)
    truth = {f"m{i}": 0.12 * i for i in range(8)}
    length = {m: 4000 / 1.4**i for i, m in enumerate(truth)}
    items = {m: 8 - i for i, m in enumerate(truth)}
    names = list(truth)
    ballots = []
    for _ in range(votes):
        a, b = (names[i] for i in rng.choice(len(names), 2, replace=False))
        la, lb = length[a] * rng.lognormal(0, 0.5), length[b] * rng.lognormal(0, 0.5)
        ia, ib = int(rng.poisson(items[a])), int(rng.poisson(items[b]))
        odds = np.log(10) * (truth[a] - truth[b]) + 1.2 * (la - lb) / (la + lb) + \
            0.6 * ((ia - ib) / (ia + ib) if ia + ib else 0.0)
        chosen = a if rng.random() < 1 / (1 + np.exp(-odds)) else b
        ballots.append(Ballot((a, b), chosen, (Style(la, 0, ia, 0), Style(lb, 0, ib, 0))))
    return sorted(truth, key=lambda m: -truth[m]), ballots


def test_style_control_recovers_the_true_order_where_the_raw_fit_does_not() -> None:
    styled, raw = [], []
    for seed in range(5):
        order, ballots = biased_votes(seed)
        styled.append(kendall_tau(order, [r.model for r in ratings(ballots, order, samples=20)]))
        raw.append(kendall_tau(order, [r.model for r in ratings(ballots, order, samples=20, style=False)]))
    assert min(styled) >= 0.9, styled
    assert np.mean(raw) <= np.mean(styled) - 0.2, (raw, styled)


def test_the_fit_says_what_length_is_worth_and_a_raw_fit_says_nothing() -> None:
    order, ballots = biased_votes(0)
    worth = fitted(ballots, order, samples=5).style
    assert set(worth) == {"length", "headers", "lists", "bold"}
    # 1.2 log-odds per unit of difference: 1.2 / ln 10 * 400 / 3 = 69 Elo for twice the length
    assert 40 < worth["length"] < 100 and 10 < worth["lists"] < 70 and worth["headers"] == worth["bold"] == 0
    assert fitted(ballots, order, samples=5, style=False).style == {}


def test_without_styles_or_with_equal_styles_the_fit_is_the_raw_fit() -> None:
    truth = {"a": -0.3, "b": 0.0, "c": 0.3}
    plain = simulate(truth, 300, seed=5)
    assert ratings(plain, list(truth), samples=30) == ratings(plain, list(truth), samples=30, style=False)
    same = Style(500, 1, 2, 3)
    styled = [Ballot(b.answered, b.chosen, (same, same)) for b in plain]
    for a, b in zip(ratings(styled, list(truth), samples=200), ratings(plain, list(truth), samples=200),
                    strict=True):  # the same strengths; the sandwich interval is about as wide as the bootstrap's
        assert a.model == b.model and abs(a.rating - b.rating) < 0.05
        assert 0.8 < (a.high - a.low) / (b.high - b.low) < 1.25


def test_styled_intervals_cover_the_truth() -> None:
    """Across seeds, the 95% intervals of the style-controlled fit hold the true rating about 95% of the time."""
    held = total = 0
    for seed in range(10):
        order, ballots = biased_votes(seed, votes=800)
        truth = {m: 0.12 * int(m[1:]) for m in order}
        centre = np.mean(list(truth.values()))
        for r in ratings(ballots, order):
            true_rating = 1000 + 400 * (truth[r.model] - centre)
            held += r.low <= true_rating <= r.high
            total += 1
    assert held / total >= 0.88, held / total


def test_styled_ratings_do_not_depend_on_the_votes_order() -> None:
    _, ballots = biased_votes(3, votes=200)
    models = [f"m{i}" for i in range(8)]
    assert ratings(ballots, models, samples=30) == ratings(list(reversed(ballots)), models[::-1], samples=30)


def test_an_answer_always_longer_and_always_chosen_stays_finite() -> None:
    long, short = Style(3000, 0, 0, 0), Style(100, 0, 0, 0)
    found = ratings([Ballot(("a", "b"), "a", (long, short))] * 30, ["a", "b"], samples=20)
    assert [r.model for r in found] == ["a", "b"] and all(np.isfinite(r.rating) for r in found)


def test_markdown_is_counted_by_a_parser_not_by_characters() -> None:
    text = "# Title\n\nSome **bold** and __more__\n\n- a\n- b\n1. c\n\n```\n# not a header\n- nor an item\n```\n## Two"
    assert style_of(text) == Style(len(text), 2, 3, 2)
    assert style_of("") == Style(0, 0, 0, 0)


def test_stored_styles_are_used_only_when_they_match_the_seats() -> None:
    from bot.arena.style import styles_from_rows

    assert styles_from_rows([[10, 1, 2, 3], [20, 0, 0, 0]], 2) == (Style(10, 1, 2, 3), Style(20, 0, 0, 0))
    assert styles_from_rows([[10, 1, 2, 3]], 2) == ()  # a seat's style missing
    assert styles_from_rows([[10, 1, 2], [20, 0, 0, 0]], 2) == ()  # a row of another shape
    assert styles_from_rows([], 2) == () and styles_from_rows([], 0) == ()
