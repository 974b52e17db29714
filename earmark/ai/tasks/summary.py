"""Summary: 2–4 paragraphs and 3–7 key takeaways, written the way a small model writes well.

Map: the episode is read section by section (reading.py: along the chapters, or topic sections
when there are none). Each section's key sentences are the ones the model pointed at and the most
informative ones (numbers and names count; questions and greetings do not). Combine: the sections
in 2–4 groups, one short call per group writing one paragraph from that group's key sentences
alone (all groups asked at once: llm.complete_all); the takeaways are the most informative
key sentences, spread over the sections, each restated by the model with the sentence said just
before it at hand — and checked against those two. Adverts are left out. The model sees a key
sentence's speaker only where the sentence speaks of them or to someone ("I", "you"), and a short
lead-in by the same speaker with it ("That was the winter of 2018.").

Every paragraph sentence is checked: numbers and names must occur in the transcript or show notes,
no sentence may repeat an earlier one, and none may be cut off; a takeaway's numbers, names and
most of its words must be in its sentence. An answer with problems is asked for once more with them
fed back (with a frequency penalty when it looped); what is still at fault is dropped and recorded,
except a sentence that gives one speaker what another said, or what they said to another ("Your
family farm …"): it is given to the one whose it is. What a sentence says a person is ("X, a
farmer", "X is a farmer") must be said of that person (attribution.said_of).
Text in the first person (copied from the transcript) is not asked for again (on a 30-minute
episode that cost 20% of the summary's time, changed no paragraph, and turned some takeaways to
the third person while giving one of them to the wrong speaker); a takeaway in the first person is
shown with its speaker's name instead ("Tom: When I opened the hives …").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence

from earmark.ai.grounding import (
    Source, drop_repeated_sentences, ends_sentence, explain, names, numbers, repeats, sentences, strip_speaker,
    supported_share, whole_sentences,
)
from earmark.ai.llm import LLMEngine, Message
from earmark.ai.tasks.attribution import (
    FIRST_PERSON, addressed, listener, misattributed, misdescribed, reattributed, said_of, speaks_to_you,
)
from earmark.ai.tasks.common import Context, LLMOutputError, clock, revise, structured, structured_many
from earmark.ai.tasks.reading import Reading, read_sections
from earmark.ai.tasks.topics import Embed, topic_changes
from earmark.ai.terms import terms
from earmark.errors import LLMError
from earmark.models import Segment, Summary, Transcript
from earmark.transcripts.sentences import sentence_units

MIN_TAKEAWAYS, MAX_TAKEAWAYS = 3, 7
MIN_SUPPORT = 0.5  # share of a takeaway's content words its sentence must hold
# A paragraph is asked for in 2 to 4 sentences, but the model tends to restate every key sentence
# it is given; what runs past about 190 words is cut at its last whole sentence. (A cut at 180 tokens
# was tried: bench_quality's summary facts fell from 42%/48% to 40%/39%, dev/held-out.)
PARAGRAPH_TOKENS = 260
# A paragraph sentence must share this much of its content words with its key sentences: what
# shares less was, read on bench_quality's outputs, filler or invented ("… demonstrating resilience
# and dedication to their craft"); sentences that restate or merge key sentences share more than half.
MIN_PARAGRAPH_SUPPORT = 0.34
# A takeaway is one short sentence; the grammar closes one that runs past this many characters
# (its check then finds it cut off), so the list always fits in its token budget.
TAKEAWAY_CHARS = 220
LEAD_WORDS = 12  # a sentence this short, just before a key sentence by the same speaker, is shown with it


PARAGRAPH_SCHEMA = {
    "type": "object",
    "properties": {"paragraph": {"type": "string", "minLength": 10}},
    "required": ["paragraph"],
    "additionalProperties": False,
}
# Greetings and sign-offs: what they name (the show, the host, the next episode, "7 o'clock")
# is not something the episode tells the listener.
_GREETING = re.compile(r"\b(welcome (?:back )?to|thanks? (?:you )?for (?:having|listening|coming)|good to (?:be|have)|"
                       r"(?:great|glad|pleasure) to be|see you next|that'?s all|my guests? (?:today )?(?:is|are)"
                       r"|we(?:'re| are|'ll be| will be) back|next (?:week|time),? (?:we|on|I)|until (?:then|next time)"
                       r"|goodbye|wherever you get your podcasts|see you (?:all )?(?:tomorrow|soon|then)|tell a friend"
                       r"|that'?s (?:all|it|the [\w' ]{1,40}) for (?:today|tonight|this week|now)"
                       r"|(?:good|great) place to (?:stop|end|finish|leave it)|everyone listening)\b", re.I)


def greeting(text: str) -> bool:
    """Whether a sentence greets, thanks or signs off ("Welcome to …", "That's all for today")."""
    return bool(_GREETING.search(text))


def _takeaways_schema(count: int) -> dict:
    return {
        "type": "object",
        "properties": {"takeaways": {"type": "array", "minItems": count, "maxItems": count,
                                     "items": {"type": "string", "minLength": 8, "maxLength": TAKEAWAY_CHARS}}},
        "required": ["takeaways"],
        "additionalProperties": False,
    }


def information(sentence: Segment, language: str | None = "en") -> float:
    """How much a sentence states: numbers and names count most; questions, greetings and
    fragments count against it."""
    text = sentence.text.strip()
    score = 2.0 * len(numbers(text, language)) + 1.0 * len(names(text)) + 0.1 * min(len(terms(text, language)), 15)
    if text.endswith("?"):
        score -= 3
    if greeting(text):  # names in "welcome to Green Acre Talks, I'm Rachel Carter" state nothing
        score = min(score - 3, 0.0)
    if len(text.split()) < 6:
        score -= 2
    return score


def key_sentences(units: Sequence[Segment], reading: Reading, language: str | None = "en") -> list[int]:
    """The section's sentences a summary should draw on, in order: those the model pointed at and
    the most informative ones, about one per 20 seconds (2 to 5)."""
    want = max(2, min(5, round((reading.end - reading.start) / 20)))
    score = {k: information(units[k], language) + (2.0 if k in reading.key else 0.0) + (1.0 if k == reading.best else 0.0)
             for k in range(reading.first, reading.last + 1)}
    ranked = [k for k in sorted(score, key=lambda k: -score[k]) if score[k] > 0]
    return sorted(ranked[:want])


def paragraph_count(duration: float) -> int:
    return 2 if duration < 180 else 3 if duration < 600 else 4


def sections_for(sentences: Sequence[Segment], chapter_starts: Sequence[float] | None, embed: Embed | None,
                 language: str | None = "en") -> list[int]:
    """Sentence indexes where sections start: at the given chapter starts, else at topic changes."""
    if chapter_starts:
        bounds = {0}
        for t in chapter_starts:
            k = min(range(len(sentences)), key=lambda i: abs(sentences[i].start - t))
            bounds.add(k)
        return sorted(bounds)
    return [0, *(c.index for c in topic_changes(sentences, embed, language=language))]


def summarize(
    transcript: Transcript | Sequence[Segment], engine: LLMEngine, *, title: str = "", ctx: Context | None = None,
    chapter_starts: Sequence[float] | None = None, embed: Embed | None = None, notes: str = "",
) -> Summary:
    segments = transcript.segments if isinstance(transcript, Transcript) else transcript
    language = transcript.language if isinstance(transcript, Transcript) else "en"
    units = sentence_units([s for s in segments if s.text.strip()])
    if not units:
        raise LLMError("nothing to summarize: the transcript is empty")
    ctx = ctx or Context(engine, title)
    ctx.title = title or ctx.title
    source = ctx.grounding(units, notes, language=language)
    readings = read_sections(ctx, units, sections_for(units, chapter_starts, embed, language), notes=notes)
    talk = [r for r in readings if not r.advert] or readings
    keys = {id(r): key_sentences(units, r, language) for r in talk}
    talk = [r for r in talk if keys[id(r)]]
    if not talk:
        raise LLMError("nothing to summarize: no section states anything")
    groups = _groups(talk, paragraph_count(units[-1].end - units[0].start), keys)
    picks = [[k for r in group for k in keys[id(r)]] for group in groups]
    firsts = {r.first for r in readings}  # a lead-in is never the end of the section before (h5: an advert)
    asks = [_paragraph_ask(ctx, units, group, picked, firsts) for group, picked in zip(groups, picks)]
    paragraphs, failed = [], []
    answers = structured_many(ctx, asks, PARAGRAPH_SCHEMA, max_tokens=PARAGRAPH_TOKENS, what="summary")
    of = said_of(units, notes)
    for messages, picked, value in zip(asks, picks, answers):
        if isinstance(value, LLMOutputError):  # the other paragraphs stand without it
            failed.append(value)
            ctx.drop("summary", "a paragraph", str(value))
            continue
        shown = [j for k in picked for j in range(_lead(units, k, picked, firsts), k + 1)]
        said = " ".join([ctx.title, *(_labelled(units[j]) for j in shown)])
        paragraphs += _paragraph(ctx, messages, value, source, said, language, [units[j] for j in shown], units, of)
    if len(failed) == len(asks):
        raise failed[0]
    paragraphs = drop_repeated_sentences(paragraphs)
    if not paragraphs:
        raise LLMError("no sentence of the summary passed the checks")
    try:
        takeaways = _takeaways(ctx, units, _spread(units, talk, keys, language), language, of, firsts)
    except LLMOutputError as exc:  # the paragraphs stand without them
        ctx.drop("summary", "key takeaways", f"no valid takeaways: {exc}")
        takeaways = []
    return Summary(paragraphs=paragraphs, takeaways=takeaways, engine=engine.name, model=engine.model,
                   prompt_version=ctx.prompt_version)


def _groups(readings: list[Reading], count: int, keys: dict) -> list[list[Reading]]:
    """Consecutive sections in ``count`` groups (fewer when there are fewer sections) of about
    equal numbers of key sentences: one paragraph each."""
    count = max(1, min(count, len(readings)))
    total = sum(len(keys[id(r)]) for r in readings)
    groups: list[list[Reading]] = [[]]
    done = 0
    for n, r in enumerate(readings):
        left = len(readings) - n
        if groups[-1] and len(groups) < count and (done >= total * len(groups) / count or left <= count - len(groups)):
            groups.append([])
        groups[-1].append(r)
        done += len(keys[id(r)])
    return groups


def _labelled(unit: Segment) -> str:
    return f"{unit.speaker}: {unit.text.strip()}" if unit.speaker else unit.text.strip()


def _lead(units: Sequence[Segment], k: int, picked: Sequence[int], firsts: Collection[int] = ()) -> int:
    """Where key sentence ``k``'s point starts: the sentence before it when that is the same
    speaker's short lead-in ("It was my grandmother, really." "She kept four hives …"; "That was
    the winter of 2018." "I had lost 31 of my 40 colonies."), else ``k``. Shown apart, the lead-in's
    fact was lost (d1: the summary said "she kept four hives", and never whose they were). A lead-in
    that states nothing ("Quite a lot.") is shown only where the key sentence opens with a pronoun."""
    j = k - 1
    if (j < 0 or j in picked or k in firsts or units[j].speaker != units[k].speaker
            or len(units[j].text.split()) > LEAD_WORDS or units[j].text.rstrip().endswith("?")
            or greeting(units[j].text) or _says_nothing(units[j].text, "en")):
        return k  # not a question, a greeting or "I'm Rachel Carter."
    # an answer's "Quite a lot." adds nothing, unless the key sentence needs it for whom it speaks of
    return j if information(units[j]) > 0 or _PRONOUN.match(units[k].text.strip()) else k


_PRONOUN = re.compile(r"(?:she|he|it|they|this|that|these|those)\b", re.I)


def _said(units: Sequence[Segment], k: int, first: int | None = None) -> str:
    """The sentence as the model is shown it: with its speaker's name only where it speaks of
    the speaker ("I", "we", "my"), and with whom it speaks to where it says "you". With a name in
    front of every sentence the model made that speaker the subject of whatever the sentence states:
    a news reader became the donor of a map collection, a host the farmer his guest is ("Oliver (to
    Carmen): Your family farm has 800 olive trees"). Both were read on the benchmark's held-out half."""
    unit = units[k]
    text = " ".join(u.text.strip() for u in units[k if first is None else first:k + 1])
    if not unit.speaker:
        return text
    if speaks_to_you(text):
        to = listener(units, k)
        return f"{unit.speaker} (to {to}): {text}" if to else f"{unit.speaker}: {text}"
    return f"{unit.speaker}: {text}" if FIRST_PERSON.search(text) else text


def _listing(units: Sequence[Segment], picked: list[int], firsts: Collection[int] = ()) -> str:
    return "\n".join(f"- {_said(units, k, _lead(units, k, picked, firsts))}" for k in picked)


def _before(picked: list[int], firsts: Collection[int] = ()) -> dict[int, int]:
    """The sentence said just before each picked one, where it is not picked itself nor in the
    section before: a point is often made over two ("That was the winter of 2018." "I lost 31 of
    my 40 colonies."); across sections the one before was another story, or an advert (h5)."""
    return {k: k - 1 for k in picked if k > 0 and k - 1 not in picked and k not in firsts}


def _paragraph_ask(ctx: Context, units: Sequence[Segment], group: list[Reading], picked: list[int],
                   firsts: Collection[int]) -> list[Message]:
    span = f"{clock(group[0].start)}–{clock(group[-1].end)}"
    return [Message("system", ctx.use("system").text),
            Message("user", ctx.use("summary").format(title=ctx.title or "untitled", span=span,
                                                      notes=_listing(units, picked, firsts)))]


def _paragraph(ctx: Context, messages: list[Message], value: dict, source: Source, said: str,
               language: str | None, spoken: Sequence[Segment], units: Sequence[Segment],
               of: Callable[[str], str]) -> list[str]:
    """The paragraph's checked sentences: asked for once more if some fail (unsupported, giving one
    speaker what another of its key sentences ``spoken`` said, or speaking to "you"), which then
    go, or, given to another speaker, are given to the one whose it is. A sentence whose words its
    key sentences (``said``) mostly lack goes too, unasked: that is the model's own filler ("X
    emphasizes the importance of …", "X concludes by summarizing …")."""
    max_tokens = PARAGRAPH_TOKENS

    def problems(value: dict) -> list[tuple[str, str]]:
        text = whole_sentences(value["paragraph"])  # a cut-off end goes anyway
        found = [(s, explain(bad) if bad else why) for s in sentences(text)
                 if (bad := source.unsupported(s))
                 or (why := misattributed(s, spoken, language, units) or addressed(s) or misdescribed(s, of, language)
                     or _unnamed(s))]
        if repeats([text], n=8):
            found.append(("", "it repeats itself; write each thing once"))
        return found

    found = problems(value)
    if found:
        again = revise(ctx, messages, PARAGRAPH_SCHEMA, value, [f'"{s}": {r}' if s else r for s, r in found],
                       max_tokens=max_tokens, what="summary",
                       frequency_penalty=0.5 if any(not s for s, _ in found) else 0.0)
        if _rank(again, problems(again)) >= _rank(value, found):
            value = again
        found = problems(value)
    unsupported = {s: r for s, r in found if s}
    written = sentences(whole_sentences(value["paragraph"]))
    for sentence in written:
        if sentence in unsupported:
            continue
        if strip_speaker(sentence) != sentence:  # h1: "Speaker 1: It is a lot of oil."
            unsupported[sentence] = "a transcript line copied with its speaker's label, not a summary"
        elif supported_share(sentence, said, language) < MIN_PARAGRAPH_SUPPORT:
            unsupported[sentence] = "says things its key sentences do not"
    for n, sentence in enumerate(written):  # only what is at fault for whose it is, nothing else
        wrong = sentence in unsupported and unsupported[sentence] == misattributed(sentence, spoken, language, units)
        fixed = reattributed(sentence, spoken, language, units) if wrong else None
        if fixed and not source.unsupported(fixed) and not misattributed(fixed, spoken, language, units):
            ctx.drop("summary", sentence, f"{unsupported.pop(sentence)}: given to the one whose it is")
            written[n] = fixed
    for sentence, reason in unsupported.items():
        ctx.drop("summary", sentence, reason)
    kept = [s for s in written if s not in unsupported]
    text, roles = source.cut_unsupported_roles(" ".join(kept), of)
    for role in roles:
        ctx.drop("summary", role, "a description of the speaker that the transcript never gives")
    said_nothing = [s for s in sentences(text) if _says_nothing(s, language)]
    for sentence in said_nothing:
        ctx.drop("summary", sentence, "it says nothing but who speaks")
    text = " ".join(s for s in sentences(text) if s not in said_nothing)
    return drop_repeated_sentences([text]) if text else []


def _rank(value: dict, found: list[tuple[str, str]]) -> tuple[bool, int, int]:
    """How good a paragraph answer is: not looping, then the more sentences that pass, then the
    fewer problems. A retry that answered its problems by leaving out the sentences that passed lost
    d2's last paragraph ("The train changes its driver three times …") for two that said "the speaker"."""
    passed = len(sentences(whole_sentences(value["paragraph"]))) - sum(1 for s, _ in found if s)
    return not any(not s for s, _ in found), passed, -len(found)


_WHO_SPEAKS = frozenset(terms("speaker speakers host hosts podcast episode show guest guests today"))


def _says_nothing(sentence: str, language: str | None) -> bool:
    """Whether a sentence only says who speaks ("The speaker is Lucy Price.", "Henry Ward is the
    host of the podcast."): what is left of a description cut from it, or the model's filler."""
    said = set(terms(sentence, language)) - set(terms(" ".join(names(sentence)), language))
    return said <= _WHO_SPEAKS


def _unnamed(sentence: str) -> str | None:
    """A sentence about "the speaker": the model's when it lost track of who said what (d2: "The
    speaker suggests that this is a good place to stop", "The speaker is Lucy Price.")."""
    if re.search(r"\bthe speakers?\b", sentence, re.I):
        return 'it says "the speaker": name who, as shown with their sentence, or leave it out'
    return None


def _spread(units: Sequence[Segment], readings: list[Reading], keys: dict, language: str | None) -> list[int]:
    """Takeaway sentences: the most informative key sentence of each section in turn, then the
    next of each, MIN_TAKEAWAYS to MAX_TAKEAWAYS in all, in time order."""
    want = max(MIN_TAKEAWAYS, min(MAX_TAKEAWAYS, len(readings) + 1))
    # Only sentences that state something of their own: the model may point at "Quite a lot."
    score = {k: information(units[k], language) for r in readings for k in keys[id(r)]}
    queues = [sorted((k for k in keys[id(r)] if score[k] > 0), key=lambda k: -score[k]) for r in readings]
    picked: list[int] = []
    for rank in range(max((len(q) for q in queues), default=0)):
        for q in queues:
            if rank < len(q) and len(picked) < want:
                picked.append(q[rank])
    return sorted(picked)


def _best(text: str, n: int, said: list[str], language: str | None) -> int:
    """The listed sentence (with the one before it) that best supports takeaway ``n``: one holding
    its numbers, then the one sharing most of its words, its own first. A small model may skip or
    merge one, and every later takeaway would then be "wrong"; d1's "… for 11 years" shared more words
    with "64 hives on 19 rooftops" than with its own sentence, whose ASR had "keeps being on the roofs"."""
    values = set(numbers(text, language))
    return max(range(len(said)), key=lambda i: (values <= set(numbers(said[i], language)),
                                                supported_share(text, said[i], language), i == n))


def _attributed(text: str, unit: Segment) -> str:
    """A takeaway the model copied in the first person, with its speaker's name in front: the
    bundled model mostly copies a sentence as said, however it is asked ("When I opened the hives
    in March, I had lost 31 of my 40 colonies."), and an "I" with no name is nobody's."""
    if unit.speaker and FIRST_PERSON.search(text) and not text.startswith(unit.speaker):
        return f"{unit.speaker}: {text}"
    return text


def _closed(texts: list[str], cut_off: bool) -> list[str]:
    """Takeaways without a copied speaker label, and with a full stop where the model left it out.
    One that a limit cut off stays open (its check drops it): the last when the answer was cut at
    the token limit, any that the grammar closed at TAKEAWAY_CHARS."""
    out = []
    for n, text in enumerate(texts):
        text = strip_speaker(text.strip())
        cut = len(text) >= TAKEAWAY_CHARS - 1 or (cut_off and n == len(texts) - 1)
        if text and not ends_sentence(text) and not cut:
            text = text.rstrip(",;:-– ") + "."
        out.append(text)
    return out


def _takeaways(ctx: Context, units: Sequence[Segment], picked: list[int], language: str | None,
               of: Callable[[str], str] | None = None, firsts: Collection[int] = ()) -> list[str]:
    if not picked:
        return []
    of = of or said_of(units)
    context = _before(picked, firsts)
    leads = {k for k in picked if _lead(units, k, picked, firsts) != k}  # shown with their lead-in, as one
    listing = "\n".join(f"[{n}] {_said(units, k, context[k])}" if k in leads else
                        f"[{n}] {_said(units, k)}" + (f"\n    (just before it: {_said(units, context[k])})" if k in context else "")
                        for n, k in enumerate(picked, 1))
    messages = [Message("system", ctx.use("system").text),
                Message("user", ctx.use("summary_takeaways").format(title=ctx.title or "untitled", count=len(picked),
                                                                    notes=listing))]
    schema = _takeaways_schema(len(picked))
    max_tokens = (TAKEAWAY_CHARS // 4 + 5) * len(picked) + 20

    said = [" ".join(_labelled(units[j]) for j in (context.get(k), k) if j is not None) for k in picked]
    people = " ".join({u.speaker for u in units if u.speaker})  # "Tom" may be "Tom Fletcher" in a takeaway

    invented: set[int] = set()  # takeaways at fault for what they say (not for being cut off)

    listed = Source.of(*said, people, ctx.title, language=language)

    def problems(value: dict) -> dict[int, str]:
        found = {}
        invented.clear()
        for n, text in enumerate(value["takeaways"]):
            m = _best(text, n, said, language)
            # its numbers must be its sentence's; a name may come from another listed sentence ("Leeds")
            elsewhere = set(listed.unsupported(text)) | set(numbers(text, language))
            own = Source.of(said[m], people, ctx.title, language=language).unsupported(text)
            if bad := [b for b in own if b in elsewhere]:
                found[n] = f"takeaway {n + 1} {explain(bad)} in sentence {m + 1}"
                invented.add(n)
            elif not ends_sentence(text):
                found[n] = f"takeaway {n + 1} must be one complete sentence"
            elif supported_share(text, said[m], language) < MIN_SUPPORT:
                found[n] = f"takeaway {n + 1} says things sentence {m + 1} does not"
                invented.add(n)
            elif why := misdescribed(text, of, language):  # no quote for it: h1's was the host's "welcome"
                found[n] = f"takeaway {n + 1}: {why}"
        return found

    value = structured(ctx, messages, schema, max_tokens=max_tokens, what="takeaways")
    value["takeaways"] = _closed(value["takeaways"], ctx.cut_off)
    found = problems(value)
    if found:
        again = revise(ctx, messages, schema, value, list(found.values()), max_tokens=max_tokens, what="takeaways")
        again["takeaways"] = _closed(again["takeaways"], ctx.cut_off)
        if len(problems(again)) <= len(found):
            value = again
        found = problems(value)  # and ``invented`` for the answer kept
    out = []
    for n, text in enumerate(value["takeaways"]):
        if n not in found and information(Segment(0.0, 0.0, text), language) <= 0:  # "Quite a lot."
            found[n] = f"takeaway {n + 1} states nothing of its own"
        if n not in found and text.rstrip().endswith("?"):  # the sentence before it, copied
            found[n] = f"takeaway {n + 1} is a question, not a point"
        # the sentence it restated, as said: "Tom has 64 hives on 19 rooftops across Leeds" (Leeds said
        # elsewhere) was its sentence, not the one at its place in the list
        quote = _quote(units, picked[_best(text, n, said, language)], picked, firsts) if n in invented else None
        if n in found:
            ctx.drop("summary", text, found[n] + ("; its sentence as said instead" if quote else ""))
            if not quote:
                continue
            text = quote
        text, roles = listed.cut_unsupported_roles(text, of)
        for role in roles:
            ctx.drop("summary", role, "a description of the speaker that the transcript never gives")
        k = picked[_best(text, n, said, language)]  # its sentence, or the one before it where that says it
        spoken = [units[j] for j in (context.get(k), k) if j is not None]
        # given to the one whose it is, else their sentence as said; a sentence as said is judged by nobody
        if n not in found and (why := misattributed(text, spoken, language, units)):
            fixed = reattributed(text, spoken, language, units)
            ctx.drop("summary", text, f"takeaway {n + 1}: {why}: " + (
                "given to the one whose it is" if fixed else "their sentence as said instead"))
            text = fixed or _labelled(units[k])
        said_by = max((j for j in (context.get(k), k) if j is not None),
                      key=lambda j: (supported_share(text, units[j].text, language), j == k))
        text = _attributed(text, units[said_by])
        same = next((m for m, kept in enumerate(out) if _restates(text, kept, language)), None)
        if same is None:
            out.append(text)
            continue
        if not quote and len(terms(text, language)) > len(terms(out[same], language)):  # the fuller one stays
            out[same], text = text, out[same]
        ctx.drop("summary", text, f"restates takeaway {same + 1}")
    return out


def _quote(units: Sequence[Segment], k: int, picked: list[int], firsts: Collection[int] = ()) -> str | None:
    """Key sentence ``k`` as said (with its lead-in), to stand for a takeaway the model got wrong
    twice, or None where it would not stand alone: too long, a question, or the answer to one
    ("Cheap flights, mostly."). On the held-out h2 the model merged and misnumbered its takeaways
    and only 2 of 6 were left."""
    first = _lead(units, k, picked, firsts)
    text = " ".join(u.text.strip() for u in units[first:k + 1])
    before = units[k - 1].text.rstrip() if k > 0 and first == k else ""
    if len(text) > TAKEAWAY_CHARS or text.endswith("?") or before.endswith("?"):
        return None
    return _labelled(Segment(units[k].start, units[k].end, text, units[k].speaker))


REPEATED = 0.8  # share of one takeaway's terms in another that makes it the same point


def _restates(text: str, other: str, language: str | None) -> bool:
    """Whether two takeaways make the same point: most of either's terms are in the other (two
    key sentences that say one thing, "So since 2021 the harbour tower…" and "The harbour tower…")."""
    return max(supported_share(text, other, language), supported_share(other, text, language)) >= REPEATED
