"""One bot process of a two-shard deployment, for tests/test_scale_out.py.

Builds the real MoaiBot with its shard ids, runs setup_hook (DB, cogs), then at an agreed instant fires
admissions (budget + cooldown) at the shared database and prints how many it won, as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from bot.config import parse_config
from bot.db.models import Discussion
from bot.errors import UserError
from bot.llm.types import ChatMessage, StreamEnd, Usage
from bot.services import ledger
from cogs.client import MoaiBot

GUILD = 4242
ATTEMPTS = 12


def config(db_url: str, cooldown: float, llm_url: str = "http://127.0.0.1:9/v1", redis_url: str = ""):
    return parse_config({
        "discord": {"sync_commands": False},
        "database": {"url": db_url},
        "redis": {"url": redis_url},
        "defaults": {"monthly_budget_usd": 5.0, "user_cooldown_seconds": cooldown},
        "providers": {"p": {"kind": "openai", "base_url": llm_url, "max_concurrency": 2}},
        # $1 worst case per run: 1000 output tokens at $1000 per million.
        "models": {"m": {"provider": "p", "model": "m", "max_tokens": 1000, "input_price": 0.0,
                         "output_price": 1000.0}},
    })


async def main(db_url: str, shard: int, start_at: float, mode: str, llm_url: str, redis_url: str) -> None:
    cooldown = 60.0 if mode == "cooldown" else 0.0
    bot = MoaiBot(config(db_url, cooldown, llm_url, redis_url), environ={}, shard_ids=[shard], shard_count=2)
    await bot._async_setup_hook()
    await bot.setup_hook()
    model = bot.config.models["m"]
    await asyncio.sleep(max(0.0, start_at - time.time()))

    async def attempt(user: int) -> bool:
        try:
            await bot.services.admission.admit(GUILD, user, [model], 10)
            return True
        except UserError:
            return False

    async def bill(user: int) -> bool:
        await ledger.record(ledger.Payer(GUILD, user), None, model, Usage(10, 1000), 0.25)
        return True

    async def claim(_: int) -> bool:
        discussion = await Discussion.get(id=1)
        return await bot.services.store.claim(discussion)

    async def remind(_: int) -> bool:
        forecasts = bot.services.roundtable.forecasts
        assert forecasts is not None
        claimed = await forecasts.claim_due_reminders([GUILD])
        for prediction in claimed:
            print(json.dumps({"claimed": prediction.id}), flush=True)
            if mode == "remind-and-die":
                await asyncio.sleep(3600)  # SIGKILLed here: claimed, never marked
            await forecasts.mark_reminded(prediction)
        return bool(claimed)

    async def ask(_: int) -> bool:
        async for event in bot.clients.stream(model, [ChatMessage("user", "hi")]):
            if isinstance(event, StreamEnd):
                return True
        return False

    users = [7] * ATTEMPTS if mode in ("cooldown", "member") else [100 * shard + i for i in range(ATTEMPTS)]
    action = {"ledger": bill, "claim": claim, "limits": ask, "remind": remind, "remind-and-die": remind}.get(
        mode, attempt)
    won = sum(await asyncio.gather(*(action(user) for user in users)))
    print(json.dumps({"shard": shard, "won": won}))
    await bot.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], *sys.argv[5:7]))
