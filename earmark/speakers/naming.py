"""Names for diarized speakers, from what the episode says about who is talking.

Evidence, strongest first, each kept with the line that gives it:
* self-introductions ("I'm Maya", "my name is Maya", "I'm your host, Maya"): the speaker who says it;
* a guest welcomed by name ("welcome, Dan", "Dan, welcome to the show", "joining me today is Dan"):
  the next *other* speaker;
* being addressed by name (a vocative: "Lena, let's start with you." / "What do you make of that,
  Omar?" / "Thanks, Val."): the next other speaker is that person. A name said at the start of a
  sentence only counts when the episode also writes it as a name elsewhere (a list of guests, the
  show notes, the feed's people), so "Look, …" or "Right, …" never name anyone;
* ``podcast:person`` (episode persons, then the podcast's; hosts first): the first speaker is the
  host when the feed names exactly one host; one person left for one speaker left;
* a list of guests ("My guests today are Anna Morgan … and David Hughes"): when one listed name is
  left and one speaker besides the one who read the list, that speaker is the name left (speech
  recognition often garbles the vocative that would have said so: "Anna, …" heard as "And a, …");
* then, optionally, a language model asked about the speakers still unnamed, allowed to answer only
  with a name the transcript, show notes or feed give (or "unknown"), and heard only where another
  speaker says that name just before the speaker's turn.

Each name goes to one speaker; votes decide between conflicting evidence. Speakers nobody names are
"Speaker 1", "Speaker 2", … in order of first appearance.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable

from earmark.ai.grounding import common_words
from earmark.models import Person, Segment, SpeakerName

_TITLES = ("Dr", "Doctor", "Mr", "Mrs", "Ms", "Mx", "Miss", "Prof", "Professor", "Sir", "Dame", "Lady", "Lord",
           "Captain", "Father", "Sister", "Reverend")
# "I'm Dr. Emma Lawson": the honorific goes before the name, never in its place.
_NAME = r"(?:(?:" + "|".join(_TITLES) + r")\.?\s+)?([A-Z][a-z'\-]+(?:\s+[A-Z][a-z'\-]+)?)"
_SELF = [
    re.compile(r"\b[Mm]y name(?:'s| is)\s+" + _NAME),
    re.compile(r"\bI am\s+" + _NAME),
    re.compile(r"\bI['’]m\s+(?:your\s+(?:co-?)?host,?\s+)?" + _NAME),
    re.compile(r"\b(?:[Tt]his|[Ii]t)\s+is\s+" + _NAME + r"(?:\s+(?:here|speaking|and|with|from|,|\.))"),
    re.compile(r"\b(?:[Hh]ost(?:ed)?\s+(?:is|by)\s+|here with you,?\s+)" + _NAME),
]
_WELCOME = [
    re.compile(r"\b[Ww]elcome(?:\s+(?:to|back to)\s+the\s+(?:show|program|programme|podcast))?,?\s+" + _NAME),
    re.compile(r"\b(?:[Jj]oining|[Ww]ith)\s+(?:me|us)\s+(?:today\s+|now\s+|here\s+)?(?:is|are)\s+(?:the\s+\w+\s+)?" + _NAME),
    re.compile(r"\b(?:[Mm]y|[Oo]ur)\s+guest\s+(?:today\s+|this week\s+)?is\s+(?:the\s+\w+\s+)?" + _NAME),
    re.compile(r"^" + _NAME + r",\s+welcome\b"),
]
# "My guests today are Anna Morgan, a …, and David Hughes, …": names offered for the speakers to come.
_LIST = re.compile(r"\b(?:guests?|panel(?:lists)?|joined by|with me (?:are|today are))\b[^.?!]*", re.I)
_FULL_NAME = re.compile(r"\b([A-Z][a-z'\-]+)\s+([A-Z][a-z'\-]+)\b")
_VOCATIVE_START = re.compile(r"^(?:(?i:so|and|now|okay|well|thanks|thank you),?\s+)?([A-Z][a-z'\-]+),")
_VOCATIVE_END = re.compile(r",\s+([A-Z][a-z'\-]+)\s*[?.!]$")
# "… Fletcher, welcome to the show." where speech recognition garbled the first name ("Oh in
# Fletcher"): counts when the word is part of a name the episode knows, as a vocative does.
_WELCOMED = re.compile(r"\b([A-Z][a-z'\-]+),\s+welcome\b")
# Capitalised words that follow "I'm" etc. or open a sentence but are not names.
_NOT_NAMES = {*_TITLES,
    "Here", "Not", "So", "Very", "Just", "Really", "Sure", "Glad", "Happy", "Excited", "Sorry", "Going", "Still", "Also",
    "The", "A", "An", "In", "On", "At", "From", "With", "And", "But", "Your", "Back", "Today", "Now", "Fine", "Good",
    "Great", "Well", "Okay", "OK", "I", "I'm", "It", "It's", "This", "We", "We're", "Thrilled", "Thanks", "Thank",
    "Welcome", "Everyone", "Everybody", "All", "Folks", "Listening", "Joined", "Joining", "Delighted", "Honored",
    "Honoured", "Pleased", "Curious", "Always", "Yes", "No", "Right", "Look", "Listen", "Honestly", "Absolutely",
    "Exactly", "Oh", "Wow", "Hey", "Hi", "Hello", "First", "Then", "Next", "Finally", "Again", "Actually", "Indeed",
    "Of", "Course", "Friends", "Guys", "Ladies", "Gentlemen", "Both", "Please", "Certainly", "Definitely", "True",
    "Interesting", "Anyway", "Alright", "Perfect", "Cheers", "Bye", "Goodbye", "Morning", "Evening", "Afternoon",
}
WEIGHTS = {"self": 3.0, "welcome": 2.0, "vocative": 1.0}


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


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.?!])\s+", text) if s.strip()]


def known_names(segments: Iterable[Segment], persons: Iterable[Person], show_notes: str,
                exclude: Iterable[str] = ()) -> list[str]:
    """Names the episode offers, hosts first: the feed's people, full names in the show notes and
    in the transcript's introductions (a list of guests, "I'm Maya Lopez", "joining me is …").
    Words of ``exclude`` (the podcast's and episode's titles) are no one's name."""
    banned = {w for text in exclude for w in re.findall(r"[A-Z][a-z'\-]+", text or "")}
    people = list(persons)
    names = [p.name for p in people if (p.role or "host") == "host"] + [p.name for p in people if (p.role or "host") != "host"]
    for first, last in _FULL_NAME.findall(show_notes or ""):
        if first not in _NOT_NAMES and last not in _NOT_NAMES:
            names.append(f"{first} {last}")
    for s in segments:  # introductions: "my guests are …", "I'm Maya Lopez", "joining me is …"
        for sentence in _sentences(s.text):
            listed = _LIST.search(sentence)
            if listed:
                sentence = sentence[listed.start():]  # the names come after "guests", "joined by" …
            elif not any(p.search(sentence) for p in (*_SELF, *_WELCOME)):
                continue
            for first, last in _FULL_NAME.findall(sentence):
                if first not in _NOT_NAMES and last not in _NOT_NAMES:
                    names.append(f"{first} {last}")
            for word in re.findall(r"(?<=[\s,])([A-Z][a-z'\-]+)", sentence):  # single first names
                if word not in _NOT_NAMES and not any(n.split()[0] == word or n.split()[-1] == word for n in names):
                    names.append(word)
    out: list[str] = []
    for n in names:
        if n and n not in out and not set(n.split()) & banned:
            out.append(n)
    return out


def _listed(sentence: str, known: list[str]) -> list[str]:
    """The names a list of guests gives, in full where the episode knows them: what opens each of
    its items ("Anna Morgan, a historian at the University of Bristol, and David" → Anna, David),
    not the places and titles in their descriptions."""
    listed = _LIST.search(sentence)
    if not listed:
        return []
    out = []
    for n, item in enumerate(re.split(r",\s*|;\s*|\s+and\s+", sentence[listed.start():])):
        m = re.match((r".*?\b(?:are|is|by|include)\s+" if n == 0 else r"\s*") + _NAME, item)
        name = _clean(m.group(1)) if m else None
        if name:
            out.append(_resolve(name, known))
    return list(dict.fromkeys(out))


def _resolve(short: str, known: list[str]) -> str:
    """"Maya" (or "Lopez") → "Maya Lopez" when the episode knows exactly one such person."""
    if len(short.split()) != 1:
        return short
    hits = [k for k in known if k.split()[0].lower() == short.lower()]
    if not hits:
        hits = [k for k in known if len(k.split()) > 1 and k.split()[-1].lower() == short.lower()]
    return hits[0] if len(hits) == 1 else short


def _next_other(segments: list[Segment], i: int) -> str | None:
    me = segments[i].label
    return next((t.label for t in segments[i + 1:] if t.label is not None and t.label != me), None)


Ask = Callable[[list[str], dict[str, list[str]], list[str]], dict[str, str]]
"""(unnamed labels, their lines in context, candidate names) → label → name or "unknown"."""


def name_speakers(
    segments: list[Segment], *, persons: Iterable[Person] = (), show_notes: str = "", ask: Ask | None = None,
    titles: Iterable[str] = (),
) -> list[SpeakerName]:
    """Who each diarized label (``Segment.label``) is, in order of first appearance. ``titles``:
    the podcast's and episode's, whose words name no one."""
    persons = list(persons)
    order: list[str] = []
    for s in segments:
        if s.label is not None and s.label not in order:
            order.append(s.label)
    known = known_names(segments, persons, show_notes, titles)
    first_names = {k.split()[0] for k in known}
    name_words = first_names | {k.split()[-1] for k in known}
    votes: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    lists: list[tuple[str, list[str], str]] = []  # (who read it, the names, the line)
    evidence: dict[tuple[str, str], tuple[str, str]] = {}

    def vote(label: str | None, name: str, source: str, line: str) -> None:
        if label is None:
            return
        name = _resolve(name, known)
        votes[label][name] += WEIGHTS[source]
        if (label, name) not in evidence or WEIGHTS[source] > WEIGHTS[evidence[(label, name)][0]]:
            evidence[(label, name)] = (source, line)

    for i, s in enumerate(segments):
        if s.label is None:
            continue
        for name in _match(_SELF, s.text)[:1]:
            vote(s.label, name, "self", s.text)
        for name in _match(_WELCOME, s.text)[:1]:
            vote(_next_other(segments, i), name, "welcome", s.text)
        for sentence in _sentences(s.text):
            if listed := _listed(sentence, known):
                lists.append((s.label, listed, s.text))
            for pattern in (_VOCATIVE_START, _VOCATIVE_END):
                m = pattern.search(sentence)
                if not m or m.group(1) in _NOT_NAMES:
                    continue
                # "Anna, …" counts when the episode names Anna elsewhere; ", Omar?" also when it
                # is no everyday word ("… near Lyon, France." names nobody France)
                if m.group(1) not in first_names and (pattern is _VOCATIVE_START or m.group(1).lower() in common_words()):
                    continue
                vote(_next_other(segments, i), m.group(1), "vocative", s.text)
            m = _WELCOMED.search(sentence)
            if m and m.group(1) in name_words - _NOT_NAMES and not _match(_WELCOME, sentence):
                vote(_next_other(segments, i), m.group(1), "welcome", s.text)

    names: dict[str, SpeakerName] = {}
    # names already shown on segments without a label (named before labels were kept) are taken
    taken: set[str] = {s.speaker for s in segments if s.label is None and s.speaker}
    # strongest claims first; a name goes to one speaker, a speaker gets one name
    claims = sorted(((score, label, name) for label, by in votes.items() for name, score in by.items()), reverse=True)
    for score, label, name in claims:
        if label in names or name in taken:
            continue
        source, line = evidence[(label, name)]
        names[label] = SpeakerName(label, name, source, line)
        taken.add(name)

    hosts = [p.name for p in persons if (p.role or "host") == "host"]
    if order and len(hosts) == 1 and order[0] not in names and hosts[0] not in taken:
        names[order[0]] = SpeakerName(order[0], hosts[0], "feed", "podcast:person (host)")
        taken.add(hosts[0])
    left_people = [p.name for p in persons if p.name not in taken]
    left_speakers = [label for label in order if label not in names]
    if len(left_people) == 1 and len(left_speakers) == 1:
        names[left_speakers[0]] = SpeakerName(left_speakers[0], left_people[0], "feed", "podcast:person")
        taken.add(left_people[0])

    for reader, listed, line in lists:
        left_names = [n for n in listed if n.split()[0] not in {t.split()[0] for t in taken}]
        left_speakers = [label for label in order
                         if label not in names and label != reader and _speech_seconds(segments, label) >= 20]
        if len(left_names) == 1 and len(left_speakers) == 1:
            names[left_speakers[0]] = SpeakerName(left_speakers[0], left_names[0], "list", line)
            taken.add(left_names[0])

    if ask is not None:
        unnamed = [label for label in order if label not in names and _speech_seconds(segments, label) >= 20]
        candidates = [k for k in known if k not in taken and k.split()[0] not in {t.split()[0] for t in taken}]
        if unnamed and candidates:
            answers = ask(unnamed, {label: _context_lines(segments, label) for label in unnamed}, candidates)
            for label in unnamed:
                name = answers.get(label)
                # the model's pick stands only where another speaker says that name just before
                # this one speaks: what it may read, not what it may guess
                if name and name in candidates and name not in taken and _addressed(segments, label, name, candidates):
                    names[label] = SpeakerName(label, name, "llm", "; ".join(_context_lines(segments, label)[:2]))
                    taken.add(name)

    n = 0
    out = []
    for label in order:
        if label not in names:
            n += 1
            names[label] = SpeakerName(label, f"Speaker {n}", "none")
        out.append(names[label])
    return out


def _addressed(segments: list[Segment], label: str, name: str, candidates: list[str], reach: int = 2) -> bool:
    """Whether another speaker says ``name`` (its first or last word), and no other candidate's, within
    ``reach`` segments before one of ``label``'s turns (a list of guests is no such evidence)."""
    said = lambda text, n: re.search(rf"\b(?:{re.escape(n.split()[0])}|{re.escape(n.split()[-1])})\b", text) is not None  # noqa: E731
    for i, s in enumerate(segments):
        if s.label != label or (i and segments[i - 1].label == label):
            continue
        for prev in segments[max(0, i - reach):i]:
            if prev.label != label and said(prev.text, name) and not any(said(prev.text, c) for c in candidates if c != name):
                return True
    return False


def _speech_seconds(segments: list[Segment], label: str) -> float:
    return sum(s.end - s.start for s in segments if s.label == label)


def _context_lines(segments: list[Segment], label: str, limit: int = 4) -> list[str]:
    """The lines said just before the speaker's first few turns, and the turns' openings."""
    lines: list[str] = []
    for i, s in enumerate(segments):
        if s.label != label or (i and segments[i - 1].label == label):
            continue
        if i:
            prev = segments[i - 1]
            lines.append(f"{prev.label}: {prev.text}")
        lines.append(f"{label}: {s.text}")
        if len(lines) >= 2 * limit:
            break
    return lines
