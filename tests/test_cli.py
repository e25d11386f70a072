"""`moai` as a user runs it: one clear line and the right exit code for each startup problem."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import re
import sqlite3
import sys
from pathlib import Path

import pytest

from bot.secrets import RedactingFilter, Redactor
from tests.conftest import ANTHROPIC_KEY, OPENAI_KEY, TEST_ENV
from tests.db import migrated_sqlite_copy
from tests.fake_llm import FakeLLM
from tests.helpers import eventually, moai, write_config


async def test_run_without_token_exits_2(tmp_path: Path, fake_llm: FakeLLM) -> None:
    config = write_config(tmp_path / "c.toml", fake_llm)
    code, _, err = await moai("--config", str(config), "run", env={})
    assert code == 2
    assert err.startswith("moai: DISCORD_TOKEN is not set: export DISCORD_TOKEN=<your bot token>")
    assert err.count("\n") == 1


async def test_run_with_unreachable_database_says_so(tmp_path: Path, fake_llm: FakeLLM) -> None:
    config = write_config(tmp_path / "c.toml", fake_llm, db_url="postgres://moai:secret-pw@127.0.0.1:1/moai")
    code, _, err = await moai("--config", str(config), "run", env=TEST_ENV)
    assert code == 1
    [line] = [line for line in err.splitlines() if line.startswith("moai: ")]
    assert line.startswith("moai: database postgres://moai:***@127.0.0.1:1/moai: ")
    assert "secret-pw" not in err


async def test_broken_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[models.x]\nprovider = "nope"\nmodel = "x"\n')
    code, _, err = await moai("--config", str(path), "run", env=TEST_ENV)
    assert (code, err) == (2, f"moai: {path}: models.x.provider: unknown provider 'nope'\n")


async def test_check_reports_every_part(tmp_path: Path, fake_llm: FakeLLM) -> None:
    config = write_config(tmp_path / "c.toml", fake_llm, db_url=f"sqlite://{tmp_path / 'check.sqlite3'}")
    code, out, _ = await moai("--config", str(config), "check", env=TEST_ENV)
    assert code == 0, out
    assert "ok    database:" in out
    assert f"ok    provider fakeopenai: reachable at {fake_llm.openai_url} (3 models listed)" in out
    assert "ok    provider fakeanthropic" in out
    assert "warn  model ghost: 'not-listed' is not in fakeopenai's model list" in out
    assert {r.path for r in fake_llm.requests} == {"/v1/models"}
    assert fake_llm.requests[0].headers.get("Authorization") or fake_llm.requests[0].headers.get("x-api-key")


async def test_check_fails_on_missing_key_and_rejected_key(tmp_path: Path, fake_llm: FakeLLM) -> None:
    config = write_config(tmp_path / "c.toml", fake_llm)
    fake_llm.models_status = 401
    code, out, err = await moai("--config", str(config), "check", env={"FAKE_ANTHROPIC_KEY": ANTHROPIC_KEY})
    assert code == 1
    assert ("FAIL  provider fakeopenai: API key for fakeopenai is not set "
            "(environment variable FAKE_OPENAI_KEY)") in out
    assert "FAIL  provider fakeanthropic: authentication failed (HTTP 401) from fakeanthropic" in out
    assert ANTHROPIC_KEY not in out + err


async def test_check_provider_down(tmp_path: Path, fake_llm: FakeLLM) -> None:
    config = write_config(tmp_path / "c.toml", fake_llm)
    await fake_llm.stop()
    code, out, _ = await moai("--config", str(config), "check", env=TEST_ENV)
    assert code == 1 and "FAIL  provider fakeopenai: cannot reach fakeopenai" in out


async def test_migrate_creates_the_sqlite_schema(tmp_path: Path, fake_llm: FakeLLM) -> None:
    db_file = tmp_path / "moai.sqlite3"
    config = write_config(tmp_path / "c.toml", fake_llm, db_url=f"sqlite://{db_file}")  # fresh: this tests migrating
    code, out, _ = await moai("--config", str(config), "migrate", env=TEST_ENV)
    assert code == 0 and "migrations applied" in out
    tables = {row[0] for row in sqlite3.connect(db_file).execute("select name from sqlite_master")}
    assert {"guild", "project", "discussion", "round", "message"} <= tables


def test_log_records_are_redacted() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter(Redactor([OPENAI_KEY])))
    logger = logging.getLogger("moai.test.redaction")
    logger.addHandler(handler)
    try:
        logger.warning("request with key %s failed", OPENAI_KEY)
        try:
            raise RuntimeError(f"Authorization: Bearer {OPENAI_KEY}")
        except RuntimeError:
            logger.exception("boom")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert OPENAI_KEY not in output
    assert output.count("[redacted]") == 2 and "RuntimeError" in output


@pytest.mark.slow  # the real CLI in a subprocess
async def test_console_open_and_discuss(tmp_path: Path, fake_llm: FakeLLM) -> None:
    db_file = tmp_path / "console.sqlite3"
    config = write_config(tmp_path / "c.toml", fake_llm, db_url=migrated_sqlite_copy(db_file))
    code, out, err = await moai("--config", str(config), "console", "What is 6*7?", "--models", "gpt,claude",
                                env=TEST_ENV)
    assert code == 0, err
    assert "gpt-test answers: [" in out and "claude-test answers: [" in out and "Round 1" in out
    code, out, _ = await moai("--config", str(config), "console", "Debate it", "--mode", "discuss", "--rounds", "2",
                              "--models", "gpt,claude", env=TEST_ENV)
    assert code == 0 and "Round 1" in out and "Round 2" in out and "Round 3" not in out
    rows = sqlite3.connect(db_file).execute(
        "select d.mode, count(m.id) from discussion d join message m on m.discussion_id = d.id "
        "where m.author_kind = 'model' group by d.id order by d.id").fetchall()
    assert rows == [("open", 2), ("discuss", 4)]
    assert OPENAI_KEY not in out and ANTHROPIC_KEY not in out


@pytest.mark.slow  # the real CLI in a subprocess
async def test_console_bad_input(tmp_path: Path, fake_llm: FakeLLM) -> None:
    config = write_config(tmp_path / "c.toml", fake_llm)
    code, _, err = await moai("--config", str(config), "console", "Q", "--models", "gpt9", env=TEST_ENV)
    assert code == 2 and err.startswith("moai: Unknown model: `gpt9`.")
    code, _, err = await moai("--config", str(config), "console", "Q", "--mode", "discuss", "--rounds", "12",
                              env=TEST_ENV)
    assert (code, err) == (2, "moai: --rounds must be between 1 and 10 (got 12)\n")
    code, _, err = await moai("--config", str(config), "console", "--continue", "99", env=TEST_ENV)
    assert (code, err) == (2, "moai: There is no discussion #99 in this database.\n")
    code, _, err = await moai("--config", str(config), "console", "Q", "--continue", "1", env=TEST_ENV)
    assert code == 2 and "not a question and --continue" in err
    code, _, err = await moai("--config", str(config), "console", "Q", "--models", "", env=TEST_ENV)
    assert (code, err) == (2, "moai: --models names no model.\n")  # not the whole panel


@pytest.mark.slow  # the real CLI in a subprocess
async def test_console_never_prints_a_key(tmp_path: Path, fake_llm: FakeLLM) -> None:
    """A provider error that echoes the request (Authorization included) reaches the terminal scrubbed."""
    from tests.fake_llm import Script

    fake_llm.script("gpt-test", Script(status=400, echo_request_in_error=True))
    fake_llm.script("claude-test", Script(status=500, echo_request_in_error=True))
    config = write_config(tmp_path / "c.toml", fake_llm)
    code, out, err = await moai("--config", str(config), "console", "Leak?", "--models", "gpt,claude",
                                "--log-level", "DEBUG", "--log-format", "json", env=TEST_ENV)
    assert code == 1  # every model failed
    assert "echo:" in err and "[redacted]" in err  # the echoed request reached the log, scrubbed
    assert '"event": "model_failed"' in err  # structured lines, also scrubbed
    assert OPENAI_KEY not in out + err and ANTHROPIC_KEY not in out + err


@pytest.mark.slow  # the real CLI in a subprocess
async def test_usage_prints_the_table_and_writes_the_chart(tmp_path: Path, fake_llm: FakeLLM) -> None:
    """The ledger as `moai usage --png` shows it: rows summed per model, the chart a real PNG."""
    db = tmp_path / "moai.sqlite3"
    config = write_config(tmp_path / "c.toml", fake_llm, db_url=migrated_sqlite_copy(db))
    code, _, err = await moai("--config", str(config), "migrate", env={})
    assert code == 0, err
    with sqlite3.connect(db) as connection:
        for guild, alias, name, cost in [(1, "gpt", "GPT", 0.25), (1, "gpt", "GPT", 0.5), (2, "claude", "Claude", 2.0)]:
            connection.execute("INSERT INTO spend (guild_id, model_alias, model_name, provider, input_tokens, "
                               "output_tokens, cost_usd, created_at) VALUES (?, ?, ?, 'p', 10, 20, ?, "
                               "strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))", (guild, alias, name, cost))
    chart = tmp_path / "usage.png"
    code, out, err = await moai("--config", str(config), "usage", "--guild", "1", "--png", str(chart), env={})
    assert code == 0, err
    assert "GPT" in out and "$0.7500" in out and "Claude" not in out
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    code, out, _ = await moai("--config", str(config), "usage", env={})
    assert "Claude" in out and "$2.7500" in out


@pytest.mark.slow  # the real CLI in a subprocess
async def test_console_continues_and_concludes_a_stored_discussion(tmp_path: Path, fake_llm: FakeLLM) -> None:
    """The console reaches the same use cases as Discord: more rounds of a stored discussion, then a consensus."""
    db_file = tmp_path / "console.sqlite3"
    config = write_config(tmp_path / "c.toml", fake_llm, db_url=migrated_sqlite_copy(db_file))
    code, _, err = await moai("--config", str(config), "console", "Tabs or spaces?", "--models", "gpt,claude",
                              env=TEST_ENV)
    assert code == 0, err
    code, out, err = await moai("--config", str(config), "console", "--continue", "1", "--rounds", "2",
                                env=TEST_ENV)
    assert code == 0, err
    assert "Continuing: 2 more round(s)." in out and "Round 2" in out and "Round 3" in out
    code, out, err = await moai("--config", str(config), "console", "--consensus", "1", env=TEST_ENV)
    assert code == 0, err
    assert "Asking for a consensus." in out
    rows = sqlite3.connect(db_file).execute("select kind, count(*) from round group by kind order by kind").fetchall()
    assert rows == [("consensus", 1), ("discuss", 2), ("open", 1)]


@pytest.mark.slow  # the real CLI in a subprocess, interrupted
async def test_ctrl_c_in_the_console_keeps_what_was_said(tmp_path: Path, fake_llm: FakeLLM) -> None:
    """It used to print hundreds of lines of tracebacks and leave the answers `streaming` with empty text."""
    import signal

    from tests.fake_llm import Script
    from tests.helpers import ROOT

    fake_llm.script("gpt-test", Script(text="word " * 1000, chunk_chars=5, token_interval=0.01))
    db_file = tmp_path / "console.sqlite3"
    config = write_config(tmp_path / "c.toml", fake_llm, db_url=migrated_sqlite_copy(db_file))
    base = {k: v for k, v in os.environ.items() if k not in TEST_ENV}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), "console", "Long?", "--models", "gpt", cwd=ROOT,
        env={**base, **TEST_ENV}, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        # As at a terminal: a suite started in the background (`.ci/run &`) inherits SIGINT ignored, and so
        # would the console, which then never sees the Ctrl-C this test sends.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    # a loaded machine (four test workers on two cores) can take several seconds to start the console
    await eventually(lambda: fake_llm.requests and fake_llm.active_streams, within=30)
    await asyncio.sleep(0.5)  # some of the answer has streamed
    process.send_signal(signal.SIGINT)
    _, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 130
    assert "Traceback" not in err.decode() and len(err.decode().splitlines()) <= 3
    [(status, content)] = sqlite3.connect(db_file).execute(
        "select status, content from message where author_kind = 'model'").fetchall()
    assert status == "cancelled" and content.startswith("word word")
    [(discussion_status,)] = sqlite3.connect(db_file).execute("select status from discussion").fetchall()
    assert discussion_status == "cancelled"


ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[=>78]")


def screen_text(raw: bytes) -> str:
    """What a terminal shows of the bytes, near enough: escapes and box borders out, lines joined."""
    text = ANSI.sub("", raw.decode("utf-8", "replace")).replace("\r", "\n")
    return re.sub(r"[│╭╮╰╯─]+", " ", text)


@pytest.mark.slow  # the real CLI in a subprocess, on a pseudo-terminal
async def test_the_console_streams_on_a_terminal(tmp_path: Path, fake_llm: FakeLLM) -> None:
    """A header before anything else, each answer's last words while it streams (not a character count), the
    cost in each answer's subtitle, the attached file, and a failure's whole text inside its panel."""
    import pty

    from tests.fake_llm import Script
    from tests.helpers import ROOT

    words = " ".join(f"w{n:03}" for n in range(120))
    fake_llm.script("gpt-test", Script(text=words, chunk_chars=5, token_interval=0.03, ttft=0.2))
    fix = "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to " \
          "upgrade or purchase credits. END-OF-ERROR"
    fake_llm.script("claude-test", Script(status=400, error_message=fix))
    config = write_config(tmp_path / "c.toml", fake_llm, db_url=migrated_sqlite_copy(tmp_path / 'c.sqlite3'))
    config.write_text(config.read_text().replace('model = "gpt-test"',
                                                 'model = "gpt-test"\ninput_price = 1.0\noutput_price = 2.0'))
    notes = tmp_path / "notes.txt"
    notes.write_text("buy milk")
    leader, follower = pty.openpty()
    base = {k: v for k, v in os.environ.items() if k not in TEST_ENV}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), "console", "Which words?", "--models", "gpt,claude",
        "--attach", str(notes), cwd=ROOT, env={**base, **TEST_ENV, "COLUMNS": "100", "LINES": "40",
                                               "TERM": "xterm-256color"},
        stdin=follower, stdout=follower, stderr=asyncio.subprocess.PIPE)
    os.close(follower)
    seen = bytearray()
    while_streaming = bytearray()
    loop = asyncio.get_running_loop()
    finished = loop.create_future()

    def readable() -> None:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the console exited: the terminal is closed
            data = b""
        if not data:
            loop.remove_reader(leader)
            if not finished.done():
                finished.set_result(None)
            return
        seen.extend(data)
        if fake_llm.active_streams:
            while_streaming.extend(data)

    loop.add_reader(leader, readable)
    try:
        await asyncio.wait_for(process.wait(), timeout=60)
        await asyncio.wait_for(finished, timeout=10)
    finally:
        loop.remove_reader(leader)
        os.close(leader)
    assert process.returncode == 0, await process.stderr.read() if process.stderr else b""
    shown = screen_text(bytes(seen))
    first_line = next(line for line in shown.splitlines() if line.strip())
    assert first_line.startswith("moai · open · asking gpt, claude: Which words?")
    streaming = screen_text(bytes(while_streaming))
    tails = set(re.findall(r"w\d{3}", streaming))
    assert len(tails) >= 10 and "chars" not in streaming  # the text itself, as it arrives
    assert "📎 notes.txt (text, 8 characters)" in shown
    assert re.search(r"✓ gpt · [\d.]+ s · [\d,]+ → [\d,]+ tokens · \$0\.\d{4}", shown)
    panels = " ".join(shown.split("Round 1", 1)[1].split())  # what stays on screen after the live table
    assert " ".join(fix.split()) in panels  # the whole provider message, wrapped inside the panel, not cut
    assert "✗ claude · failed" in panels


async def test_the_console_says_which_models_saw_the_images() -> None:
    from rich.console import Console

    from bot.console import ConsoleDisplay
    from bot.db.models import Round
    from bot.engine.notices import ImagesSeen
    from bot.engine.rounds import RoundResult
    from bot.kinds import RoundKind

    out = io.StringIO()
    result = RoundResult(Round(number=1, kind=RoundKind.OPEN), [], images=ImagesSeen(("GPT", "Claude"), ("Llama",)))
    await ConsoleDisplay(Console(file=out, width=100)).end_round(result)
    assert "🖼️ Images seen by GPT, Claude · not by Llama (no image input)" in out.getvalue()
