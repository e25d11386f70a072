"""Helpers the test modules share (one place: no test module imports another)."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import discord
from PIL import Image

from bot.db.models import Discussion, Message, Round
from bot.kinds import DiscussionStatus
from tests.conftest import TEST_ENV
from tests.db import migrated_sqlite_copy
from tests.discord_harness import DiscordHarness, InteractionCall
from tests.fake_llm import FakeLLM, Script

ROOT = Path(__file__).resolve().parent.parent


async def eventually(condition: Callable[[], object], within: float = 3.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def system_of(body: dict[str, Any]) -> str:
    return str(body.get("system") or body["messages"][0]["content"])


def said_round(body: dict[str, Any]) -> str:
    """Fake reply that names the round the model was told it is in."""
    system = system_of(body)
    for number in range(1, 11):
        if f"round {number} of" in system or (number == 1 and "Round 1:" in system):
            return f"{body['model']} speaking in round {number}"
    return f"{body['model']} answering a mention"


def write_config(path: Path, fake: FakeLLM, db_url: str | None = None) -> Path:
    """A config for the CLI in a subprocess; its database (unless given) a migrated copy beside it."""
    db_url = db_url or migrated_sqlite_copy(path.with_suffix(".sqlite3"))
    path.write_text(f"""
[database]
url = "{db_url}"
[providers.fakeopenai]
kind = "openai"
base_url = "{fake.openai_url}"
api_key_env = "FAKE_OPENAI_KEY"
[providers.fakeanthropic]
kind = "anthropic"
base_url = "{fake.anthropic_url}"
api_key_env = "FAKE_ANTHROPIC_KEY"
[models.gpt]
provider = "fakeopenai"
model = "gpt-test"
[models.claude]
provider = "fakeanthropic"
model = "claude-test"
[models.ghost]
provider = "fakeopenai"
model = "not-listed"
""")
    return path


async def moai(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    base = {k: v for k, v in os.environ.items() if k not in TEST_ENV}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=ROOT, env={**base, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def crash_mid_round(harness: DiscordHarness, fake_llm: FakeLLM) -> Discussion:
    """Leave the DB exactly as a killed process would: rows as of the last checkpoint, still 'running'."""
    harness.bot.services.orchestrator.runner.checkpoint_interval = 0.05
    fake_llm.script("gpt-test", Script(reply=said_round),
                    Script(text="half of round two " * 20, chunk_chars=6, token_interval=0.02))
    fake_llm.script("claude-test", Script(reply=said_round))
    await harness.slash("discuss", topic="Survive a restart", rounds=2, models="gpt,claude", wait=False)
    [thread] = harness.threads
    discussion = await Discussion.get(thread_id=thread.id)
    await eventually(lambda: len(fake_llm.requests) >= 3)
    await asyncio.sleep(0.2)  # round 2 is streaming and has been checkpointed
    snapshot_rounds = await Round.filter(discussion=discussion).values("id", "status", "finished_at")
    snapshot_messages = await Message.filter(discussion=discussion).values("id", "status", "content")
    await harness.bot.services.runs.stop(thread.id)
    for row in snapshot_rounds:
        await Round.filter(id=row["id"]).update(status=row["status"], finished_at=row["finished_at"])
    for row in snapshot_messages:
        await Message.filter(id=row["id"]).update(status=row["status"], content=row["content"])
    await Discussion.filter(id=discussion.id).update(status=DiscussionStatus.RUNNING)
    for extension in list(harness.bot.extensions):  # a fresh process: no memory of what was running
        await harness.bot.reload_extension(extension)
    return discussion


def png(width: int, height: int, colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def pdf(text: str, stream: bytes | None = None, filters: bytes = b"") -> bytes:
    """A one-page PDF with `text` on it, written by hand (offsets computed) so no PDF writer is needed;
    `stream` (with its `filters`) replaces the page's content stream."""
    stream = stream if stream is not None else f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length " + str(len(stream)).encode() + filters + b" >>\nstream\n" + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


async def press_forged(harness: DiscordHarness, message: discord.Message, custom_id: str) -> InteractionCall:
    """A press of a button carrying `custom_id` on `message` (Discord only delivers ids the message carries:
    this is a button moai made for another discussion, pasted under this one)."""
    from discord.ext.test import factories as facts

    payload = harness._interaction_payload(3, "", [], message.channel, harness.member)  # type: ignore[arg-type]
    payload["data"] = {"custom_id": custom_id, "component_type": 2}
    payload["message"] = facts.dict_from_message(message)
    payload["message"]["components"] = [{"type": 1, "components": [
        {"type": 2, "style": 1, "label": "forged", "custom_id": custom_id}]}]
    await harness._dispatch(payload, invoker="")
    await harness.bot.services.runs.wait_idle()
    return harness.adapter.calls.get(payload["token"]) or InteractionCall(int(payload["id"]), payload["token"])
