"""Clock strings ↔ float seconds, for every notation the transcript and chapter formats use, and
``format_clock``: the one way Earmark shows a time to people ("5:04", "1:02:03")."""

from __future__ import annotations

import math
import re

# [[hh:]mm:]ss[.,fff] — hours may exceed two digits; the fraction may use , (SRT) or . (VTT).
_CLOCK = re.compile(r"^(?:(?:(\d+):)?(\d{1,2}):)?(\d+(?:[.,]\d+)?)$")


def parse_clock(value: object) -> float | None:
    """Seconds from a number or a clock string; None when it is not a time."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return round(float(value), 6) if math.isfinite(value) and value >= 0 else None
    if not isinstance(value, str):
        return None
    m = _CLOCK.match(value.strip())
    if not m:
        return None
    hours, minutes, seconds = m.groups()
    total = int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds.replace(",", "."))
    # Rounded so 3*60 + 42.509 reads back as 222.509, not 222.50900000000001.
    return round(total, 6) if math.isfinite(total) else None


def _split_ms(seconds: float) -> tuple[int, int, int, int]:
    ms = round(max(seconds, 0.0) * 1000)
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return hours, minutes, secs, ms


def format_srt(seconds: float) -> str:
    h, m, s, ms = _split_ms(seconds)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def format_vtt(seconds: float) -> str:
    h, m, s, ms = _split_ms(seconds)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def format_clock(seconds: float | None) -> str:
    """"5:04" or "1:02:03" for a time or a duration shown to people (pages, CLI, exports, share
    texts, feeds): floored, never negative; "" for an unknown time."""
    if seconds is None:
        return ""
    total = int(max(0, seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_stamp(seconds: float) -> str:
    """[hh:mm:ss] for plain text: floored, so a stamp never points past the words it heads."""
    total = int(max(seconds, 0.0))
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"
