"""Speaker labels written into the text (``Travis: When you first get…``).

A colon alone proves nothing ("Learning Tensorflow.js: Powerful…", "Choose Your Own Adventure:"),
so a label must look like a short name, and only a label that *opens* a cue or paragraph is
trusted on its own. A label elsewhere — on a later line of a cue, or after a sentence end — is
taken only when that same name opens a cue somewhere in the document. Publishers write the
label only where the speaker changes, so a speaker carries forward until the next label.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from earmark.models import Segment
from earmark.transcripts.markup import collapse

# "Name:" followed by whitespace or the end; the name part is checked by is_speaker_label.
_LABEL_AT = re.compile(r"([^\W\d_][^:\n]{0,48}?):(?=\s|$)")
_AFTER_SENTENCE = re.compile(r"[.!?…][\"'”’)\]]*[ \t]+")
# Letters/digits with inner apostrophes or hyphens; a dot only at the end ("Dr."), so
# "Tensorflow.js" is not a name.
_TOKEN = re.compile(r"[^\W_][\w'’-]*\.?")
_PARTICLES = set("van von de der den da di del della du la le bin ibn al el ten ter y".split())
# Capitalised words that open sentences with a colon far more often than they name anyone.
_NOT_NAMES = set(
    "and but so or well yes no okay ok now then also note update warning example tip edit ps "
    "here there today first second finally answer question".split()
)
MAX_NAME_WORDS = 4


def is_speaker_label(label: str) -> bool:
    tokens = label.split()
    if not 1 <= len(tokens) <= MAX_NAME_WORDS:
        return False
    if len(tokens) == 1 and tokens[0].lower().rstrip(".") in _NOT_NAMES:
        return False
    if not (tokens[0][0].isalpha() and tokens[0][0].isupper()):
        return False
    for token in tokens:
        if not _TOKEN.fullmatch(token):
            return False
        if not (token[0].isupper() or token[0].isdigit() or token.lower() in _PARTICLES):
            return False
    return True


def leading_label(text: str, pos: int = 0) -> tuple[str, int] | None:
    """(name, end of the label) when a name-like label starts at ``pos``."""
    m = _LABEL_AT.match(text, pos)
    if not m:
        return None
    name = " ".join(m.group(1).split())
    return (name, m.end()) if is_speaker_label(name) else None


def opening_labels(texts: Iterable[str]) -> set[str]:
    """Names that open a cue/paragraph: the document's trusted speaker names."""
    names = set()
    for text in texts:
        hit = leading_label(text.lstrip())
        if hit:
            names.add(hit[0])
    return names


def _label_hits(text: str, known: set[str]) -> list[tuple[int, int, str]]:
    positions = {0} | {m.end() for m in re.finditer(r"\n[ \t]*", text)}
    positions |= {m.end() for m in _AFTER_SENTENCE.finditer(text)}
    hits: list[tuple[int, int, str]] = []
    for pos in sorted(positions):
        if hits and pos < hits[-1][1]:
            continue
        hit = leading_label(text, pos)
        if hit and (pos == 0 or hit[0] in known):
            hits.append((pos, hit[1], hit[0]))
    return hits


def label_segments(items: list[tuple[float, float, str, str | None]]) -> list[Segment]:
    """Segments from (start, end, raw text, explicit speaker) items in document order.

    An explicit speaker (a voice tag, a <cite>) wins; otherwise ``Name:`` labels are found — even
    in a file that has voice tags, since converters miss some (the corpus's 2024 Buzzsprout VTT
    tags Travis and Sarah but leaves "Gilon:" inline). A label inside an item splits it there,
    time shared out by characters. Text is whitespace-collapsed here; markup must be gone.
    """
    known = opening_labels(text for _, _, text, explicit in items if explicit is None)
    segments: list[Segment] = []
    current: str | None = None
    for start, end, raw, explicit in items:
        text = raw.strip()
        if explicit is not None:
            current = explicit
            pieces = [(current, 0, 0, len(text))]
        else:
            # (speaker, time from, text from, to): a piece's time starts at its label.
            hits = _label_hits(text, known)
            bounds = [h[0] for h in hits[1:]] + [len(text)]
            pieces = [(current, 0, 0, hits[0][0] if hits else len(text))]
            for (pos, label_end, name), stop in zip(hits, bounds):  # noqa: B905 (bounds outlives an empty hits)
                pieces.append((name, pos, label_end, stop))
            if hits:
                current = hits[-1][2]
        segments.extend(_timed_pieces(start, end, text, pieces))
    return segments


def _timed_pieces(
    start: float, end: float, text: str, pieces: list[tuple[str | None, int, int, int]]
) -> list[Segment]:
    span, size = max(end - start, 0.0), max(len(text), 1)
    out = []
    for speaker, time_from, text_from, stop in pieces:
        piece = collapse(text[text_from:stop])
        if piece:
            out.append(
                Segment(
                    round(start + span * time_from / size, 3),
                    round(start + span * stop / size, 3) if stop < len(text) else end,
                    piece,
                    speaker,
                )
            )
    return out


def unify_names(segments: list[Segment]) -> None:
    """A one-word speaker ("Dan") who is the first name of exactly one fuller speaker in the same
    document ("Dan Ott") becomes that speaker: publishers write the full name on the first turn
    and the short one after. Ambiguous first names are left alone."""
    names = {s.speaker for s in segments if s.speaker}
    full: dict[str, set[str]] = {}
    for name in names:
        parts = name.split()
        if len(parts) > 1:
            full.setdefault(parts[0], set()).add(name)
    mapping = {n: next(iter(full[n])) for n in names if " " not in n and len(full.get(n, ())) == 1}
    for seg in segments:
        if seg.speaker in mapping:
            seg.speaker = mapping[seg.speaker]
