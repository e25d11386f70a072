"""Draw the README's pictures: each chart moai posts, from fixed sample data, into docs/images/.

    .venv/bin/python -m docs.pictures

The samples are also what tests/test_charts.py renders and measures, so the pictures in the README are the
charts the tests check.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from matplotlib.figure import Figure

from bot.chart_style import Palette
from bot.charts import leaderboard_figure, spend_figure, stance_figure
from bot.stances import Stance, Timeline, timeline

__all__ = ["SERVER", "leaderboard_sample", "main", "spend_sample", "stance_sample", "stance_timeline"]

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


def main() -> None:
    IMAGES.mkdir(exist_ok=True)
    for name, figure in (("stance-timeline", stance_sample()), ("usage", spend_sample()),
                         ("leaderboard", leaderboard_sample())):
        path = IMAGES / f"{name}.png"
        figure.savefig(path, format="png")
        print(f"wrote {path.relative_to(IMAGES.parent.parent)}")


if __name__ == "__main__":
    main()
