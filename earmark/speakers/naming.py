"""Names for diarized speakers, from what the episode says about who is talking.

Evidence, strongest first:
* self-introductions in the transcript ("I'm Maya", "my name is Maya", "this is Maya",
  "I'm your host, Maya"): the speaker who says it gets the name;
* a guest welcomed by name ("welcome, Dan", "joining me today is Dan"): the next *other* speaker;
* ``podcast:person`` (episode persons, then the podcast's; hosts first) and names in the show notes
  confirm a candidate or, when a single speaker stays unnamed and a single known person is left,
  name them; the first speaker is taken to be the host when the feed names exactly one host.

Speakers nobody names are "Speaker 1", "Speaker 2", … in order of first appearance.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from earmark.models import Person, Segment

_NAME = r"([A-Z][a-z'\-]+(?:\s+[A-Z][a-z'\-]+)?)"
_SELF = [
    re.compile(r"\bmy name(?:'s| is)\s+" + _NAME),
    re.compile(r"\bI am\s+" + _NAME),
    re.compile(r"\bI'm\s+(?:your\s+host,?\s+|your\s+co-?host,?\s+)?" + _NAME),
    re.compile(r"\bI’m\s+(?:your\s+host,?\s+)?" + _NAME),
    re.compile(r"\b(?:[Tt]his|[Ii]t)\s+is\s+" + _NAME + r"(?:\s+(?:here|speaking|and|with|from|,|\.))"),
    re.compile(r"\b(?:[Hh]ost(?:ed)?\s+(?:is|by)\s+|here with you,?\s+)" + _NAME),
]
_GUEST = [
    re.compile(r"\b[Ww]elcome(?:\s+to\s+the\s+show)?,?\s+" + _NAME),
    re.compile(r"\b(?:joining|with)\s+(?:me|us)\s+(?:today\s+|now\s+)?(?:is|are)\s+" + _NAME),
    re.compile(r"\b(?:my|our)\s+guest\s+(?:today\s+)?is\s+" + _NAME),
]
# Capitalised words that follow "I'm" etc. but are not names.
_NOT_NAMES = {
    "Here", "Not", "So", "Very", "Just", "Really", "Sure", "Glad", "Happy", "Excited", "Sorry", "Going", "Still", "Also",
    "The", "A", "An", "In", "On", "At", "From", "With", "And", "But", "Your", "Back", "Today", "Now", "Fine", "Good",
    "Great", "Well", "Okay", "OK", "I", "I'm", "It", "It's", "This", "We", "We're", "Thrilled", "Thanks", "Thank", "Welcome", "Everyone", "Everybody", "All", "Folks",
    "Listening", "Joined", "Joining", "Delighted", "Honored", "Honoured", "Pleased", "Curious", "Sure", "Always",
}


def _clean(name: str) -> str | None:
    words = name.split()
    while words and words[-1] in _NOT_NAMES:
        words.pop()
    if not words or words[0] in _NOT_NAMES:
        return None
    return " ".join(words)


def _match(patterns, text: str) -> list[str]:
    found = []
    for pattern in patterns:
        for m in pattern.finditer(text):
            name = _clean(m.group(1))
            if name:
                found.append(name)
    return found


def _known(persons: Iterable[Person], show_notes: str) -> list[str]:
    """Names the feed gives, hosts first; then capitalised name pairs from the show notes."""
    people = list(persons)
    names = [p.name for p in people if (p.role or "host") == "host"] + [p.name for p in people if (p.role or "host") != "host"]
    for m in re.finditer(r"\b([A-Z][a-z]+ [A-Z][a-z]+)\b", show_notes or ""):
        names.append(m.group(1))
    out: list[str] = []
    for n in names:
        if n and n not in out:
            out.append(n)
    return out


def _resolve(short: str, known: list[str]) -> str:
    """"Maya" → "Maya Lopez" when the feed knows exactly one such person."""
    hits = [k for k in known if k.split()[0].lower() == short.split()[0].lower()]
    return hits[0] if len(hits) == 1 and len(short.split()) == 1 else short


def name_speakers(
    segments: list[Segment], *, persons: Iterable[Person] = (), show_notes: str = "",
) -> dict[str, str]:
    """Map each raw speaker label in ``segments`` (in order of first appearance) to a display name."""
    persons = list(persons)
    order: list[str] = []
    for s in segments:
        if s.speaker is not None and s.speaker not in order:
            order.append(s.speaker)
    known = _known(persons, show_notes)
    names: dict[str, str] = {}
    taken: set[str] = set()

    def give(label: str, name: str) -> None:
        name = _resolve(name, known)
        if label not in names and name not in taken:
            names[label] = name
            taken.add(name)

    # 1. self-introductions
    for s in segments:
        if s.speaker is None:
            continue
        for name in _match(_SELF, s.text):
            give(s.speaker, name)
            break
    # 2. a guest welcomed by name: the next other speaker
    for i, s in enumerate(segments):
        for name in _match(_GUEST, s.text):
            nxt = next((t.speaker for t in segments[i + 1:] if t.speaker is not None and t.speaker != s.speaker), None)
            if nxt is not None:
                give(nxt, name)
            break
    # 3. the feed's persons: one host and an unnamed first speaker; one person left for one speaker left
    hosts = [p.name for p in persons if (p.role or "host") == "host"]
    if order and len(hosts) == 1 and order[0] not in names and hosts[0] not in taken:
        give(order[0], hosts[0])
    left_people = [p.name for p in persons if p.name not in taken]
    left_speakers = [label for label in order if label not in names]
    if len(left_people) == 1 and len(left_speakers) == 1:
        give(left_speakers[0], left_people[0])
    # 4. everyone else in order of first appearance
    n = 0
    for label in order:
        if label not in names:
            n += 1
            names[label] = f"Speaker {n}"
    return names


def apply_names(segments: list[Segment], names: dict[str, str]) -> list[Segment]:
    return [Segment(s.start, s.end, s.text, names.get(s.speaker, s.speaker) if s.speaker is not None else None, s.words)
            for s in segments]
