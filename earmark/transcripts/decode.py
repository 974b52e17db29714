"""Bytes → clean text: BOMs stripped, UTF-8 with a legacy fallback, one newline style."""

from __future__ import annotations

import codecs
import unicodedata

from earmark.errors import TranscriptError

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode_text(content: bytes | str, what: str = "transcript") -> str:
    """Text with BOM removed and CRLF/CR turned into LF. Raises TranscriptError on empty or
    binary content, so callers never parse garbage into segments."""
    if isinstance(content, bytes):
        text = _decode_bytes(content)
    elif isinstance(content, str):
        text = content
    else:
        raise TranscriptError(f"{what} must be bytes or str, not {type(content).__name__}")
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise TranscriptError(f"{what} is empty")
    _refuse_binary(text, what)
    return text


def _decode_bytes(data: bytes) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                raise TranscriptError(f"bad {encoding} after its byte-order mark: {exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Old publisher files are mostly Windows-1252; latin-1 decodes anything that is left.
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _refuse_binary(text: str, what: str) -> None:
    sample = text[:8192]
    if "\x00" in sample:
        raise TranscriptError(f"{what} is binary data, not text (it contains NUL bytes)")
    controls = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\t\n\f\v")
    if controls > max(2, len(sample) // 100):
        raise TranscriptError(
            f"{what} looks like binary data, not text ({controls} control characters "
            f"in the first {len(sample)})"
        )
