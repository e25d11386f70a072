"""Charts as PNG bytes (matplotlib's object API on its Agg canvas: headless, no pyplot global state)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from matplotlib.figure import Figure

from bot.services.ledger import UsageReport
from bot.stances import Timeline

PALETTE = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c", "#ccb974",
           "#64b5cd")


def spend_chart(daily: Mapping[date, Mapping[str, float]], first: date, last: date, title: str) -> bytes:
    """Spend per day, stacked by model, from `first` to `last` inclusive (days without spend stay empty)."""
    days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    totals: dict[str, float] = {}
    for per_model in daily.values():
        for model, cost in per_model.items():
            totals[model] = totals.get(model, 0.0) + cost
    models = sorted(totals, key=lambda name: totals[name], reverse=True)  # biggest spender at the bottom
    figure = Figure(figsize=(9, 4.2), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    base = [0.0] * len(days)
    for index, model in enumerate(models):
        heights = [daily.get(day, {}).get(model, 0.0) for day in days]
        axes.bar([day.day for day in days], heights, bottom=base, label=f"{model} (${totals[model]:.2f})",
                 color=PALETTE[index % len(PALETTE)], width=0.8)
        base = [b + h for b, h in zip(base, heights, strict=True)]
    axes.set_title(title)
    axes.set_xlabel(f"day of {first:%B %Y}")
    axes.set_ylabel("USD")
    axes.set_xlim(0.3, len(days) + 0.7)
    axes.set_xticks([day.day for day in days if day.day == 1 or day.day % 5 == 0])
    decimals = 2 if max(base, default=0.0) >= 0.1 else 4  # a month of cheap models is still readable
    axes.yaxis.set_major_formatter(lambda value, _: f"${value:,.{decimals}f}")
    axes.grid(axis="y", alpha=0.3)
    if models:
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    else:
        axes.text(0.5, 0.5, "nothing spent yet", transform=axes.transAxes, ha="center", va="center")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def month_chart(report: UsageReport, title: str) -> bytes:
    """A usage report's month, day by day (the days after today are left blank, not cut off)."""
    first = report.since.date()
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return spend_chart(report.daily, first, last, f"{title}, {first:%B %Y}")


def stance_chart(line: Timeline) -> bytes:
    """Who held which position (colour and letter) with which confidence (size), round by round; a change of
    mind without a new argument is ringed in red."""
    height = 1.6 + 0.55 * len(line.models) + 0.22 * len(line.positions)
    figure = Figure(figsize=(8, height), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    rows = {model: index for index, model in enumerate(reversed(line.models))}
    for model in line.models:
        xs, ys = [], []
        for number in line.rounds:
            cell = line.cells[(model, number)]
            if cell.group is None:
                axes.text(number, rows[model], "?", ha="center", va="center", color="#8c8c8c")
                continue
            xs.append(number)
            ys.append(rows[model])
            confidence = cell.stance.confidence if cell.stance.confidence is not None else 50
            axes.scatter([number], [rows[model]], s=120 + 4 * confidence, color=PALETTE[cell.group % len(PALETTE)],
                         edgecolors="#d62728" if cell.flagged else "white", linewidths=3 if cell.flagged else 1,
                         zorder=3)
            text = line.label(cell.group) + (f"\n{cell.stance.confidence}%" if cell.stance.confidence is not None
                                              else "")
            axes.text(number, rows[model] - 0.33, text, ha="center", va="top", fontsize="x-small")
        axes.plot(xs, ys, color="#cccccc", zorder=1)
    axes.set_yticks(list(rows.values()), list(rows))
    axes.set_xticks(list(line.rounds), [f"round {n}" for n in line.rounds])
    axes.set_xlim(min(line.rounds) - 0.6, max(line.rounds) + 0.6)
    axes.set_ylim(-0.9, len(line.models) - 0.4)
    axes.set_title("Stance timeline (size: confidence; red ring: changed without a new argument)", fontsize="small")
    for spine in ("top", "right"):
        axes.spines[spine].set_visible(False)
    for group, position in enumerate(line.positions):
        axes.scatter([], [], color=PALETTE[group % len(PALETTE)],
                     label=f"{line.label(group)}: {position[:70]}{'…' if len(position) > 70 else ''}")
    if line.positions:
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize="x-small", frameon=False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def leaderboard_chart(names: Sequence[str], human: Sequence[tuple[float, float, float] | None],
                      peer: Sequence[tuple[float, float, float] | None], title: str) -> bytes:
    """Each model's rating with its 95% interval: members' votes, and beside it the peer-review rating."""
    figure = Figure(figsize=(8, 1.6 + 0.45 * max(2, len(names))), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    rows = list(range(len(names)))[::-1]  # the best at the top
    for offset, series, colour, label in ((0.12, human, PALETTE[0], "members' votes"),
                                          (-0.12, peer, PALETTE[1], "peer review")):
        points = [(row, value) for row, value in zip(rows, series, strict=True) if value is not None]
        if not points:
            continue
        ys = [row + offset for row, _ in points]
        centres = [v[0] for _, v in points]
        errors = [[v[0] - v[1] for _, v in points], [v[2] - v[0] for _, v in points]]
        axes.errorbar(centres, ys, xerr=errors, fmt="o", color=colour, capsize=3, label=label)
        for y, value in zip(ys, centres, strict=True):
            axes.text(value, y + 0.12, f"{value:.0f}", ha="center", va="bottom", fontsize="x-small")
    axes.set_yticks(rows, list(names))
    axes.axvline(1000, color="#cccccc", linewidth=1, zorder=0)
    axes.set_xlabel("rating (Bradley-Terry, Elo scale; bars: 95% bootstrap interval)")
    axes.set_title(title, fontsize="medium")
    axes.legend(loc="lower right", fontsize="x-small", frameon=False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
