"""Tests written to kill what survived `python -m tests.mutation` in the money and rating code: each pins a
boundary or an operator of admission, budgets, the ledger or the ratings that the rest of the suite let pass."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from statistics import NormalDist

import numpy as np
import pytest
from tortoise.timezone import now

from bot import metrics
from bot.arena.ratings import (
    PRIOR,
    STYLE_PENALTY,
    Ballot,
    elo_points,
    fit,
    fit_styled,
    fitted,
    interval,
    outcomes,
    pairwise_ratings,
    ranking_ballots,
    ratings,
    style_differences,
)
from bot.arena.style import Style
from bot.config import ModelConfig
from bot.db.models import BudgetHold, Cooldown, Guild, MonthlySpend, Spend
from bot.errors import UserError
from bot.estimate import run_cost
from bot.kinds import Ties
from bot.llm.types import Usage
from bot.services import budget, ledger
from bot.services.admission import Admission
from bot.services.ledger import Payer
from tests.conftest import make_config
from tests.fake_llm import FakeLLM


async def test_the_usage_report_adds_every_field_per_model_per_day_and_in_total(database: str) -> None:
    gpt = ModelConfig(alias="gpt", provider="p", model="m", display_name="GPT")
    claude = ModelConfig(alias="claude", provider="q", model="c")
    await ledger.record(Payer(1, 7), 3, gpt, Usage(10, 20, 5), 0.25)
    await ledger.record(Payer(1, 8), 3, gpt, Usage(1, 2, None), 0.5)
    await ledger.record(Payer(1, 7), 4, claude, Usage(None, None), 0.0)
    await ledger.record(Payer(2, 7), 5, claude, Usage(100, 200), 9.0)  # another guild
    report = await ledger.usage_report(1)
    line = report.lines["gpt"]
    assert (line.name, line.messages, line.input_tokens, line.output_tokens, line.reasoning_tokens) == \
        ("GPT", 2, 11, 22, 5)
    assert line.cost == pytest.approx(0.75)
    assert report.lines["claude"].name == "claude" and report.lines["claude"].input_tokens == 0
    total = report.total
    assert (total.messages, total.input_tokens, total.output_tokens, total.reasoning_tokens) == (3, 11, 22, 5)
    assert total.cost == pytest.approx(0.75)
    [day] = report.daily.values()
    assert day == {"GPT": pytest.approx(0.75), "claude": 0.0}
    mine = await ledger.usage_report(1, user_id=7)
    assert mine.lines["gpt"].messages == 1 and mine.total.cost == pytest.approx(0.25)
    everywhere = await ledger.usage_report(None)
    assert everywhere.total.messages == 4 and everywhere.total.cost == pytest.approx(9.75)
    assert await ledger.month_total(1) == pytest.approx(0.75) and await ledger.month_total(2) == pytest.approx(9.0)
    assert await MonthlySpend.filter(guild_id=1).count() == 1  # a free call moves no total
    row = await Spend.get(discussion_id=3, user_id=7)
    assert (row.model_name, row.provider, row.input_tokens, row.output_tokens) == ("GPT", "p", 10, 20)


def test_months_start_on_the_first_at_midnight() -> None:
    at = datetime(2026, 3, 17, 13, 45, 12, 999, tzinfo=UTC)
    assert ledger.month_start(at) == datetime(2026, 3, 1, tzinfo=UTC) and ledger.month_key(at) == "2026-03"


# --- budgets, holds and cooldowns (bot/services/budget.py) ------------------------------------------------


async def test_a_run_that_takes_the_guild_exactly_to_its_budget_is_admitted(database: str, fake_llm: FakeLLM) -> None:
    config = make_config(fake_llm, defaults__monthly_budget_usd=1.0)
    gpt = config.models["gpt"]
    await ledger.record(Payer(1, 7), 3, gpt, Usage(10, 20), 0.25)
    first = await budget.reserve_budget(config, 1, 0.25)
    assert first is not None and first.amount_usd == pytest.approx(0.25)
    exactly = await budget.reserve_budget(config, 1, 0.5)  # 0.25 spent + 0.25 held + 0.5 = the budget
    assert exactly is not None
    with pytest.raises(budget.BudgetRefused, match=r"\$1\.00; \$1\.00 is spent or in use .* up to \$0\.01"):
        await budget.reserve_budget(config, 1, 0.01)
    await budget.release_budget(first)
    assert await budget.reserve_budget(config, 1, 0.25) is not None  # a released hold frees its money


async def test_a_hold_lives_an_hour_and_only_where_a_budget_is_set(database: str, fake_llm: FakeLLM) -> None:
    assert await budget.reserve_budget(make_config(fake_llm), 1, 5.0) is None  # no budget: nothing held
    assert await BudgetHold.all().count() == 0
    config = make_config(fake_llm, defaults__monthly_budget_usd=10.0)
    before = now()
    hold = await budget.reserve_budget(config, 1, 2.0)
    assert hold is not None and hold.owner == budget.PROCESS_ID
    lifetime = (hold.expires_at - before).total_seconds()
    assert 3599 <= lifetime <= 3605
    await Guild.filter(discord_id=1).update(monthly_budget_usd=3.0)  # the guild's own budget wins over the default
    with pytest.raises(budget.BudgetRefused, match=r"\$3\.00"):
        await budget.reserve_budget(config, 1, 1.5)


async def test_a_guild_row_keeps_the_first_hundred_characters_of_its_name(database: str) -> None:
    row = await budget.create_guild_row(5, "n" * 150)
    assert len(row.name) == 100 and (await budget.create_guild_row(5, "other")).id == row.id


async def test_the_cooldown_says_how_long_is_left_and_never_less_than_a_second(database: str,
                                                                              fake_llm: FakeLLM) -> None:
    config = make_config(fake_llm, defaults__user_cooldown_seconds=60.0)
    assert await budget.take_cooldown(config, 1, 7) is not None
    with pytest.raises(UserError, match=r"in (59|60) s\."):
        await budget.take_cooldown(config, 1, 7)
    await Cooldown.filter(guild_id=1, user_id=7).update(last_at=now() - timedelta(seconds=59.6))
    with pytest.raises(UserError, match=r"in 1 s\."):
        await budget.take_cooldown(config, 1, 7)
    await Cooldown.filter(guild_id=1, user_id=7).update(last_at=now() - timedelta(seconds=61))
    claim = await budget.take_cooldown(config, 1, 7)
    assert claim is not None and claim.previous is not None


async def test_anyone_steers_only_where_the_guild_said_so(database: str) -> None:
    assert await budget.anyone_steers(None) is False and await budget.anyone_steers(1) is False
    await budget.create_guild_row(1)
    assert await budget.anyone_steers(1) is False  # a row that says no
    await budget.set_anyone_steers(1, True)
    assert await budget.anyone_steers(1) is True and await budget.anyone_steers(2) is False
    await budget.set_anyone_steers(1, False)
    assert await budget.anyone_steers(1) is False


# --- ratings (bot/arena/ratings.py) ---------------------------------------------------------------------
# Two models, a beat b three times: the prior adds 0.1 win each way, so strength a / b = 3.1 / 0.1 = 31 and
# the Elo-scale ratings sit 200·log10(31) either side of 1000.
APART = 200 * math.log10(31)


def test_a_beats_b_three_times_gives_the_closed_form_ratings() -> None:
    ballots = [Ballot(("a", "b"), "a")] * 3
    a, b = ratings(ballots, ["a", "b"])
    assert (a.model, b.model) == ("a", "b")
    assert a.rating == pytest.approx(1000 + APART, abs=0.01) and b.rating == pytest.approx(1000 - APART, abs=0.01)
    assert (a.games, b.games) == (3, 3)
    assert a.low <= a.rating <= a.high and b.low <= b.rating <= b.high


def test_a_model_that_never_played_changes_no_one_elses_rating() -> None:
    ballots = [Ballot(("a", "b"), "a")] * 3
    rated = ratings(ballots, ["a", "b", "idle"])
    assert [r.model for r in rated] == ["a", "b"]
    assert rated[0].rating == pytest.approx(1000 + APART, abs=0.01)


def test_a_vote_for_a_model_outside_the_board_or_alone_in_its_round_counts_for_nothing() -> None:
    base = [Ballot(("a", "b"), "a")] * 3
    noise = [Ballot(("a", "b"), "ghost"), Ballot(("a",), "a"), Ballot(("a", "ghost"), "a")]
    rated = ratings(base + noise, ["a", "b"])
    assert rated[0].rating == pytest.approx(1000 + APART, abs=0.01)
    assert [r.games for r in rated] == [5, 4]  # a lone answer is no game; one beside another model is


def test_a_tie_between_three_is_half_a_win_for_every_ordered_pair() -> None:
    winners, losers, weights, ballot_of = outcomes([Ballot(("a", "b", "c"), None)], ["a", "b", "c"])
    assert sorted(zip(winners.tolist(), losers.tolist(), strict=True)) == \
        [(0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1)]
    assert weights.tolist() == [0.5] * 6 and ballot_of.tolist() == [0] * 6
    winners, losers, weights, _ = outcomes([Ballot(("a", "b", "c"), "b")], ["a", "b", "c"])
    assert list(zip(winners.tolist(), losers.tolist(), strict=True)) == [(1, 0), (1, 2)] and weights.tolist() == [1, 1]


def test_the_interval_is_the_central_95_percent() -> None:
    low, high = interval(np.arange(1001.0)[:, None])
    assert (low[0], high[0]) == (pytest.approx(25.0), pytest.approx(975.0))


def test_the_same_votes_in_any_order_give_the_same_intervals() -> None:
    ballots = [Ballot(("a", "b", "c"), "a")] * 5 + [Ballot(("a", "b", "c"), "b")] * 3 + \
        [Ballot(("b", "c"), "c")] * 4 + [Ballot(("a", "c"), None)] * 2
    forward = ratings(ballots, ["a", "b", "c"], ties=Ties.HALF)
    assert forward == ratings(list(reversed(ballots)), ["a", "b", "c"], ties=Ties.HALF)
    assert forward == ratings(ballots[3:] + ballots[:3], ["c", "b", "a"], ties=Ties.HALF)


def test_peer_rankings_give_every_pair_once_in_order() -> None:
    assert ranking_ballots([["a", "b", "c"], ["c", "a"]]) == [("a", "b"), ("a", "c"), ("b", "c"), ("c", "a")]


# --- the ledger's side effects and admission tickets ------------------------------------------------------


def counted(alias: str, direction: str) -> float:
    return float(metrics.REGISTRY.get_sample_value("moai_tokens_total", {"model": alias, "direction": direction})
                 or 0.0)


async def test_a_billed_call_moves_the_token_and_spend_metrics_and_cuts_long_names(database: str) -> None:
    model = ModelConfig(alias="mutant", provider="p" * 40, model="m", display_name="N" * 120)
    before = (counted("mutant", "input"), counted("mutant", "output"))
    await ledger.record(Payer(1, 7), 3, model, Usage(11, 13), 0.5)
    await ledger.record(Payer(1, 7), 3, model, Usage(None, None), 0.0)
    assert (counted("mutant", "input") - before[0], counted("mutant", "output") - before[1]) == (11, 13)
    row = await Spend.filter(model_alias="mutant").order_by("id").first()
    assert row is not None and len(row.model_name) == 100 and len(row.provider) == 32


async def test_a_released_ticket_is_never_refunded_and_an_absorbed_one_is_settled(database: str,
                                                                                  fake_llm: FakeLLM) -> None:
    config = make_config(fake_llm, defaults__monthly_budget_usd=10.0, defaults__user_cooldown_seconds=60.0,
                         models__gpt__input_price=1.0, models__gpt__output_price=2.0)
    admission = Admission(config)
    models = [config.models["gpt"]]
    ticket = await admission.admit(1, 7, models, 100)
    assert ticket.holds[0].amount_usd == pytest.approx(run_cost(models, 100, 1))  # one round unless told
    ticket_hold = ticket.holds[0].id
    await ticket.release()
    assert not await BudgetHold.filter(id=ticket_hold).exists()
    await ticket.refund()  # too late: the run happened, the cooldown stays spent
    assert await Cooldown.filter(guild_id=1, user_id=7).exists()
    with pytest.raises(UserError, match="Slow down"):
        await admission.admit(1, 7, models, 100)
    first, second = await admission.admit(1, 8, models, 100), await admission.admit(1, 9, models, 100)
    first.absorb(second)
    assert second.settled and len(first.holds) == 2 and len(first.cooldowns) == 2
    await second.refund()  # the absorbed ticket is the run's now: refunding it alone gives nothing back
    assert await Cooldown.filter(guild_id=1, user_id=9).exists() and await BudgetHold.all().count() == 2
    await first.refund()
    assert await BudgetHold.all().count() == 0
    assert not await Cooldown.filter(user_id__in=[8, 9]).exists()


async def test_a_free_call_or_a_console_call_opens_no_month_total(database: str) -> None:
    model = ModelConfig(alias="free", provider="p", model="m")
    await ledger.record(Payer(4, 7), 1, model, Usage(5, 5), 0.0)
    await ledger.record(Payer(None, 7), None, model, Usage(5, 5), 0.5)  # the console: no guild, no budget
    assert await MonthlySpend.all().count() == 0 and await Spend.all().count() == 2


async def test_a_model_without_a_price_is_refused_where_a_budget_is_set_unless_allowed(database: str,
                                                                                       fake_llm: FakeLLM) -> None:
    config = make_config(fake_llm, defaults__monthly_budget_usd=10.0)
    with pytest.raises(budget.UnpricedRefused, match="knows no price for Mystery"):
        await budget.reserve_budget(config, 1, 0.0, ["Mystery"])
    assert await budget.reserve_budget(config, 1, 0.0) is not None
    allowed = make_config(fake_llm, defaults__monthly_budget_usd=10.0, defaults__allow_unpriced=True)
    assert await budget.reserve_budget(allowed, 1, 0.0, ["Mystery"]) is not None


def test_no_votes_or_no_models_rate_nothing() -> None:
    assert ratings([], ["a", "b"]) == [] and ratings([Ballot(("a", "b"), "a")], []) == []


def test_the_fit_solves_the_bradley_terry_equations_for_three_models() -> None:
    """At the maximum, each model's wins (with the prior) equal its expected wins: W_i = sum_j g_ij p_i/(p_i+p_j)."""
    wins = np.array([[0.0, 4.0, 1.0], [1.0, 0.0, 3.0], [2.0, 0.0, 0.0]])
    strength = 10 ** fit(wins)
    met = (wins + wins.T) > 0
    w = wins + 0.1 * met
    games = w + w.T
    expected = (games * strength[:, None] / (strength[:, None] + strength[None, :])).sum(axis=1)
    assert np.allclose(expected, w.sum(axis=1), rtol=1e-6)
    assert abs(float(np.log10(strength).sum())) < 1e-9  # centred


def test_peer_ratings_are_ratings_of_two_seat_ballots_with_the_same_defaults() -> None:
    pairs = [("a", "b"), ("a", "b"), ("b", "c"), ("c", "a"), ("a", "c")]
    assert pairwise_ratings(pairs, ["a", "b", "c"]) == ratings([Ballot(p, p[0]) for p in pairs], ["a", "b", "c"])


# --- the style-controlled fit (bot/arena/ratings.py) -------------------------------------------------------


def test_style_differences_are_normalised_and_zero_where_both_are_zero() -> None:
    ballots = [Ballot(("a", "b"), "a", (Style(300, 0, 1, 2), Style(100, 0, 0, 2)))]
    winners, losers, _, ballot_of = outcomes(ballots, ["a", "b"])
    differences = style_differences(ballots, ["a", "b"], winners, losers, ballot_of)
    assert differences.tolist() == [[0.5, 0.0, 1.0, 0.0]]  # (300-100)/400; both 0 headers; 1 vs 0 lists; 2 vs 2
    reverse = [Ballot(("a", "b"), "b", ballots[0].styles)]
    winners, losers, _, ballot_of = outcomes(reverse, ["a", "b"])
    assert style_differences(reverse, ["a", "b"], winners, losers, ballot_of).tolist() == [[-0.5, 0.0, -1.0, 0.0]]
    plain = [Ballot(("a", "b"), "a")]
    winners, losers, _, ballot_of = outcomes(plain, ["a", "b"])
    assert style_differences(plain, ["a", "b"], winners, losers, ballot_of).tolist() == [[0.0] * 4]


def test_the_styled_fit_solves_its_penalised_score_equations() -> None:
    """At the maximum the gradient is zero: for each model, its (prior-padded) wins equal its expected wins;
    for each style feature, sum of w (1 - p) d equals the penalty times its coefficient."""
    rng = np.random.default_rng(4)
    ballots = []
    for _ in range(60):
        seated = tuple(str(m) for m in rng.choice(["a", "b", "c"], 2, replace=False))
        styles = (Style(float(rng.integers(50, 3000)), 0, float(rng.integers(0, 5)), 0),
                  Style(float(rng.integers(50, 3000)), 0, float(rng.integers(0, 5)), 0))
        chosen = seated[0] if styles[0].length > styles[1].length or rng.random() < 0.3 else seated[1]
        ballots.append(Ballot(seated, chosen, styles))
    models = ["a", "b", "c"]
    winners, losers, weights, ballot_of = outcomes(ballots, models)
    differences = style_differences(ballots, models, winners, losers, ballot_of)
    fit = fit_styled(winners, losers, weights, differences, ballot_of, 3)
    beta = fit.strengths * np.log(10)
    pairs = sorted({(min(w, lo), max(w, lo)) for w, lo in zip(winners.tolist(), losers.tolist(), strict=True)})
    rows = [(w, lo, 1.0, d) for w, lo, d in zip(winners.tolist(), losers.tolist(), differences, strict=True)]
    rows += [(i, j, PRIOR, np.zeros(4)) for i, j in pairs] + [(j, i, PRIOR, np.zeros(4)) for i, j in pairs]
    model_gradient = np.zeros(3)
    style_gradient = np.zeros(4)
    for winner, loser, weight, d in rows:
        miss = weight * (1 - 1 / (1 + np.exp(-(beta[winner] - beta[loser] + d @ fit.coefficients))))
        model_gradient[winner] += miss
        model_gradient[loser] -= miss
        style_gradient += miss * d
    assert np.allclose(model_gradient, 0, atol=1e-4)
    assert np.allclose(style_gradient, STYLE_PENALTY * fit.coefficients, atol=1e-6)
    assert fit.coefficients[0] > 0.5 and fit.coefficients[1] == fit.coefficients[3] == 0  # length won, and counts


def test_the_sandwich_interval_of_two_models_has_its_closed_form() -> None:
    """a beat b 30 times and lost 10, styles alike: p = 30.1/40.2; the clustered score variance
    S = 30 (1-p)^2 + 10 p^2 and the curvature h = 40.2 p (1-p) give a half-width of 400 z sqrt(S) / (2h ln 10)."""
    same = Style(500, 1, 2, 3)
    ballots = [Ballot(("a", "b"), "a", (same, same))] * 30 + [Ballot(("a", "b"), "b", (same, same))] * 10
    a, b = ratings(ballots, ["a", "b"])
    p = 30.1 / 40.2
    half = 400 * NormalDist().inv_cdf(0.975) * math.sqrt(30 * (1 - p) ** 2 + 10 * p**2) / (2 * 40.2 * p * (1 - p)) \
        / math.log(10)
    assert a.rating == pytest.approx(1000 + 200 * math.log10(p / (1 - p)), abs=1e-3)
    assert a.high - a.rating == pytest.approx(half, rel=1e-4) and a.rating - a.low == pytest.approx(half, rel=1e-4)
    assert b.rating == pytest.approx(2000 - a.rating, abs=1e-6)


def test_style_worth_is_in_elo_points_for_twice_the_length() -> None:
    assert elo_points(math.log(10)) == pytest.approx(400)
    _, ballots = biased(200)
    models = [f"m{i}" for i in range(4)]
    found = fitted(ballots, models)
    assert found.style["length"] == pytest.approx(elo_points(fitted_coefficient(ballots, models)) / 3, rel=1e-9)


def biased(votes: int) -> tuple[None, list[Ballot]]:
    rng = np.random.default_rng(9)
    ballots = []
    for _ in range(votes):
        a, b = (f"m{i}" for i in rng.choice(4, 2, replace=False))
        la, lb = float(rng.integers(100, 3000)), float(rng.integers(100, 3000))
        ballots.append(Ballot((a, b), a if (la > lb) == (rng.random() < 0.8) else b,
                              (Style(la, 0, 0, 0), Style(lb, 0, 0, 0))))
    return None, ballots


def fitted_coefficient(ballots: list[Ballot], models: list[str]) -> float:
    ordered = sorted(ballots, key=lambda b: (b.answered, b.chosen or "", [s.stored() for s in b.styles]))
    winners, losers, weights, ballot_of = outcomes(ordered, models)
    differences = style_differences(ordered, models, winners, losers, ballot_of)
    return float(fit_styled(winners, losers, weights, differences, ballot_of, len(models)).coefficients[0])


async def test_a_side_call_adds_its_cost_to_the_hold_and_its_price_is_checked(database: str,
                                                                              fake_llm: FakeLLM) -> None:
    config = make_config(fake_llm, defaults__monthly_budget_usd=10.0, models__gpt__input_price=1.0,
                         models__gpt__output_price=2.0)
    models = [config.models["gpt"]]
    ticket = await Admission(config).admit(1, 7, models, 100, 2, [(config.models["gpt"], 0.25)])
    assert ticket.holds[0].amount_usd == pytest.approx(run_cost(models, 100, 2) + 0.25)
    await ticket.refund()
    with pytest.raises(budget.UnpricedRefused, match="knows no price for Claude"):  # the side model's price
        await Admission(config).admit(1, 8, models, 100, 1, [(config.models["claude"], 0.0)])


def test_the_search_worst_case_counts_every_fee_and_every_result_token(fake_llm: FakeLLM) -> None:
    from bot.search.pricing import backend_fee, native_fee, search_estimate, searches_billed

    config = make_config(fake_llm, search__backend="brave", search__api_key_env="BRAVE_API_KEY",
                         providers__fakeopenai__search="provider",
                         providers__fakelocal={"kind": "openai", "base_url": fake_llm.openai_url},
                         models__llama__provider="fakelocal", models__gpt__input_price=7.0,
                         models__claude__input_price=11.0, models__claude__context_tokens=200_000,
                         models__llama__input_price=13.0)
    gpt, claude, llama = (config.models[a] for a in ("gpt", "claude", "llama"))
    # per round: GPT's plugin 5 × $0.004 + 5 × 3,000 chars (5,001 tokens) at $7/M; Claude 3 × $0.01 + 3 × 10,000
    # tokens at $11/M; Llama 5 × 1,000 + 600 chars (1,867 tokens) at $13/M; one Brave request $0.005
    assert search_estimate(config, [gpt, claude, llama], 2) == pytest.approx(2 * (
        0.02 + 5001 * 7 / 1e6 + 0.03 + 30_000 * 11 / 1e6 + 1867 * 13 / 1e6 + 0.005), abs=1e-12)
    assert search_estimate(config, [gpt, claude], 1) == pytest.approx(0.02 + 5001 * 7 / 1e6 + 0.03 + 0.33,
                                                                      abs=1e-12)  # no backend request
    small = config.models["claude"].model_copy(update={"context_tokens": 16_000})
    assert search_estimate(config, [small], 1) == pytest.approx(0.03 + 16_000 * 11 / 1e6, abs=1e-12)  # its window
    off = llama.model_copy(update={"search": "off"})
    assert search_estimate(config, [off], 3) == 0.0
    assert native_fee(config, gpt, 0) == 0.0 and native_fee(config, gpt, 2) == pytest.approx(0.02)
    assert native_fee(config, claude, 2) == pytest.approx(0.02)
    assert searches_billed(config, gpt, 0, 0, False) == 0 and searches_billed(config, gpt, 0, 0, True) == 1
    assert searches_billed(config, claude, 2, 1, True) == 2 and searches_billed(config, claude, 0, 3, False) == 3
    assert backend_fee(config) == 0.005
    assert backend_fee(config.model_copy(update={"search": config.search.model_copy(update={"backend": ""})})) == 0.0


async def test_searches_bill_their_own_row_and_move_the_month(database: str) -> None:
    from bot.services.ledger import SearchBill

    alias = "a" * 30  # the longest aliases: "<alias>:search" is cut to the column's 32 characters
    model = ModelConfig(alias=alias, provider="p" * 40, model="m", display_name="N" * 95, input_price=1.0,
                        output_price=1.0)
    before = metrics.SPEND.labels(f"{alias}:s")._value.get()
    await ledger.record(Payer(1, 7), 3, model, Usage(10, 20), 0.25, SearchBill(2, 0.02))
    rows = {r.kind: r for r in await Spend.all()}
    search = rows["search"]
    assert (search.model_alias, search.model_name, search.provider) == (f"{alias}:s", "N" * 95 + " · we", "p" * 32)
    assert (search.searches, search.cost_usd, search.input_tokens, search.output_tokens) == (2, 0.02, 0, 0)
    assert metrics.SPEND.labels(f"{alias}:s")._value.get() == pytest.approx(before + 0.02)
    [month] = await MonthlySpend.all()
    assert month.total_usd == pytest.approx(0.27)

    unpriced = ModelConfig(alias="free", provider="p", model="m")  # and no usage reported: no token cost known
    assert await ledger.charge(Payer(1, 7), 3, unpriced, Usage()) is None
    assert await ledger.charge(Payer(1, 7), 3, unpriced, Usage(), SearchBill(0, 0.0)) is None
    assert await Spend.filter(model_alias__startswith="free").count() == 0
    await ledger.charge(Payer(1, 7), 3, unpriced, Usage(), SearchBill(1, 0.01))  # its searches are still priced
    free = {r.kind: r for r in await Spend.filter(model_alias__startswith="free")}
    assert (free["tokens"].input_tokens, free["tokens"].output_tokens, free["tokens"].cost_usd) == (0, 0, 0.0)
    assert free["search"].cost_usd == 0.01
    assert (await MonthlySpend.get()).total_usd == pytest.approx(0.28)

    await ledger.record_backend_search(Payer(1, 7), 3, "b" * 40, "L" * 120, 0.005)
    backend = await Spend.get(provider="b" * 32)
    assert (backend.model_alias, backend.model_name) == ("search:" + "b" * 25, ("Web search · " + "L" * 120)[:100])
