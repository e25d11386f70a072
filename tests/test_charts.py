"""Every chart moai posts, rendered and measured: one style, stable colours, no text on top of another."""

from __future__ import annotations

import io
from datetime import date

import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from PIL import Image

from bot.chart_style import BACKGROUND, PALETTE, Palette, money_decimals, overlapping_texts, png
from bot.charts import leaderboard_figure, spend_figure, stance_figure
from bot.stances import Stance, timeline
from docs.pictures import SERVER, calibration_sample, leaderboard_sample, spend_sample, stance_sample, stance_timeline


def many_models_timeline() -> Figure:
    names = [f"Model with a long display name {i}" for i in range(8)]
    said = {(name, number): Stance(f"Position {(i + number) % 3}: " + "a long wording of it " * 8, 10 * i)
            for i, name in enumerate(names) for number in (1, 2, 3, 4)}
    return stance_figure(timeline(said, names, [1, 2, 3, 4], 0.6), SERVER)


def crowded_leaderboard() -> Figure:
    names = [f"Model {i}" for i in range(12)]
    same = (1000.0, 990.0, 1010.0)  # every value on top of every other: labels must still not collide
    return leaderboard_figure(names, [same] * 12, [same] * 12, "Leaderboard", SERVER)


def empty_month() -> Figure:
    return spend_figure({}, date(2026, 2, 1), date(2026, 2, 28), "Spend for Nobody, February 2026", SERVER)


CHARTS = {"stance timeline": stance_sample, "usage": spend_sample, "leaderboard": leaderboard_sample,
          "calibration": calibration_sample,
          "eight models, four rounds, long positions": many_models_timeline,
          "twelve equal ratings": crowded_leaderboard, "a month without spend": empty_month}


@pytest.mark.parametrize("name", list(CHARTS))
def test_each_chart_is_a_dark_card_sized_for_discord_with_no_text_on_another(name: str) -> None:
    figure = CHARTS[name]()
    assert overlapping_texts(figure) == []
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]  # Agg: see new_figure
    whole = figure.bbox
    for legend in figure.legends + [a.get_legend() for a in figure.axes if a.get_legend()]:
        box = legend.get_window_extent(renderer)
        assert whole.x0 - 1 <= box.x0 and box.x1 <= whole.x1 + 1 and whole.y0 - 1 <= box.y0  # never cut
    with Image.open(io.BytesIO(png(figure))) as image:
        assert image.width == 1008 and 300 <= image.height <= 2400
        rgb = image.convert("RGB")
        assert rgb.getpixel((2, 2)) == tuple(int(BACKGROUND[i:i + 2], 16) for i in (1, 3, 5))  # not matplotlib's white
        assert sum(rgb.convert("L").histogram()[201:]) > 500  # light text on the card


def test_the_overlap_check_sees_overlaps() -> None:
    from bot.chart_style import new_figure

    figure = new_figure(3)
    axes = figure.add_subplot()
    axes.text(0.5, 0.5, "1,032")
    axes.text(0.51, 0.5, "998")
    assert overlapping_texts(figure) == [("1,032", "998")]


def colours_drawn(figure: Figure) -> set[str]:
    found = set()
    for axes in figure.axes:
        for collection in axes.collections:
            found.update(to_hex(c) for c in collection.get_facecolors())
        for patch in axes.patches:
            found.add(to_hex(patch.get_facecolor()))
        for line in axes.lines:
            found.add(to_hex(line.get_color()))
    return found


def test_a_model_has_one_colour_on_every_chart() -> None:
    claude = SERVER.colour("Claude Opus")
    assert claude == PALETTE[1]  # second in config order
    for figure in (stance_sample(), spend_sample(), leaderboard_sample()):
        assert claude in colours_drawn(figure)
    reordered = spend_figure({date(2026, 12, 1): {"Claude Opus": 9.0, "GPT-5": 0.1}}, date(2026, 12, 1),
                             date(2026, 12, 31), "t", SERVER)
    assert claude in colours_drawn(reordered)  # the biggest spender keeps its colour too


def test_a_blind_label_colour_says_nothing_about_the_model() -> None:
    """"Model A" is coloured by its label: the same whoever is behind it, never the hidden model's colour."""
    assert Palette(["GPT-5"]).colour("Model A") == Palette(["Claude"]).colour("Model A") == Palette().colour("Model A")
    said = {("Model A", 1): Stance("Yes", 80), ("Model B", 1): Stance("No", 60)}
    figure = stance_figure(timeline(said, ["Model A", "Model B"], [1], 0.6), SERVER)
    assert SERVER.colour("Model A") in colours_drawn(figure)


def test_money_labels_show_what_the_axis_shows_or_more() -> None:
    assert money_decimals(16.11) == 2 and money_decimals(0.25) == 2
    assert money_decimals(0.0041) == 4 and money_decimals(0.04) == 3 and money_decimals(0.0) == 2
    figure = spend_sample()
    labels = [t.get_text() for legend in figure.legends for t in legend.get_texts()]
    assert "Llama 70B  $0.0041" in labels  # was "$0.00"
    assert any(label.startswith("average $") and label.endswith(" a day") for label in labels)


def test_long_positions_are_wrapped_in_full_not_cut() -> None:
    figure = stance_figure(stance_timeline(), SERVER)
    labels = [t.get_text() for legend in figure.legends for t in legend.get_texts()]
    assert "Use MongoDB for the event store instead of PostgreSQL" in labels
    long = "Adopt a strict schema-first approach with versioned migrations reviewed by two people " * 2
    said = {("GPT-5", 1): Stance(long.strip(), 70)}
    wrapped = [t.get_text() for legend in stance_figure(timeline(said, ["GPT-5"], [1], 0.6)).legends
               for t in legend.get_texts()]
    assert any(text.replace("\n", " ") == long.strip() for text in wrapped)


def test_changes_of_mind_are_ringed_reasoned_white_unreasoned_red() -> None:
    line = stance_timeline()
    assert line.cells[("Claude Opus", 2)].changed and not line.cells[("Claude Opus", 2)].flagged
    assert line.cells[("Gemini Pro", 2)].flagged
    figure = stance_figure(line, SERVER)
    edges = {to_hex(c) for collection in figure.axes[0].collections for c in collection.get_edgecolors()}
    assert {"#f2f3f5", "#f23f43"} <= edges


def test_cjk_names_draw_with_a_fallback_font_where_one_is_installed() -> None:
    from matplotlib import rcParams

    from bot.chart_style import CJK_FONT_FILES

    installed = [path for path in CJK_FONT_FILES if __import__("pathlib").Path(path).is_file()]
    if not installed:
        pytest.skip("no CJK font installed (Debian: fonts-droid-fallback or fonts-noto-cjk)")
    assert len(rcParams["font.family"]) >= 2
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph … missing from font(s) DejaVu Sans" would fail here
        png(stance_sample())


def test_the_leaderboard_table_keeps_whole_names() -> None:
    """It cut every name at 16 characters: two models of one vendor became the same row label."""
    from bot.leaderboard import NAME_WIDTH, board_table
    from bot.services.arena import Board, BoardRow

    names = ["Claude Opus 4.5 (thinking)", "Claude Opus 4.5 (fast)", "a" * 60, "Sneaky ``` name"]
    rows = [BoardRow(f"m{i}", name, None, 0, 0, None, None, None, 0) for i, name in enumerate(names)]
    table = board_table(Board(rows, {}, 0, None))
    assert "Claude Opus 4.5 (thinking)" in table and "Claude Opus 4.5 (fast)" in table
    assert "a" * (NAME_WIDTH - 1) + "…" in table and "a" * NAME_WIDTH not in table
    assert table.count("```") == 2  # a name cannot close the code block
    assert len({len(line) for line in table.strip("`\n").splitlines()}) == 1  # columns line up
