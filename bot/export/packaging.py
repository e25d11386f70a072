"""An export file cut to Discord's upload limit: as it is, zipped, or in zipped parts."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

__all__ = ["package"]


def package(name: str, data: bytes, limit: int) -> list[tuple[str, bytes]]:
    """An export as files of at most `limit` bytes each: as it is, else zipped, else its text cut at line
    ends into numbered zipped parts (each a readable file on its own)."""
    if len(data) <= limit:
        return [(name, data)]
    zipped = _zip(name, data)
    if len(zipped) <= limit:
        return [(f"{name}.zip", zipped)]
    parts = _halves(data, lambda part: len(_zip(name, part)) <= limit)
    stem, _, suffix = name.rpartition(".")
    inner = [f"{stem}.part{number}-of-{len(parts)}.{suffix}" for number in range(1, len(parts) + 1)]
    return [(f"{part_name}.zip", _zip(part_name, part)) for part_name, part in zip(inner, parts, strict=True)]


def _halves(data: bytes, fits: Callable[[bytes], bool]) -> list[bytes]:
    """`data` cut in two at the line end nearest its middle until every piece fits."""
    if fits(data) or len(data) < 2:
        return [data]
    middle = len(data) // 2
    cut = data.rfind(b"\n", 0, middle) + 1 or data.find(b"\n", middle) + 1 or middle
    if cut in (0, len(data)):
        cut = middle  # one long line: cut it
    return _halves(data[:cut], fits) + _halves(data[cut:], fits)


def _zip(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()
