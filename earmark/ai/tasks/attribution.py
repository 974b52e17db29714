"""Whose words a summary sentence gives: a small model sums up a guest's first-person story under
the host's name ("Rachel recounts how she kept four hives"; Tom said "I kept four hives"), what a
host said to a guest ("Your family farm …") under the host's, a news story under its reader's.
These checks find such a sentence among the key sentences it restates, and give it to the one whose
it is; and they find a description of a person ("X, a farmer", "X is a farmer") that the transcript
never says of that person.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from earmark.ai.grounding import Source, names, numbers, sentences, supported_share
from earmark.ai.terms import terms
from earmark.models import Segment

FIRST_PERSON = re.compile(r"\bI\b|\b(?:[Mm]y|[Mm]e|[Ww]e|[Oo]ur|[Uu]s)\b")
_YOU = re.compile(r"\b(?:you|your|yours|yourself)\b", re.I)
_QUOTED = re.compile(r"[\"“][^\"”]*[\"”]")
_SELF = re.compile(r"\bI\b")


def speaks_to_you(text: str) -> bool:
    """Whether ``text`` says "you" outside quotation marks."""
    return bool(_YOU.search(_QUOTED.sub("", text)))


# "you" said to the audience, or by a speaker with someone beside them ("We have three stories for you today")
_AUDIENCE = re.compile(r"\b(?:we|we're|us|our|all of you|you listening|if you enjoyed|you at home)\b", re.I)


def listener(units: Sequence[Segment], k: int) -> str | None:
    """Whom sentence ``k`` speaks to: the next other speaker, within a few sentences; None where
    its "you" is the audience (h5's co-host was not whom "We have three stories for you" was for)."""
    if _AUDIENCE.search(units[k].text):
        return None
    return next((u.speaker for u in units[k + 1:k + 6] if u.speaker and u.speaker != units[k].speaker), None)


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
_THIRD = re.compile(r"\b(?:she|he)\b", re.I)
# "Tom recalls how …": a sentence that reports what its subject said gives them nothing
_REPORTS = re.compile(r"(?:says?|said|explains?|explained|recall(?:s|ed)?|recounts?|recounted|notes?|noted|mentions?|"
                      r"mentioned|describes?|described|reports?|reported|announces?|announced|tells?|told|shares?|"
                      r"shared|talks?|talked|discuss(?:es|ed)?|adds?|added|reveals?|revealed|speaks?|spoke|points?|"
                      r"introduces?|introduced|asks?|asked|thanks?|thanked|highlights?|emphasi[sz]es?|remembers?|"
                      r"believes?|thinks?|welcomes?|welcomed|congratulates?|congratulated|reads?|continues?|goes)\b")
SAID = 0.5  # share of a summary sentence's words that marks the key sentence it restates


def _acts(sentence: str, subject: str) -> bool:
    """Whether ``sentence`` opens with ``subject`` doing something, not reporting it ("Tom passed
    away", "Jack Turner and Frank Brooks have donated"; not "Tom recalls …", "Jack reports …")."""
    first = subject.split()[0]
    aside = r"(?:,[^,]{1,80},)?"  # ", a retired land surveyor,"
    m = re.match(rf"(?:{re.escape(subject)}|{re.escape(first)}){aside}(?:\s+and(?:\s+[A-Z][\w'’-]*)+)?{aside}\s+(\w+)", sentence)
    return bool(m) and not _REPORTS.fullmatch(m.group(1).lower())


def _named_other(text: str, people: Sequence[str]) -> str | None:
    """A person ``text`` names who is none of the speakers ("Frank Brooks, a retired land surveyor, …")."""
    found = set(names(text))
    known = {w for p in people for w in p.split()}
    for m in re.finditer(r"\b[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)+", text):
        words = m.group(0).split()
        if found & set(words) and not known & set(words):
            return m.group(0)
    return None


def _owner(sentence: str, subject: str, held: Segment, to: str | None, people: Sequence[str]) -> tuple[str, str] | None:
    """Whose story key sentence ``held`` tells, where that is not the summary sentence's
    ``subject``: its speaker's in the first person ("I kept four hives"), "a guest" (the subject
    said "my guest today keeps bees …"), the one the subject spoke to ("Your family farm has 800
    olive trees", said to ``to``), a person it names (the news reader's "Frank Brooks has donated
    1200 maps" made "Jack Turner and Frank Brooks have donated …"), or "someone else" (the subject
    said "She kept four hives … when she died in 2013", and the sentence opens "Tom passed away in
    2013"), with the phrase that says so. None where it is the subject's own, or not known."""
    first = subject.split()[0]
    own = re.search(rf"\b{re.escape(first)}\b", held.text)
    if held.speaker != subject:  # "my guest today keeps bees …", "your brother and you …": the subject's story
        mine = (FIRST_PERSON.search(held.text) and not own
                and not _GUEST.search(held.text) and not (to == subject and speaks_to_you(held.text)))
        who = held.speaker or "another speaker"
        if mine:
            return who, f"what {who} said"
        other = None if own or speaks_to_you(held.text) else _named_other(held.text, people)
        return (other, f"what {who} said of {other}") if other and _acts(sentence, subject) else None
    if _GUEST.search(held.text):  # "Rachel introduces Tom, who keeps bees …" is hers to say
        return ("a guest", "what they said of a guest") if _acts(sentence, subject) else None
    if speaks_to_you(held.text):
        return (to, f'what they said to {to} ("you")') if to and to != subject else None
    if FIRST_PERSON.search(held.text) or own or not _acts(sentence, subject):
        return None
    if other := _named_other(held.text, people):
        return other, f"what they said of {other}"
    if third := _THIRD.search(held.text):
        return "someone else", f'what they said of someone else ("{third.group(0).lower()}")'
    return None


def _whose(sentence: str, spoken: Sequence[Segment], language: str | None = "en",
           everyone: Sequence[Segment] = ()) -> tuple[str, list[tuple[str, str]]] | None:
    """Whether a summary sentence gives one speaker what another said or what was someone else's:
    (that speaker, whose it was: see _owner), or None. Its subject is the speaker it opens with,
    else the one speaker it names. The key sentences it restates are those holding its numbers,
    else the one sharing most of its other words (at least SAID). It is misattributed when each of
    those is somebody else's (d1: "Rachel recounts how she kept four hives", "Rachel treats the hives
    for mites in August": the guest, Tom, said "I kept …", "I treat …"; "My guest today keeps bees
    on the roofs …" made "Rachel Carter keeps hives on rooftops"; h1: the host's "Your family farm
    has 800 olive trees" made "Oliver Brent, a farmer …"). A host telling a guest's story ("He sells
    the honey for eight pounds") may be summed up under the guest's name, and a sentence that names
    the one whose it was ("Rachel thanks Tom for …") is not judged. The subject may be any speaker
    of ``everyone`` (default: of ``spoken``); where ``spoken`` is taken from ``everyone``, whom a
    sentence spoke to is the next other speaker there."""
    people = sorted({s.speaker for s in [*spoken, *everyone] if s.speaker and not s.speaker.startswith("Speaker ")},
                    key=len, reverse=True)
    subject = next((p for p in people if _named(sentence, p, opening=True)), None)
    if subject is None:
        named = [p for p in people if _named(sentence, p)]
        subject = named[0] if len(named) == 1 else None
    if subject is None:
        return None
    bare = sentence
    for p in people:
        bare = re.sub(rf"\b(?:{re.escape(p)}|{re.escape(p.split()[0])})(?:['’]s)?\b", " ", bare)
    shares = [supported_share(bare, s.text, language) if terms(bare, language) else 0.0 for s in spoken]
    if values := set(numbers(sentence, language)):  # of those holding its numbers, the closest ("10 o'clock", not "10 days")
        held = [share for s, share in zip(spoken, shares) if values & set(numbers(s.text, language))]
        holders = [s for s, share in zip(spoken, shares) if values & set(numbers(s.text, language)) and share == max(held)]
    else:
        best = max(shares, default=0.0)
        holders = [s for s, share in zip(spoken, shares) if share == best and share >= SAID]
    where = {id(u): k for k, u in enumerate(everyone)}
    owners = [_owner(sentence, subject, s, listener(everyone, where[id(s)]) if id(s) in where else None, people)
              for s in holders]
    if not holders or any(o is None or (o[0] in people and _named(sentence, o[0])) for o in owners):
        return None
    return subject, sorted(set(owners))


def misattributed(sentence: str, spoken: Sequence[Segment], language: str | None = "en",
                  everyone: Sequence[Segment] = ()) -> str | None:
    """Why a summary sentence gives one speaker what another said (see _whose), or None."""
    if not (found := _whose(sentence, spoken, language, everyone)):
        return None
    subject, owners = found
    return f"it gives {subject} " + " and ".join(how for _, how in owners)


def reattributed(sentence: str, spoken: Sequence[Segment], language: str | None = "en",
                 everyone: Sequence[Segment] = ()) -> str | None:
    """A misattributed sentence under the name of the one speaker whose it was ("Rachel treats the
    hives for mites in August" → "Tom …"), or None where that is not one named speaker. The
    bundled model, told whose it was, mostly wrote the same sentence again."""
    found = _whose(sentence, spoken, language, everyone)
    if not found or len({who for who, _ in found[1]}) != 1:
        return None
    subject, ((owner, _), *_) = found
    speakers = {s.speaker for s in [*spoken, *everyone]}
    if owner not in speakers or owner.startswith("Speaker "):  # "a guest", a person only named: not known who
        return None
    fixed = re.sub(rf"\b{re.escape(subject)}\b", owner, sentence)
    return re.sub(rf"\b{re.escape(subject.split()[0])}\b", owner.split()[0], fixed)


def said_of(units: Sequence[Segment], notes: str = "") -> Callable[[str], str]:
    """What the transcript says of a person, by a name as a summary writes it ("Carmen Vidal",
    "Carmen", "Council Roger Bell"): the sentences that name them, the sentences just before one
    where another speaker welcomes or addresses them, by that speaker ("Today we're talking with a
    farmer who grows it in the south of Spain." "Carmen Vidal, welcome to the show."), and their own
    sentences that say "I" ("I was working as an accountant"), the ones said to them with "you", and
    the show notes' sentences that name them. Judged against the whole transcript, the host who said
    the first of those was described as the farmer (h1), a news reader as a map collection's donor (h5)."""
    def of(name: str) -> str:
        words = [w for w in re.findall(r"[\w'’-]+", name) if w[0].isupper() and len(w) > 2]
        pattern = re.compile(rf"\b(?:{'|'.join(map(re.escape, words))})\b") if words else None
        if pattern is None:
            return ""
        said: set[int] = set()
        for k, unit in enumerate(units):
            if pattern.search(unit.text):
                said.add(k)
                if unit.speaker and not pattern.search(unit.speaker):
                    said.update(j for j in (k - 1, k - 2) if j >= 0 and units[j].speaker == unit.speaker)
            elif unit.speaker and pattern.search(unit.speaker) and _SELF.search(unit.text):
                said.add(k)
            elif speaks_to_you(unit.text) and (to := listener(units, k)) and pattern.search(to):
                said.add(k)
        return " ".join([*(units[k].text for k in sorted(said)), *(s for s in sentences(notes) if pattern.search(s))])
    return of


_HOST = re.compile(r"\b(?:co-?)?(?:host|presenter)s?\b", re.I)
_IS_ROLE = re.compile(r"((?:[A-Z][\w'’-]*\s+){0,2}[A-Z][\w'’-]*)\s+(?:is|was)\s+((?:a|an|the|his|her|their)\s+[^,.;:!?()]{2,60}?)"
                      r"(?=\s+(?:who|that|which|from|in|at|on|with|for)\b|[,.;:!?]|$)")


def misdescribed(sentence: str, of: Callable[[str], str], language: str | None = "en") -> str | None:
    """Why a sentence saying what a person is ("Oliver Brent is a farmer who …") is wrong, or None:
    the transcript never says it of them (``of``: see said_of). h1's host became the farmer he
    interviewed; the appositive form ("Oliver Brent, a farmer, …") is cut by the grounding check."""
    m = _IS_ROLE.match(sentence.strip())
    if not m or m.group(1).split()[0] in ("The", "This", "That", "It", "There", "He", "She"):
        return None
    name, role = m.group(1), m.group(2)
    # who hosts a show is seldom said in so many words, and is not a story
    if _HOST.search(role) or Source.of(of(name), language=language).says(role):
        return None
    return f"the transcript never says {name} is {role}"
