"""Whose words a summary sentence gives: a small model sums up a guest's first-person story under
the host's name ("Rachel recounts how she kept four hives"; Tom said "I kept four hives"). These
checks find such a sentence among the key sentences it restates, and give it to the one who said it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from earmark.ai.grounding import numbers, supported_share
from earmark.ai.terms import terms
from earmark.models import Segment

FIRST_PERSON = re.compile(r"\bI\b|\b(?:[Mm]y|[Mm]e|[Ww]e|[Oo]ur|[Uu]s)\b")
_YOU = re.compile(r"\b(?:you|your|yours|yourself)\b", re.I)
_QUOTED = re.compile(r"[\"“][^\"”]*[\"”]")


def speaks_to_you(text: str) -> bool:
    """Whether ``text`` says "you" outside quotation marks."""
    return bool(_YOU.search(_QUOTED.sub("", text)))


def addressed(sentence: str) -> str | None:
    """A sentence that speaks to "you" is a host's line copied, not a summary (h2: "Victor, one
    of your students counted more than 600 insects")."""
    if speaks_to_you(sentence):
        return 'it speaks to "you": write about the speakers in the third person, by name'
    return None


def _named(sentence: str, person: str, *, opening: bool = False) -> bool:
    """Whether ``sentence`` names ``person`` (full or first name), or begins with the name."""
    first = person.split()[0]
    where = "" if opening else r".*?\b"
    return any(re.match(rf"{where}{re.escape(n)}(?:['’]s)?\b", sentence, re.S) for n in dict.fromkeys((person, first)))


_GUEST = re.compile(r"\b(?:my|our) guests?\b", re.I)
SAID = 0.5  # share of a summary sentence's words that marks the key sentence it restates


def _whose(sentence: str, spoken: Sequence[Segment], language: str | None = "en",
           everyone: Sequence[Segment] = ()) -> tuple[str, list[str], bool] | None:
    """Whether a summary sentence gives one speaker what another said: (that speaker, the ones
    who said it, whether it was the speaker's own words about a guest), or None. Its subject is the
    speaker it opens with, else the one speaker it names. The key sentences it restates are those
    holding its numbers, else the one sharing most of its other words (at least SAID). It is
    misattributed when each of those is somebody else's own story, in the first person, not naming
    the subject (d1: "Rachel recounts how she kept four hives", "Rachel treats the hives for mites
    in August"; the guest, Tom, said "I kept …", "I treat …"), or the subject's words about a guest
    ("My guest today keeps bees on the roofs …" made "Rachel Carter keeps hives on rooftops"). A
    host telling a guest's story ("He sells the honey for eight pounds") may be summed up under
    the guest's name, and a sentence that names the speaker too ("Rachel thanks Tom for …") is
    not judged. The subject may be any speaker of ``everyone`` (default: of ``spoken``)."""
    people = sorted({s.speaker for s in [*spoken, *everyone] if s.speaker and not s.speaker.startswith("Speaker ")},
                    key=len, reverse=True)
    subject = next((p for p in people if _named(sentence, p, opening=True)), None)
    if subject is None:
        named = [p for p in people if _named(sentence, p)]
        subject = named[0] if len(named) == 1 else None
    if subject is None:
        return None
    if values := set(numbers(sentence, language)):
        holders = [s for s in spoken if values & set(numbers(s.text, language))]
    else:
        bare = sentence
        for p in people:
            bare = re.sub(rf"\b(?:{re.escape(p)}|{re.escape(p.split()[0])})(?:['’]s)?\b", " ", bare)
        shares = [supported_share(bare, s.text, language) if terms(bare, language) else 0.0 for s in spoken]
        best = max(shares, default=0.0)
        holders = [s for s, share in zip(spoken, shares) if share == best and share >= SAID]
    first = subject.split()[0]
    if not holders or any((s.speaker == subject and not _GUEST.search(s.text)) or re.search(rf"\b{re.escape(first)}\b", s.text)
                          or not FIRST_PERSON.search(s.text) or (s.speaker and s.speaker != subject and _named(sentence, s.speaker))
                          for s in holders):
        return None
    return subject, sorted({s.speaker or "another speaker" for s in holders if s.speaker != subject}), any(
        s.speaker == subject for s in holders)


def misattributed(sentence: str, spoken: Sequence[Segment], language: str | None = "en",
                  everyone: Sequence[Segment] = ()) -> str | None:
    """Why a summary sentence gives one speaker what another said (see _whose), or None."""
    if not (found := _whose(sentence, spoken, language, everyone)):
        return None
    subject, others, guest = found
    what = ([f"what {', '.join(others)} said"] if others else []) + (["what they said of a guest"] if guest else [])
    return f"it gives {subject} " + " and ".join(what)


def reattributed(sentence: str, spoken: Sequence[Segment], language: str | None = "en",
                 everyone: Sequence[Segment] = ()) -> str | None:
    """A misattributed sentence under the name of the one speaker whose words it restates ("Rachel
    treats the hives for mites in August" → "Tom …"), or None where that is not one named speaker.
    The bundled model, told who said it, mostly wrote the same sentence again."""
    found = _whose(sentence, spoken, language, everyone)
    if not found or found[2] or len(found[1]) != 1 or found[1][0].startswith("Speaker ") or found[1][0] == "another speaker":
        return None
    subject, (speaker,), _ = found
    fixed = re.sub(rf"\b{re.escape(subject)}\b", speaker, sentence)
    return re.sub(rf"\b{re.escape(subject.split()[0])}\b", speaker.split()[0], fixed)
