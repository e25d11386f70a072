"""Files people share with a question: images, text and code files, PDFs — checked, normalised, sized.

Discord-free: the cogs hand over (name, content type, bytes); the console hands over files from disk.
Anything moai cannot pass on is refused with a message naming the file and its type, before anything is
stored or spent. Images are downscaled (Pillow) so no provider refuses them for size, and the first frame of
an animated GIF is what is sent.
"""

from __future__ import annotations

import base64
import hashlib
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.config import AttachmentsConfig
from bot.errors import UserError
from bot.estimate import CHARS_PER_TOKEN
from bot.kinds import AttachmentKind

IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}
TEXT_SUFFIXES = {"txt", "md", "markdown", "rst", "csv", "tsv", "json", "jsonl", "yaml", "yml", "toml", "ini",
                 "cfg", "conf", "log", "xml", "html", "htm", "css", "js", "ts", "tsx", "jsx", "py", "rb", "go", "rs",
                 "java", "kt", "c", "h", "cc", "cpp", "hpp", "cs", "php", "sh", "bash", "zsh", "ps1", "sql",
                 "swift", "scala", "lua", "r", "pl", "hs", "ex", "exs", "erl", "clj", "vue", "svelte", "dockerfile",
                 "env", "diff", "patch", "tex"}
LANGUAGES = {"py": "python", "js": "javascript", "ts": "typescript", "rs": "rust", "rb": "ruby", "sh": "bash",
             "yml": "yaml", "md": "markdown", "kt": "kotlin", "cs": "csharp", "cc": "cpp", "hpp": "cpp", "h": "c"}
IMAGE_TOKENS_PER_PIXEL = 1 / 750  # Anthropic's published estimate; OpenAI's tile count is close to it
PDF_TOKENS_PER_PAGE = 1500  # a native PDF page: its text plus an image of it
MAX_PIXELS = 40_000_000  # decoded size an image may have (a 40 MP photo); larger ones are refused unread
MAX_IMAGE_BYTES = 3_750_000  # after encoding: Anthropic takes 5 MB of base64 per image, the strictest provider


@dataclass(frozen=True, slots=True)
class Attachment:
    name: str
    kind: AttachmentKind
    media_type: str  # what is sent: image/png, image/jpeg…, text/plain, application/pdf
    data: bytes  # what is sent (a downscaled image, the PDF, the text as UTF-8)
    text: str = ""  # a text file's text, a PDF's extracted text
    width: int = 0
    height: int = 0
    pages: int = 0

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def data_b64(self) -> str:
        return base64.b64encode(self.data).decode("ascii")

    def tokens(self, *, native: bool) -> int:
        """Estimated prompt tokens as sent to a model that reads it natively (or as text if not)."""
        if self.kind == AttachmentKind.IMAGE:
            return min(1600, math.ceil(self.width * self.height * IMAGE_TOKENS_PER_PIXEL)) if native else 40
        if self.kind == AttachmentKind.PDF and native:
            return self.pages * PDF_TOKENS_PER_PAGE
        return len(self.text) // 3 + 20

    def fenced(self) -> str:
        """A text file (or a PDF's text) as the models read it: fenced, with its name."""
        suffix = self.name.rsplit(".", 1)[-1].lower() if "." in self.name else ""
        pdf = self.kind == AttachmentKind.PDF
        language = "" if pdf else LANGUAGES.get(suffix, suffix if suffix in TEXT_SUFFIXES else "")
        fence = "````" if "```" in self.text else "```"
        what = f"PDF `{self.name}`, {self.pages} page(s), extracted text" if pdf else f"`{self.name}`"
        return f"[attached {what}]\n{fence}{language}\n{self.text}\n{fence}"


def sniff(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def decode_text(data: bytes) -> str | None:
    """UTF-8 (with or without BOM), else Windows-1252 when it looks like text; None for binary data."""
    if b"\x00" in data[:8192]:
        return None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        controls = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\n\r\t\f")
        return text if controls <= len(text[:8192]) // 100 else None
    return None


def prepare(name: str, content_type: str | None, data: bytes, limits: AttachmentsConfig) -> Attachment:
    """One file, ready to send; UserError (naming the file) if it is too big, broken or of an unread type."""
    name = name.strip().replace("\n", " ")[:120] or "file"
    check_file_size(name, len(data), limits)
    sniffed = sniff(data)
    declared = (content_type or "").split(";")[0].strip().lower()
    if sniffed is not None and sniffed.startswith("image/"):
        return _image(name, data, limits)
    if sniffed == "application/pdf":
        return _pdf(name, data, limits)
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if declared in (*IMAGE_TYPES.values(), "application/pdf"):
        raise UserError(f"`{name}` says it is {declared} but is not a readable {declared.split('/')[1]} file.")
    if declared.startswith("image/"):  # SVG, HEIC, TIFF, BMP…
        raise UserError(f"`{name}` is {declared}, which moai does not read: send images as PNG, JPEG, WebP or GIF.")
    text = decode_text(data)
    if text is not None and (declared.startswith("text/") or declared in ("", "application/json",
                                                                          "application/xml", "application/x-yaml",
                                                                          "application/octet-stream")
                             or suffix in TEXT_SUFFIXES):
        if len(text) > limits.max_text_chars:
            raise UserError(f"`{name}` has {len(text):,} characters; the limit is {limits.max_text_chars:,}.")
        return Attachment(name, AttachmentKind.TEXT, "text/plain", text.encode("utf-8"), text)
    if declared.startswith("text/") or suffix in TEXT_SUFFIXES:
        raise UserError(f"`{name}` says it is text but is not readable as text: moai reads UTF-8 and "
                        "Windows-1252 text files.")
    kind = declared or "an unknown type"
    raise UserError(f"`{name}` is {kind}: moai reads images (PNG, JPEG, WebP, GIF), text and code files, and PDFs.")


def _image(name: str, data: bytes, limits: AttachmentsConfig) -> Attachment:
    """Decoded and encoded anew, always: only pixels reach the models (no metadata, no text chunks, nothing
    appended), at most `image_max_side` on the long side and MAX_IMAGE_BYTES in all."""
    from PIL import Image

    too_many = UserError(f"`{name}` has too many pixels; the limit is {MAX_PIXELS // 1_000_000} megapixels.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:  # checked before decoding: a small file can unpack huge
                raise UserError(f"`{name}` is {image.width}×{image.height} pixels; the limit is "
                                f"{MAX_PIXELS // 1_000_000} megapixels.")
            image.seek(0)  # an animated GIF: its first frame
            source = image.format or ""
            frame = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P", "PA") else "RGB")
    except Image.DecompressionBombError:
        raise too_many from None
    except UserError:
        raise
    except Exception:  # Pillow meets hostile files with many exception types: each is this file's refusal
        raise UserError(f"`{name}` is not a readable image (it may be damaged).") from None
    side = limits.image_max_side
    for _ in range(8):  # smaller until it fits what every provider takes
        largest = max(frame.size)
        resized = largest > side
        if resized:
            scale = side / largest
            frame = frame.resize((max(1, round(frame.width * scale)), max(1, round(frame.height * scale))),
                                 Image.Resampling.LANCZOS)
        # Transparency needs PNG; an image sent at its own size keeps its format; anything else is a JPEG.
        out = "PNG" if frame.mode == "RGBA" else source if not resized and source in ("PNG", "JPEG", "WEBP") \
            else "JPEG"
        output = io.BytesIO()
        frame.save(output, format=out, **({"optimize": True} if out == "PNG" else {"quality": 88}))
        if output.tell() <= MAX_IMAGE_BYTES:
            break
        side = max(1, int(max(frame.size) * 0.75))
    else:
        raise UserError(f"`{name}` could not be made small enough to send.")
    media_type = IMAGE_TYPES[out]
    return Attachment(name, AttachmentKind.IMAGE, media_type, output.getvalue(), width=frame.width, height=frame.height)


def _pdf(name: str, data: bytes, limits: AttachmentsConfig) -> Attachment:
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise UserError(f"`{name}` is a password-protected PDF; share it without the password.")
        pages = len(reader.pages)
        if pages > limits.max_pdf_pages:
            raise UserError(f"`{name}` has {pages} pages; the limit is {limits.max_pdf_pages}.")
        text = "\n\n".join((page.extract_text() or "").strip() for page in reader.pages).strip()
    except LimitReachedError:  # a decompression bomb: a small file that would unpack past pypdf's limits
        raise UserError(f"`{name}` is a PDF that unpacks to far more than its size; moai does not read it.") from None
    except UserError:
        raise
    except Exception:  # pypdf meets hostile files with many exception types: each is this file's refusal
        raise UserError(f"`{name}` is not a readable PDF (it may be damaged).") from None
    return Attachment(name, AttachmentKind.PDF, "application/pdf", data, text[: limits.max_text_chars], pages=pages)


def check_sizes(files: Sequence[tuple[str, int]], limits: AttachmentsConfig) -> None:
    """The count, each file's size and the total, from (name, bytes): before downloading, and again on the bytes."""
    if len(files) > limits.max_files:
        raise UserError(f"At most {limits.max_files} files per message.")
    for name, size in files:
        check_file_size(name, size, limits)
    total = sum(size for _, size in files) / 1_000_000
    if total > limits.max_message_mb:
        raise UserError(f"These files add up to {total:.1f} MB; the limit is {limits.max_message_mb:g} MB "
                        "per message.")


def check_file_size(name: str, size: int, limits: AttachmentsConfig) -> None:
    if size / 1_000_000 > limits.max_file_mb:
        raise UserError(f"`{name}` is {size / 1_000_000:.1f} MB; the limit is {limits.max_file_mb:g} MB per file.")


def prepare_all(files: Sequence[tuple[str, str | None, bytes]], limits: AttachmentsConfig) -> list[Attachment]:
    """Several files of one message: the count and sizes first, then each file."""
    check_sizes([(name, len(data)) for name, _, data in files], limits)
    return [prepare(name, content_type, data, limits) for name, content_type, data in files]


def files_chars(files: Sequence[Attachment]) -> int:
    """The files' token estimate in characters, for the budget estimate (as the models will be sent them)."""
    return sum(f.tokens(native=True) for f in files) * CHARS_PER_TOKEN


class Described(Protocol):
    """What describe_file reads: an Attachment, or its stored AttachmentRecord."""

    @property
    def kind(self) -> Any: ...
    @property
    def data(self) -> Any: ...
    @property
    def text(self) -> str: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def pages(self) -> int: ...


def describe_file(file: Described) -> str:
    """"image, 640×480, 52 kB": for export files and the console's attachment lines."""
    size = f"{len(file.data) / 1000:.0f} kB"
    if file.kind == AttachmentKind.IMAGE:
        return f"image, {file.width}×{file.height}, {size}"
    if file.kind == AttachmentKind.PDF:
        return f"PDF, {file.pages} page(s), {size}"
    return f"text, {len(file.text):,} characters"
