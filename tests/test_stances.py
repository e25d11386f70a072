"""The stance parser against messy model output, position grouping, the timeline, and consensus sections."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.consensus_sections import Minority, minority_report, parse_sections, says_no_minority
from bot.kinds import MinoritySource
from bot.positions import same_position
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
    weighted_positions,
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
    assert line.positions == ("Use Rust", "Use Go")  # "Use Rust, not Go" is for Rust: the first position
    assert line.cells[("GPT", 2)].flagged and not line.cells[("Llama", 2)].flagged
    text = timeline_markdown(line)  # as Discord shows it
    assert "**GPT**: R1 A 80% → R2 B 60% ⚠️" in text and "**Llama**: R1 ? → R2 A 55% ↺" in text
    assert "changed position without citing a new argument: GPT (round 2)" in text
    plain = timeline_text(line)  # the core's words: no markup, for the chart's alt text and the terminal
    assert "GPT: R1 A 80% → R2 B 60% ⚠️" in plain and "Llama: R1 ? → R2 A 55% ↺" in plain
    assert "changed position without citing a new argument: GPT (round 2)" in plain
    assert "**" not in plain and "-#" not in plain


def test_consensus_sections_and_the_kept_minority() -> None:
    text = ("Intro.\n## Agreement\nAll like tests.\n**Disagreements:**\n- Rust vs Go\n### Unique insights\n"
            "Llama: fuzzing.\nBlind spots:\nCost.\n**Minority report**: None.\n## Final answer\nUse Go.")
    sections = parse_sections(text)
    assert sections == {"agreement": "All like tests.", "disagreements": "- Rust vs Go",
                        "unique_insights": "Llama: fuzzing.", "blind_spots": "Cost.", "minority_report": "None.",
                        "final_answer": "Use Go."}
    stances = {"GPT": Stance("Use Go", 80), "Claude": Stance("Use Go", 70),
               "Llama": Stance("Use Rust", 90, False, "")}
    assert minority_report(sections, stances, 0.5) == Minority("Llama: Use Rust (90%)", MinoritySource.STANCES)
    assert minority_report({"minority_report": "Llama holds out for Rust."}, stances, 0.5) == \
        Minority("Llama holds out for Rust.", MinoritySource.MODERATOR)
    even = {"GPT": Stance("Use Go", 80), "Claude": Stance("Use Rust", 70)}
    assert minority_report(sections, even, 0.5) == Minority("", MinoritySource.NONE)
    reasoned = {**stances, "Llama": Stance("Use Rust", 95, True, "the borrow checker removes a class of bugs")}
    assert minority_report({}, reasoned, 0.5).text == \
        "Llama: Use Rust (95%) — the borrow checker removes a class of bugs"


def test_every_way_of_writing_none_is_read_as_none() -> None:
    for none in ("None", "None.", "none — everyone converged on Go.", "- None", "* None.", "**None**", "N/A", "n/a.",
                 "No one dissented.", "Nobody dissented; the panel agreed.", "No minority report.",
                 "There is no minority position.", "There was no dissent.", "No real dissent remained.",
                 "All participants agreed on Go.", "Everyone converged on Go.", "Unanimous.", "Not applicable",
                 "> None, as all models converged.", "1. None", "—", "", "No dissenting view: all agreed."):
        assert says_no_minority(none), none
    for report in ("None of the others took Llama's point on memory safety seriously: Llama held Rust.",
                   "Llama held out for Rust because of memory safety.", "Nothing but Llama's Rust argument remained.",
                   "Claude: keep the monolith (80%) — deploys are rare."):
        assert not says_no_minority(report), report


def test_positions_keep_their_direction() -> None:
    differ = [("Use Rust", "Don’t use Rust"), ("Use Rust", "Don't use Rust"), ("Use Rust", "Do not use Rust"),
              ("Use Rust, not Go", "Use Go, not Rust"), ("Prefer Rust over Go", "Prefer Go over Rust"),
              ("Rust instead of Go", "Go instead of Rust"), ("Rust rather than Go", "Go"),
              ("Rust is better than Go", "Go is better than Rust"), ("Go is worse than Rust", "Go"),
              ("prefer Rust to Go", "prefer Go to Rust"), ("Avoid microservices", "Use microservices"),
              ("Not Rust but Go", "Rust"), ("Yes", "No"), ("Tabs", "Spaces, not tabs"),
              # one frame, two named alternatives: the words they share do not make them agree
              ("Use PostgreSQL for the event store", "Use MongoDB for the event store"),
              ("Deploy it on Kubernetes with Helm", "Deploy it on Nomad with Helm"),
              ("Write the parser in C++", "Write the parser in Rust"),
              ("Pick gRPC for the API", "Pick REST for the API")]
    for first, second in differ:
        assert not same_position(first, second, 0.5), (first, second)
        assert len(set(clusters([first, second], 0.5))) == 2, (first, second)
    same = [("Use Rust", "Use Rust, not Go"), ("Use Rust", "Use Rust for its safety"),
            ("Go is worse than Rust", "Rust"), ("Don't use Rust; use Go", "Use Go"), ("No", "Nope, never"),
            ("Tabs over spaces", "Tabs"),
            ("No microservices", "Avoid microservices"), ("Yes.", "yes"),
            ("Use PostgreSQL for the event store", "PostgreSQL, with a partitioned events table"),
            ("Use Rust for safety", "Use Rust for reliability"), ("Use PostgreSQL", "Use PostgreSQL, not MongoDB")]
    for first, second in same:
        assert same_position(first, second, 0.5), (first, second)


def test_a_subset_that_drops_the_object_of_contention_is_not_agreement() -> None:
    assert clusters(["Rust", "Go", "Rust and Go"], 0.5) == [0, 1, 2]
    assert clusters(["Use Rust", "Use Rust for speed", "Use Go"], 0.5) == [0, 0, 1]
    assert clusters(["Use Rust", "Use Rust, not Go", "Use Go, not Rust"], 0.5) == [0, 0, 1]


def test_opposite_positions_never_stop_a_debate_early() -> None:
    before = {"gpt": Stance("Use Rust", 90), "claude": Stance("Don’t use Rust", 90)}
    assert agreement(before, 0.5, 60) == "the stances disagree"
    assert not settled(before, before, 0.5, 60)


def test_conformity_is_a_change_of_group_with_nothing_new_in_its_reason() -> None:
    others = {"use", "go", "goroutines", "simpler", "concurrency"}
    for reason in ("I was persuaded by the consensus of the other participants", "I defer to the others",
                   "The others made a compelling case", "everyone agrees, so I do too", "Go's goroutines are simpler",
                   "yes", ""):
        assert not cites_an_argument(reason, others), reason
    assert cites_an_argument("the benchmark shows 3x lower tail latency", others)
    assert cites_an_argument("hiring Rust developers costs twice as much here", others)


def test_only_a_change_of_group_is_flagged() -> None:
    held = {("GPT", 1): Stance("Use Go", 80), ("GPT", 2): Stance("Use Go for its goroutines", 85, True, "I agree"),
            ("Claude", 1): Stance("Use Rust", 70), ("Claude", 2): Stance("Use Go", 60, True,
                                                                        "I defer to the majority"),
            ("Llama", 1): Stance("Use Go", 70), ("Llama", 2): Stance("Use Go", 70)}
    line = timeline(held, ["GPT", "Claude", "Llama"], [1, 2], 0.5)
    assert not line.cells[("GPT", 2)].flagged  # it said CHANGED: yes, but its position group is the same
    assert line.cells[("Claude", 2)].flagged and line.cells[("Claude", 2)].changed


def test_stance_blocks_as_models_really_write_them() -> None:
    cases = [
        ("Body.\n\n## Stance\nUse Go\n## Confidence\n80%\n## Changed\nno", "Use Go", 80, False),
        ("Body.\n\n### Stance:\n- Use Go\n### Confidence:\n8/10\n### Changed:\nNo", "Use Go", 80, False),
        ("Body.\n\n1. Stance: Use Go\n2. Confidence: 75 %\n3. Changed: yes, the benchmark", "Use Go", 75, True),
        ("Body.\n\n**Stance** — Use Go\n**Confidence** — high\n**Changed** — no", "Use Go", 80, False),
        ("Body.\n\nStance – Use Go\nConfidence – 4/5\nChanged – no", "Use Go", 80, False),
        ("Texto.\n\nPostura: Usar Go\nConfianza: 70\nCambiado: sí, por el rendimiento", "Usar Go", 70, True),
        ("Texte.\n\nPosition : Utiliser Go\nConfiance : 60 %\nChangé : non", "Utiliser Go", 60, False),
        ("Text.\n\nStandpunkt: Go verwenden\nKonfidenz: 0.9\nGeändert: nein", "Go verwenden", 90, False),
        ("Texto.\n\nPosição: Usar Go\nConfiança: 85\nMudou: não", "Usar Go", 85, False),
        ("Testo.\n\nPosizione: Usare Go\nFiducia: 65\nCambiato: no", "Usare Go", 65, False),
        ("Tekst.\n\nStandpunt: Gebruik Go\nVertrouwen: 55\nVeranderd: nee", "Gebruik Go", 55, False),
        ("Текст.\n\nПозиция: Использовать Go\nУверенность: 80\nИзменено: да, из-за тестов", "Использовать Go", 80,
         True),
        ("正文。\n\n立场：使用 Go\n置信度：80\n是否改变：否", "使用 Go", 80, False),
        ("本文。\n\n立場：Goを使う\n確信度：70\n変更：いいえ", "Goを使う", 70, False),
        ("본문.\n\n입장: Go 사용\n신뢰도: 60\n변경: 아니요", "Go 사용", 60, False),
    ]
    for text, position, confidence, changed in cases:
        body, stance = split_stance(text)
        assert (stance.position, stance.confidence, stance.changed) == (position, confidence, changed), text
        assert body.rstrip(".。") in ("Body", "Texto", "Texte", "Text", "Testo", "Tekst", "Текст", "正文", "本文",
                                      "본문"), body


heading = st.sampled_from(["", "## ", "### ", "**", "1. ", "- ", "* "])
dash = st.sampled_from([": ", " — ", " – ", " - ", "：", " = "])
scale = st.sampled_from([("80", 80), ("80%", 80), ("80 %", 80), ("8/10", 80), ("0.8", 80), ("4/5", 80),
                         ("high", 80), ("low", 25), ("medium", 50)])


@settings(max_examples=150, deadline=None)
@given(prose, position, heading, dash, scale, st.booleans(), st.booleans())
def test_messy_generated_blocks_are_read(body: str, held: str, lead: str, sep: str, confidence: tuple[str, int],
                                         changed: bool, value_below: bool) -> None:
    close = "**" if lead == "**" else ""

    def key_line(key: str, value: str) -> str:
        if value_below and lead.startswith("#"):
            return f"{lead}{key}{close}\n{value}"
        return f"{lead}{key}{close}{sep}{value}"

    block = "\n".join([key_line("Stance", held.strip()), key_line("Confidence", confidence[0]),
                       key_line("Changed", "yes, a new benchmark" if changed else "no")])
    text = f"{body}\n\n{block}"
    shown, stance = split_stance(text)
    assert stance.position == held.strip().strip("*_`").strip()
    assert stance.confidence == confidence[1] and stance.changed is changed
    assert "Confidence" not in shown[len(body.rstrip()):]


def test_a_confident_dissent_outweighs_a_drift_without_evidence() -> None:
    """Round 1: Rust (90%) against two Go. Round 2: the Rust model drifts to Go "persuaded by the others"; the
    others were only 50-60% sure. The plain majority erases Rust; the weighted score does not."""
    held = {("GPT", 1): Stance("Use Rust", 90), ("GPT", 2): Stance("Use Go", 90, True, "I was persuaded by the others"),
            ("Claude", 1): Stance("Use Go", 60), ("Claude", 2): Stance("Use Go", 60),
            ("Llama", 1): Stance("Use Go", 50), ("Llama", 2): Stance("Use Go", 50)}
    line = timeline(held, ["GPT", "Claude", "Llama"], [1, 2], 0.5)
    scores = dict(weighted_positions(line))
    assert scores[0] == pytest.approx(0.75 * 0.9)  # Rust keeps three quarters of GPT's confidence
    assert scores[1] == pytest.approx(0.6 + 0.5 + 0.25 * 0.9)
    argued = {**held, ("GPT", 2): Stance("Use Go", 90, True, "the hiring market for Rust engineers here is thin")}
    argued_line = timeline(argued, ["GPT", "Claude", "Llama"], [1, 2], 0.5)
    assert dict(weighted_positions(argued_line)) == {1: pytest.approx(2.0)}  # an argued change counts in full
    assert "Weighted by confidence, conformity discounted: B 1.32 · A 0.68" in timeline_text(line)


def test_the_conformity_benchmark_meets_its_targets_and_anonymity_hides_every_name() -> None:
    """bench.conformity in one seeded run: the correct minority kept in every configuration, and the scripted
    sycophants sent an anonymised transcript see no famous name (not even "As GPT-5, …" inside an answer)."""
    from bench import conformity

    found = conformity.run()
    assert conformity.met(found)
    assert found["names/majority"]["names_seen"] > 0 and found["anonymised/majority"]["names_seen"] == 0
    assert found["anonymised/majority"]["control_right"] > found["names/majority"]["control_right"]
