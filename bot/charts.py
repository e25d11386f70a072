"""Charts as PNG bytes, in moai's one chart style (bot/chart_style.py).

matplotlib's object API on its Agg canvas: headless, no pyplot state. Each chart has a `*_figure` builder
(tests measure its texts) and a function returning the PNG. Value labels are never free-floating text
beside the data (they could collide with another series): they sit in the tick labels and the legend.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from bot.chart_style import BACKGROUND, GRID, MUTED, TEXT, WARNING, Palette, money_decimals, new_figure, png, wrap
from bot.config import AppConfig
from bot.forecasting.scores import Bucket
from bot.services.ledger import UsageReport
from bot.stances import Timeline

__all__ = [
    "calibration_chart",
    "calibration_figure",
    "chart_palette",
    "leaderboard_chart",
    "leaderboard_figure",
    "month_chart",
    "spend_chart",
    "spend_figure",
    "stance_chart",
    "stance_figure",
]

NO_PALETTE = Palette()


def chart_palette(config: AppConfig) -> Palette:
    """The server's model colours: its configured models by display name, in config order."""
    return Palette([model.name for model in config.models.values()])


def _legend_under(figure: Figure, handles: Sequence[Any], labels: Sequence[str], columns: int) -> None:
    if handles:
        figure.legend(handles, labels, loc="outside lower center", ncols=max(1, min(columns, len(handles))),
                      handlelength=1.2, columnspacing=1.4)


def spend_figure(daily: Mapping[date, Mapping[str, float]], first: date, last: date, title: str,
                 palette: Palette = NO_PALETTE, today: date | None = None) -> Figure:
    """Spend per day, stacked by model (each in its server colour), from `first` to `last` inclusive; the
    legend under the plot gives each model's total with the axis's precision, and the daily average."""
    days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    totals: dict[str, float] = {}
    for per_model in daily.values():
        for model, cost in per_model.items():
            totals[model] = totals.get(model, 0.0) + cost
    models = sorted(totals, key=lambda name: totals[name], reverse=True)  # biggest spender at the bottom
    figure = new_figure(4.8 + 0.3 * ((len(models) + 2) // 3))
    axes = figure.add_subplot()
    base = [0.0] * len(days)
    handles: list[Any] = []
    for model in models:
        heights = [daily.get(day, {}).get(model, 0.0) for day in days]
        handles.append(axes.bar([day.day for day in days], heights, bottom=base, color=palette.colour(model),
                                width=0.8, edgecolor=BACKGROUND, linewidth=0.5))
        base = [b + h for b, h in zip(base, heights, strict=True)]
    decimals = money_decimals(max(base, default=0.0))  # the axis's; a label shows at least as many

    def money(amount: float) -> str:
        return f"${amount:,.{max(decimals, money_decimals(amount))}f}"

    labels = [f"{model}  {money(totals[model])}" for model in models]
    axes.set_title(title, loc="left")
    axes.set_xlabel(f"day of {first:%B %Y}")
    axes.set_xlim(0.3, len(days) + 0.7)
    axes.set_xticks([day.day for day in days if day.day == 1 or day.day % 5 == 0])
    axes.yaxis.set_major_formatter(lambda value, _: f"${value:,.{decimals}f}")
    axes.grid(axis="y")
    axes.set_axisbelow(True)
    if models:
        elapsed = ((min(today, last) if today else max(daily, default=first)) - first).days + 1
        average = sum(totals.values()) / max(1, elapsed)
        handles.append(axes.axhline(average, color=TEXT, linestyle="--", linewidth=1.2))
        labels.append(f"average {money(average)} a day")
        _legend_under(figure, handles, [wrap(label, 34) for label in labels], 3)
    else:
        axes.text(0.5, 0.5, "nothing spent yet", transform=axes.transAxes, ha="center", va="center", color=MUTED)
    return figure


def spend_chart(daily: Mapping[date, Mapping[str, float]], first: date, last: date, title: str,
                palette: Palette = NO_PALETTE, today: date | None = None) -> bytes:
    return png(spend_figure(daily, first, last, title, palette, today))


def month_chart(report: UsageReport, title: str, palette: Palette = NO_PALETTE) -> bytes:
    """A usage report's month, day by day (the days after today are left blank, not cut off)."""
    first = report.since.date()
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return spend_chart(report.daily, first, last, f"{title}, {first:%B %Y}", palette)


def stance_figure(line: Timeline, palette: Palette = NO_PALETTE) -> Figure:
    """Each model's row in its colour: the position it held (the letter in the marker), how sure it was (the
    marker's size and the % under it), a change of mind ringed — white when it gave a new argument, red
    when it did not. The positions, in full, are listed under the plot."""
    wrapped = [wrap(position, 84) for position in line.positions]
    legend_lines = sum(text.count("\n") + 1 for text in wrapped) + 2
    figure = new_figure(1.6 + 0.85 * len(line.models) + 0.27 * legend_lines)
    axes = figure.add_subplot()
    rows = {model: index for index, model in enumerate(reversed(line.models))}
    for model in line.models:
        colour = palette.colour(model)
        xs, ys = [], []
        for number in line.rounds:
            cell = line.cells[(model, number)]
            if cell.group is None:
                axes.text(number, rows[model], "?", ha="center", va="center", color=MUTED, fontsize=14)
                continue
            xs.append(number)
            ys.append(rows[model])
            confidence = cell.stance.confidence
            ring = WARNING if cell.flagged else TEXT if cell.changed else BACKGROUND
            axes.scatter([number], [rows[model]], s=260 + 4 * (confidence if confidence is not None else 50),
                         color=colour, edgecolors=ring, linewidths=3 if cell.changed else 1, zorder=3)
            axes.text(number, rows[model], line.label(cell.group), ha="center", va="center", color=BACKGROUND,
                      fontsize=12, fontweight="bold", zorder=4)
            if confidence is not None:
                axes.text(number, rows[model] - 0.3, f"{confidence}%", ha="center", va="top", fontsize=12,
                          color=TEXT)
        axes.plot(xs, ys, color=colour, alpha=0.45, linewidth=2, zorder=1)
    axes.set_yticks(list(rows.values()), list(rows))
    axes.set_xticks(list(line.rounds), [f"round {n}" for n in line.rounds])
    axes.set_xlim(min(line.rounds) - 0.6, max(line.rounds) + 0.6)
    axes.set_ylim(-0.8, len(line.models) - 0.5)
    axes.tick_params(axis="y", length=0)
    axes.spines["left"].set_visible(False)
    majority = line.majority(min(line.rounds))
    axes.set_title("Stance timeline" + (f" · round {min(line.rounds)} majority: {line.label(majority)}"
                                        if majority is not None else ""), loc="left")
    handles: list[Any] = [Line2D([], [], linestyle="", marker="o", markersize=11, markerfacecolor=MUTED,
                                    markeredgecolor=edge, markeredgewidth=2.5) for edge in (TEXT, WARNING)]
    labels = ["changed, with a new argument", "changed without a new argument"]
    handles += [Line2D([], [], linestyle="", marker=f"${line.label(group)}$", markersize=11, color=TEXT)
                for group in range(len(line.positions))]
    labels += wrapped
    figure.legend(handles, labels, loc="outside lower left", ncols=1, handlelength=1.0, alignment="left")
    return figure


def stance_chart(line: Timeline, palette: Palette = NO_PALETTE) -> bytes:
    return png(stance_figure(line, palette))


def leaderboard_figure(names: Sequence[str], human: Sequence[tuple[float, float, float] | None],
                       peer: Sequence[tuple[float, float, float] | None], title: str,
                       palette: Palette = NO_PALETTE) -> Figure:
    """Each model's rating with its 95% interval, in its colour: members' votes (filled), the peer-review
    rating (hollow) beside it. The values are in the row's label, so no number can sit on another's marker."""
    figure = new_figure(2.2 + 0.6 * max(2, len(names)))
    axes = figure.add_subplot()
    rows = list(range(len(names)))[::-1]  # the best at the top
    for offset, series, filled in ((0.14, human, True), (-0.14, peer, False)):
        for row, name, value in zip(rows, names, series, strict=True):
            if value is None:
                continue
            colour = palette.colour(name)
            axes.errorbar([value[0]], [row + offset], xerr=[[value[0] - value[1]], [value[2] - value[0]]],
                          fmt="o" if filled else "D", color=colour, markersize=9 if filled else 7, capsize=4,
                          markerfacecolor=colour if filled else BACKGROUND, markeredgewidth=2, elinewidth=2)
    labels = []
    for name, mine, theirs in zip(names, human, peer, strict=True):
        values = [f"{mine[0]:,.0f}"] if mine else ["—"]
        if theirs:
            values.append(f"peer {theirs[0]:,.0f}")
        labels.append(f"{name}\n{' · '.join(values)}")
    axes.set_yticks(rows, labels)
    axes.set_ylim(-0.6, len(names) - 0.4)
    axes.tick_params(axis="y", length=0)
    axes.spines["left"].set_visible(False)
    axes.axvline(1000, color=MUTED, linestyle="--", linewidth=1.2, zorder=0)
    axes.grid(axis="x")
    axes.set_axisbelow(True)
    axes.set_xlabel("rating (Bradley-Terry, Elo scale); bars: 95% interval")
    axes.set_title(title, loc="left")
    handles = [Line2D([], [], linestyle="", marker="o", markersize=9, color=TEXT),
               Line2D([], [], linestyle="", marker="D", markersize=7, markerfacecolor=BACKGROUND,
                      markeredgecolor=TEXT, markeredgewidth=2),
               Line2D([], [], color=MUTED, linestyle="--")]
    _legend_under(figure, handles, ["members' votes", "peer review", "average (1,000)"], 3)
    for spine in axes.spines.values():
        spine.set_color(GRID)
    return figure


def leaderboard_chart(names: Sequence[str], human: Sequence[tuple[float, float, float] | None],
                      peer: Sequence[tuple[float, float, float] | None], title: str,
                      palette: Palette = NO_PALETTE) -> bytes:
    return png(leaderboard_figure(names, human, peer, title, palette))


def calibration_figure(buckets: Sequence[Bucket], name: str, title: str, palette: Palette = NO_PALETTE) -> Figure:
    """Predicted probability against how often it came true, one point per bucket sized by its forecasts; the
    diagonal is perfect calibration. The counts sit under the axis, never on a point."""
    figure = new_figure(6.4)
    axes = figure.add_subplot()
    axes.plot([0, 1], [0, 1], color=MUTED, linestyle="--", linewidth=1.2, zorder=0)
    colour = palette.colour(name)
    largest = max((b.count for b in buckets), default=1)
    axes.plot([b.predicted for b in buckets], [b.observed for b in buckets], color=colour, linewidth=2)
    axes.scatter([b.predicted for b in buckets], [b.observed for b in buckets], color=colour, zorder=3,
                 s=[40 + 260 * b.count / largest for b in buckets])
    axes.set_xlim(-0.03, 1.03)
    axes.set_ylim(-0.03, 1.03)
    axes.set_xticks([i / 10 for i in range(0, 11, 2)], [f"{i * 10}%" for i in range(0, 11, 2)])
    axes.set_yticks([i / 10 for i in range(0, 11, 2)], [f"{i * 10}%" for i in range(0, 11, 2)])
    axes.set_xlabel("forecast probability\n" + wrap("forecasts per bucket: " + ", ".join(
        f"{b.low:.0%}–{b.low + 0.1:.0%}: {b.count}" for b in buckets), 72))
    axes.set_ylabel("came true")
    axes.grid(True)
    axes.set_axisbelow(True)
    axes.set_title(wrap(title, 70), loc="left")
    for spine in axes.spines.values():
        spine.set_color(GRID)
    return figure


def calibration_chart(buckets: Sequence[Bucket], name: str, title: str, palette: Palette = NO_PALETTE) -> bytes:
    return png(calibration_figure(buckets, name, title, palette))
