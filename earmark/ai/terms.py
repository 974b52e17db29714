"""Content words, stemmed: what lexical comparisons (topic cohesion, retrieval, citation checks)
count. Snowball stemmers (PyStemmer) for the transcript's language, English when unknown."""

from __future__ import annotations

import re
from functools import cache

import Stemmer

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are aren't as at be because been before
    being below between both but by can can't cannot could couldn't did didn't do does doesn't doing
    don't down during each even ever every few for from further get gets getting got had hadn't has
    hasn't have haven't having he he'd he'll he's her here here's hers herself him himself his how
    how's i i'd i'll i'm i've if in into is isn't it it's its itself just know let let's like lot lots
    made make makes many may me might more most much must my myself no nor not now of off on once one
    only or other ought our ours ourselves out over own really right said same say says see she she'd
    she'll she's should shouldn't so some such than that that's the their theirs them themselves then
    there there's these they they'd they'll they're they've thing things think this those though
    through to too um uh under until up upon us very was wasn't way we we'd we'll we're we've well were
    weren't what what's when when's where where's which while who who's whom why why's will with won't
    would wouldn't yeah yes yet you you'd you'll you're you've your yours yourself yourselves okay oh
    actually around back going gonna go goes went come comes came take takes took want wants tell told
    talk talking still always never something anything everything someone people good great sure
    thanks thank welcome today""".split()
)
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.U)
_LANGUAGES = {
    "en": "english", "de": "german", "fr": "french", "es": "spanish", "it": "italian", "pt": "portuguese",
    "nl": "dutch", "sv": "swedish", "da": "danish", "no": "norwegian", "nb": "norwegian", "fi": "finnish",
    "ru": "russian", "pl": "polish", "hu": "hungarian", "ro": "romanian", "tr": "turkish", "ca": "catalan",
    "el": "greek", "cs": "czech", "lt": "lithuanian", "id": "indonesian",
}


@cache
def _stemmer(language: str | None) -> Stemmer.Stemmer:
    name = _LANGUAGES.get((language or "en").split("-")[0].lower(), "english")
    return Stemmer.Stemmer(name)


def words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


def terms(text: str, language: str | None = "en") -> list[str]:
    """Stemmed content words of ``text`` in order (stopwords and one-letter words left out)."""
    kept = [w for w in words(text) if len(w) > 1 and w not in STOPWORDS]
    return _stemmer(language).stemWords(kept)


def stem(word: str, language: str | None = "en") -> str:
    return _stemmer(language).stemWord(word.lower())

