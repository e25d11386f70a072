"""Draw the README's pictures: each chart moai posts, from fixed sample data, and a screenshot of the HTML
export of a sample debate (headless Chromium: Debian's `chromium`), into docs/images/.

    .venv/bin/python -m docs.pictures

The chart samples are also what tests/test_charts.py renders and measures, so the pictures in the README are
the charts the tests check.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

from matplotlib.figure import Figure

from bot.chart_style import Palette
from bot.charts import calibration_figure, leaderboard_figure, spend_figure, stance_figure
from bot.forecasting.scores import Bucket
from bot.stances import Stance, Timeline, timeline

__all__ = ["SERVER", "export_sample", "leaderboard_sample", "main", "spend_sample", "stance_sample",
           "stance_timeline"]

IMAGES = Path(__file__).resolve().parent / "images"
SERVER = Palette(["GPT-5", "Claude Opus", "Gemini Pro", "Llama 70B", "DeepSeek 量子"])  # config order


def stance_timeline() -> Timeline:
    said = {
        ("GPT-5", 1): Stance("Use PostgreSQL for the event store, not MongoDB", 80),
        ("Claude Opus", 1): Stance("Use MongoDB for the event store instead of PostgreSQL", 60),
        ("Gemini Pro", 1): Stance("Use PostgreSQL for the event store, not MongoDB", 70),
        ("DeepSeek 量子", 1): Stance("用 PostgreSQL 存储事件，不用 MongoDB", 55),
        ("GPT-5", 2): Stance("Use PostgreSQL for the event store, not MongoDB", 85),
        ("Claude Opus", 2): Stance("Use PostgreSQL for the event store, not MongoDB", 65, True,
                                   "The append-only table with a unique (stream, version) index settles ordering"),
        ("Gemini Pro", 2): Stance("Use MongoDB for the event store instead of PostgreSQL", 50, True,
                                  "I was persuaded by the consensus of the other participants"),
        ("DeepSeek 量子", 2): Stance(None),
        ("GPT-5", 3): Stance("Use PostgreSQL for the event store, not MongoDB", 90),
        ("Claude Opus", 3): Stance("Use PostgreSQL for the event store, not MongoDB", 75),
        ("Gemini Pro", 3): Stance("Use PostgreSQL for the event store, not MongoDB", 70),
        ("DeepSeek 量子", 3): Stance("用 PostgreSQL 存储事件，不用 MongoDB", 60),
    }
    return timeline(said, ["GPT-5", "Claude Opus", "Gemini Pro", "DeepSeek 量子"], [1, 2, 3], 0.6)


def stance_sample() -> Figure:
    return stance_figure(stance_timeline(), SERVER)


def spend_sample() -> Figure:
    daily = {date(2026, 12, day): {"GPT-5": 0.31 * day % 1.7, "Claude Opus": 0.42 + 0.05 * day,
                                   "Llama 70B": 0.0041 if day == 2 else 0.0}
             for day in range(1, 19)}
    return spend_figure(daily, date(2026, 12, 1), date(2026, 12, 31), "Spend for Example Server, December 2026",
                        SERVER, today=datetime(2026, 12, 18, tzinfo=UTC).date())


def leaderboard_sample() -> Figure:
    names = ["Claude Opus", "GPT-5", "Gemini Pro", "Llama 70B"]
    human = [(1084.0, 1031.0, 1140.0), (1041.0, 990.0, 1093.0), (968.0, 915.0, 1020.0), None]
    peer = [(1061.0, 1012.0, 1110.0), (1069.0, 1020.0, 1121.0), None, (902.0, 850.0, 955.0)]
    return leaderboard_figure(names, human, peer, "Leaderboard · all time · 412 votes", SERVER)


def calibration_sample() -> Figure:
    """A model a little overconfident at the top: 120 resolved forecasts."""
    buckets = [Bucket(0.0, 18, 0.05, 0.06), Bucket(0.1, 14, 0.15, 0.14), Bucket(0.2, 12, 0.25, 0.33),
               Bucket(0.3, 9, 0.35, 0.33), Bucket(0.4, 11, 0.45, 0.45), Bucket(0.5, 10, 0.55, 0.5),
               Bucket(0.6, 13, 0.66, 0.62), Bucket(0.7, 12, 0.75, 0.67), Bucket(0.8, 12, 0.85, 0.75),
               Bucket(0.9, 9, 0.95, 0.78)]
    return calibration_figure(buckets, "Claude Opus", "Claude Opus: calibration over 120 resolved forecast(s)",
                              SERVER)


ANSWERS = {
    ("gpt", 1): ("Use **PostgreSQL**: an append-only `events` table with a unique `(stream_id, version)` index "
                 "gives ordering and optimistic concurrency for free.\n\n| need | PostgreSQL | MongoDB |\n"
                 "| --- | --- | --- |\n| ordering per stream | unique index | app code |\n"
                 "| transactions across streams | yes | limited |", "Use PostgreSQL for the event store", 80),
    ("claude", 1): ("MongoDB's document model fits events naturally, and change streams give projections a feed.",
                    "Use MongoDB for the event store", 60),
    ("gemini", 1): ("PostgreSQL. `LISTEN/NOTIFY` or logical replication covers the projection feed.",
                    "Use PostgreSQL for the event store", 70),
    ("gpt", 2): ("Still PostgreSQL: nothing in round 1 changed the ordering argument.",
                 "Use PostgreSQL for the event store", 85),
    ("claude", 2): ("Conceded: the unique `(stream_id, version)` index settles ordering, which change streams do "
                    "not.", "Use PostgreSQL for the event store", 70),
    ("gemini", 2): ("PostgreSQL, with a partitioned table once streams pass a few hundred million events.",
                    "Use PostgreSQL for the event store", 75),
}
NAMES = {"gpt": "GPT-5", "claude": "Claude Opus", "gemini": "Gemini Pro"}


async def export_sample() -> str:
    """The HTML export of a two-round debate and its consensus, from rows made as moai makes them."""
    from bot.db.models import ConsensusReport, Discussion, Message, Round, StanceRecord
    from bot.db.setup import close_database, open_database
    from bot.export import export
    from bot.kinds import AuthorKind, DiscussionMode, DiscussionStatus, MessageStatus, RoundKind

    await open_database("sqlite://:memory:")
    try:
        question = "PostgreSQL or MongoDB for our event store?"
        discussion = await Discussion.create(mode=DiscussionMode.DISCUSS, question=question, models=list(NAMES),
                                             rounds_planned=2, status=DiscussionStatus.COMPLETED)
        await Message.create(discussion=discussion, author_kind=AuthorKind.USER, author_name="Alice",
                             content=question)
        for number in (1, 2):
            round_ = await Round.create(discussion=discussion, number=number, kind=RoundKind.DISCUSS)
            for alias, name in NAMES.items():
                text, position, confidence = ANSWERS[(alias, number)]
                changed = alias == "claude" and number == 2
                message = await Message.create(
                    discussion=discussion, round=round_, author_kind=AuthorKind.MODEL, author_name=name,
                    model_alias=alias, content=text, status=MessageStatus.COMPLETE, input_tokens=900 * number,
                    output_tokens=240, latency_ms=6400, cost_usd=0.0042 * number)
                await StanceRecord.create(message=message, discussion=discussion, round_number=number,
                                          model_alias=alias, position=position, confidence=confidence,
                                          changed=changed, reason="the unique index settles ordering" if changed
                                          else "")
        await ConsensusReport.create(
            discussion=discussion, moderator="claude", agreement="PostgreSQL's unique index gives ordering.",
            stances={name: f"{ANSWERS[(alias, 2)][1]} ({ANSWERS[(alias, 2)][2]}%)" for alias, name in NAMES.items()},
            minority_report="None: Claude moved with a new argument (the index), not with the majority.",
            final_answer="Use **PostgreSQL**: one append-only `events` table, a unique `(stream_id, version)` "
                         "index for ordering and optimistic concurrency, logical replication to feed projections.")
        return await export(discussion, "html")
    finally:
        await close_database()


def screenshot(page: str, path: Path) -> bool:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("no chromium: the export screenshot was not taken (Debian: apt install chromium)")
        return False
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "export.html"
        source.write_text(page)
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--user-data-dir={tmp}/profile", f"--screenshot={path}", "--window-size=1100,1500",
                        "--force-dark-mode", source.as_uri()], check=True, capture_output=True, timeout=120)
    return True


def main() -> None:
    IMAGES.mkdir(exist_ok=True)
    for name, figure in (("stance-timeline", stance_sample()), ("usage", spend_sample()),
                         ("leaderboard", leaderboard_sample()), ("calibration", calibration_sample())):
        path = IMAGES / f"{name}.png"
        figure.savefig(path, format="png")
        print(f"wrote {path.relative_to(IMAGES.parent.parent)}")
    if screenshot(asyncio.run(export_sample()), IMAGES / "export.png"):
        print("wrote docs/images/export.png")


if __name__ == "__main__":
    main()
