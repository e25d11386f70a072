"""The stance parser against messy model output, position grouping, the timeline, and consensus sections."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.consensus_sections import minority_report, parse_sections
from bot.stances import (
    UNKNOWN,
    Stance,
    agreement,
    cites_an_argument,
    clusters,
    settled,
    split_stance,
    timeline,
    timeline_text,
    visible_part,
)
from cogs.delivery.render import timeline_markdown

prose = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=300)
position = st.text(alphabet=st.characters(whitelist_categories=("Ll", "Lu", "Nd"), whitelist_characters=" ,.-'"),
                   min_size=1, max_size=80).filter(lambda s: s.strip() and not s.strip().startswith(("<", "-", ".")))
wrapping = st.sampled_from([("", ""), ("**", "**"), ("__", "__"), ("- ", ""), ("* **", "**"), ("> ", "")])
separator = st.sampled_from([":", " :", "：", " ="])
case = st.sampled_from([str.upper, str.lower, str.title])


@settings(max_examples=200, deadline=None)
@given(prose, position, st.integers(0, 100), st.booleans(), wrapping, separator, case, st.booleans())
def test_a_stance_block_is_found_however_it_is_dressed(body: str, held: str, confidence: int, changed: bool,
                                                        wrap: tuple[str, str], sep: str, cased: object,
                                                        fenced: bool) -> None:
    def key(name: str) -> str:
        return f"{wrap[0]}{cased(name)}{sep}{wrap[1]} "  # type: ignore[operator]

    block = [key("stance") + held, key("confidence") + f"{confidence}%",
             key("changed") + ("yes, because the benchmark numbers showed it" if changed else "no")]
    if fenced:
        block = ["```", *block, "```"]
    text = body.rstrip() + "\n\n" + "\n".join(block)
    shown, stance = split_stance(text)
    assert stance.position == held.strip().strip("*_`").strip()
    assert stance.confidence == confidence and stance.changed is changed
    assert shown == body.rstrip() or not body.strip()
    assert "onfidence" not in shown.replace(body, "")


@settings(max_examples=300, deadline=None)
@given(prose)
def test_any_text_parses_without_error_and_loses_nothing_when_there_is_no_stance(text: str) -> None:
    shown, stance = split_stance(text)
    if not stance.known:
        assert shown == text
    assert isinstance(visible_part(text), str)


def test_a_model_that_ignores_the_format_is_unknown() -> None:
    assert split_stance("I think Rust. Confidence is high.") == ("I think Rust. Confidence is high.", UNKNOWN)
    assert split_stance("Stance: <your position, in one line>")[1] is UNKNOWN  # the template, parroted


def test_loose_spellings() -> None:
    text = "Answer.\nPosition - Use Go\nconfidence: 0.7\nChange: Yes — GPT's latency numbers convinced me\n[AGREE]"
    shown, stance = split_stance(text)
    assert stance == Stance("Use Go", 70, True, "GPT's latency numbers convinced me")
    assert shown == "Answer.\n\n[AGREE]"
    assert split_stance("x\nSTANCE:\nUse Rust\nCONFIDENCE: high")[1] == Stance("Use Rust", 80, None, "")


def test_streaming_hides_the_block_as_it_arrives() -> None:
    assert visible_part("Answer.\n\nSTA") == "Answer."
    assert visible_part("Answer.\n\nStance: Rust\nConfid") == "Answer."
    assert visible_part("Answer.\n\nStandard library") == "Answer.\n\nStandard library"


def test_positions_group_by_words_and_negation_splits_them() -> None:
    assert clusters(["Use Rust for the parser", "rust for the parser.", "Use Go", "Do not use Rust for the parser"],
                    0.5) == [0, 0, 1, 2]


def test_a_change_needs_an_argument() -> None:
    assert not cites_an_argument("I agree with the others")
    assert not cites_an_argument("yes, convinced by the majority")
    assert cites_an_argument("because the benchmark shows 3x lower tail latency")


def test_agreement_and_settling() -> None:
    same = {"a": Stance("Use Go", 80), "b": Stance("use go.", 90)}
    assert agreement(same, 0.5, 60) is None
    assert agreement({**same, "c": Stance("Use Rust", 90)}, 0.5, 60) == "the stances disagree"
    assert agreement({"a": Stance("Use Go", 40), "b": Stance("Use Go", 90)}, 0.5, 60) == "confidence is below 60"
    assert agreement({**same, "c": UNKNOWN}, 0.5, 60) == "some stances are unknown"
    assert settled(same, same, 0.5, 60)
    assert not settled({"a": Stance("Use Rust", 80), "b": Stance("Use Go", 90)}, same, 0.5, 60)


def test_timeline_flags_a_change_without_an_argument() -> None:
    held = {("GPT", 1): Stance("Use Rust", 80), ("GPT", 2): Stance("Use Go", 60, True, "I agree with the others"),
            ("Claude", 1): Stance("Use Go", 70), ("Claude", 2): Stance("Use Go", 75),
            ("Llama", 1): UNKNOWN, ("Llama", 2): Stance("Use Rust, not Go", 55, True,
                                                       "because GPT's benchmark shows 3x lower tail latency")}
    line = timeline(held, ["GPT", "Claude", "Llama"], [1, 2], 0.5)
    assert line.positions == ("Use Rust", "Use Go", "Use Rust, not Go")
    assert line.cells[("GPT", 2)].flagged and not line.cells[("Llama", 2)].flagged
    text = timeline_markdown(line)  # as Discord shows it
    assert "**GPT**: R1 A 80% → R2 B 60% ⚠️" in text and "**Llama**: R1 ? → R2 C 55% ↺" in text
    assert "changed position without citing a new argument: GPT (round 2)" in text
    plain = timeline_text(line)  # the core's words: no markup, for the chart's alt text and the terminal
    assert "GPT: R1 A 80% → R2 B 60% ⚠️" in plain and "Llama: R1 ? → R2 C 55% ↺" in plain
    assert "changed position without citing a new argument: GPT (round 2)" in plain
    assert "**" not in plain and "-#" not in plain


def test_consensus_sections_and_the_kept_minority() -> None:
    text = ("Intro.\n## Agreement\nAll like tests.\n**Disagreements:**\n- Rust vs Go\n### Unique insights\n"
            "Llama: fuzzing.\nBlind spots:\nCost.\n**Minority report**: None.\n## Final answer\nUse Go.")
    sections = parse_sections(text)
    assert sections == {"agreement": "All like tests.", "disagreements": "- Rust vs Go",
                        "unique_insights": "Llama: fuzzing.", "blind_spots": "Cost.", "minority_report": "None.",
                        "final_answer": "Use Go."}
    stances = {"GPT": Stance("Use Go", 80), "Claude": Stance("Use Go", 70), "Llama": Stance("Use Rust", 90)}
    assert minority_report(sections, stances, 0.5) == "Llama: Use Rust (90%)"  # the moderator dropped it
    assert minority_report({"minority_report": "Llama holds out for Rust."}, stances, 0.5) == \
        "Llama holds out for Rust."
    assert minority_report(sections, {"GPT": Stance("Use Go", 80), "Claude": Stance("Use Rust", 70)}, 0.5) == ""
