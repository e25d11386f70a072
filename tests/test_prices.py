"""Real prices by default: config over the synced catalogue over the shipped list; unpriced models are loud
in `moai check`, refused under a budget unless allowed, and named when a budget is set."""

from __future__ import annotations

from pathlib import Path

import discord

from bot.catalogue import catalogue_entry, load_catalogue, shipped_prices, with_prices, write_catalogue
from bot.config import load_config
from bot.db.models import Spend
from tests.conftest import TEST_ENV, make_config
from tests.discord_harness import make_harness
from tests.fake_llm import FakeLLM
from tests.helpers import moai, write_config

ADMIN = discord.Permissions(manage_guild=True)
ROOT = Path(__file__).resolve().parent.parent


def test_the_shipped_config_is_priced_out_of_the_box() -> None:
    config, unpriced = with_prices(load_config(ROOT / "config.toml"), Path("/nonexistent/catalogue.json"))
    assert unpriced == []
    assert all(m.input_price and m.output_price for m in config.models.values())
    checked, table = shipped_prices()
    assert checked[:4].isdigit() and table["anthropic"]["claude-sonnet-4-5"] == (3.0, 15.0)


def test_openrouter_entries_are_read_per_million() -> None:
    entry = {"id": "x/y", "context_length": 128000, "architecture": {"input_modalities": ["text", "image"]},
             "pricing": {"prompt": "0.0000025", "completion": "0.00001"}}
    stored = catalogue_entry(entry)
    assert stored is not None and round(stored["input_price"], 6) == 2.5 and round(stored["output_price"], 6) == 10
    assert stored["input_modalities"] == ["text", "image"] and stored["context_length"] == 128000
    assert catalogue_entry({"id": "router", "pricing": {"prompt": "-1", "completion": "-1"}}) is None
    assert catalogue_entry({"id": "no-price"}) is None


def test_config_over_catalogue_over_shipped(tmp_path: Path, fake_llm: FakeLLM) -> None:
    catalogue = tmp_path / "cat.json"
    write_catalogue(catalogue, {"fakeopenai": {"gpt-test": {"input_price": 7.0, "output_price": 8.0}}})
    assert load_catalogue(catalogue)["fakeopenai"]["gpt-test"]["input_price"] == 7.0
    config = make_config(fake_llm, models__claude__input_price=1.0, models__llama__model="openai/gpt-4o-mini")
    priced, unpriced = with_prices(config, catalogue)
    assert (priced.models["gpt"].input_price, priced.models["gpt"].price_source) == (7.0, "catalogue")
    assert (priced.models["claude"].input_price, priced.models["claude"].output_price) == (1.0, 0.0)
    assert priced.models["llama"].price_source.startswith("shipped list") and unpriced == []
    _, unpriced = with_prices(make_config(fake_llm), tmp_path / "none.json")
    assert unpriced == ["gpt", "claude", "llama"]


async def test_models_sync_and_check_are_loud_about_unpriced(tmp_path: Path, fake_llm: FakeLLM) -> None:
    fake_llm.model_pricing["gpt-test"] = {"pricing": {"prompt": "0.000001", "completion": "0.000002"}}
    config = write_config(tmp_path / "c.toml", fake_llm)
    code, out, _ = await moai("--config", str(config), "models", "sync", env=TEST_ENV)
    assert code == 0, out
    assert "ok    catalogue: 2 priced models written" in out  # both fake providers list gpt-test
    assert "ok    model gpt: $1 in / $2 out per million tokens (catalogue)" in out
    assert "WARN  model claude: NO KNOWN PRICE for 'claude-test'" in out
    assert (tmp_path / "moai-catalogue.json").exists()
    code, out, _ = await moai("--config", str(config), "check", env=TEST_ENV)
    assert "WARN  model ghost: NO KNOWN PRICE" in out and "ok    model gpt: $1 in" in out


async def test_unpriced_models_are_refused_under_a_budget(database: str, fake_llm: FakeLLM) -> None:
    harness = await make_harness(make_config(fake_llm, models__gpt__output_price=10.0), TEST_ENV)
    try:
        call = await harness.slash("budget", permissions=ADMIN, amount=5.0)
        assert "No price is known for Claude, Llama: they will be refused" in call.texts[0]
        call = await harness.slash("open", question="Q", models="gpt,claude")
        assert "knows no price for Claude" in call.ephemeral_texts[0] and fake_llm.requests == []
        await harness.slash("open", question="Q", models="gpt")  # priced: fine
        assert len(fake_llm.requests) == 1
    finally:
        await harness.close()


async def test_allow_unpriced_lets_them_run_and_records_the_tokens(database: str, fake_llm: FakeLLM) -> None:
    harness = await make_harness(make_config(fake_llm, defaults__allow_unpriced=True,
                                             defaults__monthly_budget_usd=5.0), TEST_ENV)
    try:
        await harness.slash("open", question="Q", models="claude")
        [row] = await Spend.all()
        assert row.model_alias == "claude" and row.output_tokens > 0 and row.cost_usd == 0.0
    finally:
        await harness.close()
