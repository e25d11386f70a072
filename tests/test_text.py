"""Splitting answers for Discord: limits, natural cut points, code fences kept intact."""

from __future__ import annotations

import random

from cogs.delivery.split import DISCORD_LIMIT, split_message


def test_short_text_is_one_chunk() -> None:
    assert split_message("hello") == ["hello"]


def test_every_chunk_within_limit_and_nothing_lost() -> None:
    rng = random.Random(7)
    words = [rng.choice(["alpha", "beta", "gamma", "\n", "\n\n", "delta-epsilon"]) for _ in range(3000)]
    text = " ".join(words)
    chunks = split_message(text)
    assert len(chunks) > 3
    assert all(len(c) <= DISCORD_LIMIT for c in chunks)
    assert "".join(chunks) == text


def test_prefers_paragraph_breaks() -> None:
    text = "a" * 1500 + "\n\n" + "b" * 1000
    first, second = split_message(text)
    assert first == "a" * 1500 + "\n\n" and second == "b" * 1000


def test_code_block_is_closed_and_reopened_with_language() -> None:
    code = "\n".join(f"print({i})" for i in range(400))
    text = "Here:\n```python\n" + code + "\n```\nDone."
    chunks = split_message(text)
    assert len(chunks) >= 2
    for chunk in chunks:
        assert len(chunk) <= DISCORD_LIMIT
        assert chunk.count("```") % 2 == 0  # every chunk renders its code block closed
    assert chunks[1].startswith("```python\n")
    body = "".join(c.removeprefix("```python\n") for c in chunks)
    for i in range(400):
        assert f"print({i})" in body


def test_hard_cut_without_spaces() -> None:
    chunks = split_message("x" * 4500)
    assert [len(c) for c in chunks] == [1996, 1996, 508]


def test_prefix_stability_while_streaming() -> None:
    text = ("word " * 900) + "```js\n" + "let a = 1;\n" * 300 + "```"
    final = split_message(text)
    for end in range(2100, len(text), 997):
        partial = split_message(text[:end])
        assert partial[:-1] == final[: len(partial) - 1]


def test_custom_limit_for_embeds() -> None:
    assert all(len(c) <= 4096 for c in split_message("y " * 5000, limit=4096))


def test_an_indented_code_block_split_across_messages_is_closed_and_reopened() -> None:
    """A fence indented under a list item (as models write them) used to stay open and swallow the next message."""
    code = "\n".join(f"   print({i})  # a line of code" for i in range(120))
    text = "Steps:\n1. Run this:\n   ```python\n" + code + "\n   ```\n2. Done.\n\nAfter the list."
    chunks = split_message(text)
    assert len(chunks) >= 2
    for chunk in chunks:
        fences = [line for line in chunk.splitlines() if line.lstrip().startswith("```")]
        assert len(fences) % 2 == 0, chunk[:80]  # every chunk renders its code block closed
    assert chunks[1].startswith("```python\n")
    assert chunks[-1].endswith("After the list.")
