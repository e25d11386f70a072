"""One look for every chart moai posts, made for Discord.

A dark card (Discord's own dark grey) with light text reads on the dark theme and, as a card, on the light
one; sizes are chosen so that labels survive Discord's inline preview (about 550 px wide: a 1,000 px chart
shrinks to half, so no text is under 12 pt at 120 dpi); legends go under the plot and wrap. Every model has
one colour on every chart of a server: the configured models take the palette in config order, any other
name (a retired model in the ledger, a blind round's "Model A") a colour picked from its name alone, so a
blind label's colour says nothing about the model behind it.
"""

from __future__ import annotations

import io
import logging
import textwrap
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import matplotlib
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

__all__ = [
    "BACKGROUND",
    "DPI",
    "GRID",
    "MUTED",
    "PALETTE",
    "TEXT",
    "WARNING",
    "WIDTH",
    "Palette",
    "money_decimals",
    "new_figure",
    "overlapping_texts",
    "png",
    "wrap",
]

BACKGROUND = "#2b2d31"  # Discord's dark theme, the panel colour around messages
TEXT = "#f2f3f5"
MUTED = "#b5bac1"
GRID = "#4e5058"
WARNING = "#f23f43"  # Discord's red
# Bright enough on the dark card, told apart by colour-blind readers first (Okabe-Ito, then Tableau's others).
PALETTE = ("#56b4e9", "#e69f00", "#009e73", "#f0e442", "#cc79a7", "#d55e00", "#0072b2", "#9edae5", "#c5b0d5",
           "#ff9896", "#98df8a", "#c49c94")
WIDTH = 8.4  # inches: 1,008 px at DPI
DPI = 120
# Fonts that carry Chinese, Japanese and Korean glyphs, used after DejaVu Sans where installed (Debian:
# fonts-noto-cjk or fonts-droid-fallback). Added by path: matplotlib's font cache does not see fonts
# installed after it was built.
CJK_FONT_FILES = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
                  "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
                  "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")


def _fallback_fonts(paths: Iterable[str]) -> list[str]:
    names = []
    for path in paths:
        if Path(path).is_file():
            try:
                font_manager.fontManager.addfont(path)
                names.append(font_manager.FontProperties(fname=path).get_name())
            except (OSError, RuntimeError, ValueError):  # an unreadable font file: charts still draw
                continue
    return names


logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # "no bold in the CJK font": drawn regular
matplotlib.rcParams.update({  # moai is the only user of matplotlib in its process: set once, never changed
    "font.family": ["DejaVu Sans", *_fallback_fonts(CJK_FONT_FILES)],
    "font.size": 13,
    "axes.titlesize": 15,
    "axes.labelsize": 13,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "legend.fontsize": 12,
    "text.color": TEXT,
    "axes.labelcolor": TEXT,
    "axes.titlecolor": TEXT,
    "axes.edgecolor": GRID,
    "axes.facecolor": BACKGROUND,
    "figure.facecolor": BACKGROUND,
    "savefig.facecolor": BACKGROUND,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "xtick.labelcolor": TEXT,
    "ytick.labelcolor": TEXT,
    "grid.color": GRID,
    "legend.labelcolor": TEXT,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
})


class Palette:
    """A colour per model name: the server's configured models in config order, anything else by its name."""

    def __init__(self, names: Sequence[str] = ()) -> None:
        self._assigned = {name: PALETTE[index % len(PALETTE)] for index, name in enumerate(dict.fromkeys(names))}

    def colour(self, name: str) -> str:
        if name in self._assigned:
            return self._assigned[name]
        return PALETTE[zlib.crc32(name.encode()) % len(PALETTE)]


def money_decimals(largest: float) -> int:
    """Decimals that show the largest amount of a chart with two significant digits (at least two: $1.25)."""
    decimals = 2
    while decimals < 6 and 0 < largest < 10 ** (1 - decimals):
        decimals += 1
    return decimals


def wrap(text: str, width: int = 60) -> str:
    """A long label on several lines instead of cut."""
    return "\n".join(textwrap.wrap(text, width)) or text


def new_figure(height: float, width: float = WIDTH) -> Figure:
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)  # headless, and its renderer can measure texts
    return figure


def png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def overlapping_texts(figure: Figure) -> list[tuple[str, str]]:
    """Pairs of drawn, non-empty texts whose boxes overlap (for tests: a chart must have none)."""
    canvas = figure.canvas if isinstance(figure.canvas, FigureCanvasAgg) else FigureCanvasAgg(figure)
    canvas.draw()  # type: ignore[no-untyped-call]
    renderer = canvas.get_renderer()  # type: ignore[no-untyped-call]
    texts: list[Text] = list(figure.texts)
    for axes in figure.axes:
        texts += [*axes.texts, axes.title, axes._left_title, axes._right_title,  # type: ignore[attr-defined]
                  axes.xaxis.label, axes.yaxis.label, *axes.get_xticklabels(), *axes.get_yticklabels()]
        legend = axes.get_legend()
        if legend is not None:
            texts += legend.get_texts()
    for legend in figure.legends:
        texts += legend.get_texts()
    boxes = [(t.get_text(), t.get_window_extent(renderer).shrunk(0.98, 0.9))
             for t in texts if t.get_visible() and t.get_text().strip()]
    return [(a, b) for index, (a, box_a) in enumerate(boxes) for b, box_b in boxes[index + 1:]
            if box_a.overlaps(box_b)]
