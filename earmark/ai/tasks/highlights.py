"""Highlights: the episode's best moments (3–8 of them, 30–120 s each), aligned to sentences.

Candidates come from the shared section reading (reading.py): each section's most interesting
sentence, as the model judged it in a short context, grown into a moment of whole sentences inside
its section (starting where a speaker starts, if one does nearby). Adverts are not candidates,
and moments around a greeting or sign-off are the last ones taken. Candidates are ranked by how
central their moment is to the episode (the cosine of its embedding to the episode's mean, when an
embedder is given) and by their section's length, and the best are kept, never two from one
section. A section too short for a moment (a news story of 25 s) lends its moment its
neighbours' sentences; then no moment is kept that overlaps one kept before it.

Each kept moment gets its title and "why" line from its own text alone, checked: numbers and names
must occur in the moment, the "why" may not give a speaker what another said or what was someone
else's (attribution.py: then it goes to the one whose it is, where that is a speaker), the title
must share a word with it and differ from the other titles.
A moment whose text fails after one more try is dropped (and recorded).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from earmark.ai.grounding import Source, ends_sentence, explain, strip_speaker, whole_sentences
from earmark.ai.grounding import sentences as split_sentences
from earmark.ai.llm import LLMEngine, Message
from earmark.ai.tasks.attribution import misattributed, reattributed
from earmark.ai.tasks.common import Context, LLMOutputError, numbered, revise, structured_many
from earmark.ai.tasks.reading import Reading, read_sections
from earmark.ai.tasks.summary import greeting, sections_for
from earmark.ai.tasks.topics import Embed
from earmark.ai.terms import terms
from earmark.errors import LLMError
from earmark.models import Highlight, Segment, Transcript
from earmark.transcripts.sentences import sentence_units

MIN_SECONDS, MAX_SECONDS = 30.0, 120.0
TARGET_SECONDS = 50.0
MIN_COUNT, MAX_COUNT = 3, 8
MAX_TOKENS = 80  # a title and the first sentence of "why"; what runs on is cut (first_sentence)
SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "minLength": 3},
        "why": {"type": "string", "minLength": 10},
    },
    "required": ["title", "why"],
    "additionalProperties": False,
}


def wanted(duration: float) -> int:
    """About one highlight per 4 minutes: 3 in a short episode, 8 at most."""
    return max(MIN_COUNT, min(MAX_COUNT, round(duration / 240)))


def moment(sentences: Sequence[Segment], reading: Reading, best: int) -> tuple[int, int] | None:
    """Sentence range [i, j] around ``best`` inside the reading's part, TARGET_SECONDS long where
    the part allows, within MIN_SECONDS–MAX_SECONDS (past the part's edges where it is shorter);
    None when the whole transcript is too short."""
    lo, hi = reading.first, reading.last
    i = j = min(max(best, lo), hi)
    length = lambda a, b: sentences[b].end - sentences[a].start  # noqa: E731
    while length(i, j) < TARGET_SECONDS:
        grow_left = i > lo and (j >= hi or (best - i) <= (j - best))
        if grow_left:
            i -= 1
        elif j < hi:
            j += 1
        else:
            break
        if length(i, j) > MAX_SECONDS:
            i, j = (i + 1, j) if grow_left else (i, j - 1)
            break
    # start where the speaker starts, when that is one or two sentences back and still fits
    for back in (0, 1, 2):
        k = i - back
        if k < lo:
            break
        if k == lo or sentences[k].speaker != sentences[k - 1].speaker:
            if length(k, j) <= MAX_SECONDS:
                i = k
            break
    while j < hi and not ends_sentence(sentences[j].text) and length(i, j + 1) <= MAX_SECONDS:
        j += 1
    # a part too short for a moment (a 25-second news story) runs on into its neighbours, the
    # shorter sentence first: d3's bulletin had 3 moments in 7 stories, and all 3 failed their checks
    while length(i, j) < MIN_SECONDS and (i > 0 or j < len(sentences) - 1):
        before = length(i - 1, i - 1) if i > 0 else float("inf")
        after = length(j + 1, j + 1) if j < len(sentences) - 1 else float("inf")
        i, j = (i - 1, j) if before < after else (i, j + 1)
    if not MIN_SECONDS <= length(i, j) <= MAX_SECONDS:
        return None
    return i, j


def find_highlights(
    transcript: Transcript | Sequence[Segment], engine: LLMEngine, *, title: str = "", ctx: Context | None = None,
    chapter_starts: Sequence[float] | None = None, embed: Embed | None = None, notes: str = "",
) -> list[Highlight]:
    segments = transcript.segments if isinstance(transcript, Transcript) else transcript
    language = transcript.language if isinstance(transcript, Transcript) else "en"
    units = sentence_units([s for s in segments if s.text.strip()])
    if not units:
        raise LLMError("no highlights to find: the transcript is empty")
    ctx = ctx or Context(engine, title)
    ctx.grounding(units, notes, language=language)
    duration = units[-1].end - units[0].start
    if duration < MIN_SECONDS:
        return []
    readings = read_sections(ctx, units, sections_for(units, chapter_starts, embed, language), notes=notes)
    candidates = []
    for reading in readings:
        if reading.advert or reading.best is None:
            continue
        span = moment(units, reading, reading.best)
        if span is not None:
            candidates.append((reading, span))
    if not candidates:
        return []
    ranked = _rank(units, candidates, embed)
    found: list[Highlight] = []
    titles: list[str] = []
    want = wanted(duration)
    kept: list[tuple[int, int]] = []
    while ranked and len(found) < want:  # the best moments written together; more if some fail
        batch, ranked = _batch(ranked, want - len(found))
        asks = [_ask(ctx, units[i:j + 1]) for _, (i, j) in batch]
        for (_, (i, j)), messages, value in zip(batch, asks, structured_many(ctx, asks, SCHEMA, max_tokens=MAX_TOKENS,
                                                                             what="highlight")):
            made = _write(ctx, units[i:j + 1], messages, value, titles, language)
            if made is None:
                continue
            heading, why = made
            titles.append(heading)
            kept.append((i, j))
            quote = " ".join(s.text.strip() for s in units[i:j + 1])
            found.append(Highlight(units[i].start, units[j].end, heading, why, quote))
        ranked = [c for c in ranked if not any(_overlap(c[1], span) for span in kept)]
    found.sort(key=lambda h: h.start)
    for h in found:
        h.engine, h.model, h.prompt_version = engine.name, engine.model, ctx.prompt_version
    return found


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def _batch(ranked: list, count: int) -> tuple[list, list]:
    """The best ``count`` candidates that do not overlap each other (moments of short parts run
    into their neighbours), and the rest, in rank order."""
    batch, rest = [], []
    for candidate in ranked:
        fits = len(batch) < count and not any(_overlap(candidate[1], b[1]) for b in batch)
        (batch if fits else rest).append(candidate)
    return batch, rest


def _rank(units: Sequence[Segment], candidates, embed: Embed | None):
    """Best first: central moments of long sections; a moment that opens with a greeting ("Welcome
    to …") or is centred on a sign-off ("That's the Morning Briefing for today") goes last."""
    scores = np.array([float(r.end - r.start) for r, _ in candidates])
    scores = scores / (scores.max() or 1.0)
    if embed is not None:
        texts = [" ".join(s.text for s in units[i:j + 1]) for _, (i, j) in candidates]
        vectors = np.asarray(embed(texts + [" ".join(s.text for s in units)]), dtype=np.float32)
        centre = vectors[-1]
        scores = scores + vectors[:-1] @ centre
    hello = [greeting(units[span[0]].text) or greeting(units[r.best].text) for r, span in candidates]
    order = sorted(range(len(candidates)), key=lambda k: (hello[k], -scores[k]))
    return [candidates[k] for k in order]


def first_sentence(text: str) -> str:
    """The "why" line: its first whole sentence (the model often goes on for two or three, and is
    cut off by MAX_TOKENS when it does); "" when there is none."""
    whole = split_sentences(whole_sentences(strip_speaker(text.strip())))
    return whole[0] if whole else ""


def _ask(ctx: Context, chunk: Sequence[Segment]) -> list[Message]:
    return [Message("system", ctx.use("system").text),
            Message("user", ctx.use("highlights").format(title=ctx.title or "untitled", moment=numbered(chunk)))]


def _write(ctx: Context, chunk: Sequence[Segment], messages: list[Message], value: dict | LLMOutputError,
           titles: list[str], language: str | None) -> tuple[str, str] | None:
    """The moment's title and line, checked against its own text and the titles given before;
    asked for once more if they fail, then None (recorded)."""
    if isinstance(value, LLMOutputError):
        ctx.drop("highlights", numbered(chunk[:1]), str(value))
        return None
    text = "\n".join(s.text for s in chunk)
    source = Source.of(text, " ".join(sorted({s.speaker for s in chunk if s.speaker})), language=language)
    own_terms = set(terms(text, language))

    def problems(value: dict) -> list[str]:
        found = []
        heading, why = value["title"].strip(), first_sentence(value["why"])
        if bad := source.unsupported(heading, title=True):
            found.append(f"the title {explain(bad)} in this moment")
        if bad := source.unsupported(why):
            found.append(f'"why" {explain(bad)} in this moment')
        if not own_terms & set(terms(heading, language)):
            found.append("the title must name this moment's own subject, in its words")
        if any(heading.lower() == t.lower() for t in titles):
            found.append(f'the title "{heading}" is already used for another moment; give this one its own')
        if not why:
            found.append('"why" must be one complete sentence')
        elif wrong := misattributed(why, chunk, language, chunk):
            found.append(f'"why" {wrong}')
        return found

    found = problems(value)
    if found:
        value = revise(ctx, messages, SCHEMA, value, found, max_tokens=MAX_TOKENS, what="highlight")
        found = problems(value)
    heading = value["title"].strip().strip('"“”.').strip()
    why = first_sentence(value["why"])
    wrong = misattributed(why, chunk, language, chunk) if why else None
    if wrong and found == [f'"why" {wrong}'] and (fixed := reattributed(why, chunk, language, chunk)):
        ctx.drop("highlights", why, f"{wrong}: given to the one whose it is")
        why, found = fixed, []
    if found or not heading or not why:
        ctx.drop("highlights", f"{heading} — {value['why'].strip()}", "; ".join(found) or "empty title or line")
        return None
    return heading, why
