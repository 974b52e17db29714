"""Chapters: the publisher's first (Podlove ``psc:chapters`` in the feed, ``podcast:chapters``
JSON, ID3 CHAP/CTOC or MP4 chapters in the audio file, timestamps listed in the show notes);
otherwise generated: topic-boundary candidates from similarity between the text before and after
each segment start (embeddings when an embedder is given, else lexical, TextTiling style), snapped
to sentence starts, at least ``min_seconds`` apart, then titled (and merged where the model sees
no topic change) by the LLM."""

from __future__ import annotations

import html
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx

from earmark.ai.llm import LLMEngine, Message
from earmark.ai.tasks.common import Context, clock, fits, segment_line, structured
from earmark.config import Settings
from earmark.errors import ChaptersError, LLMError
from earmark.models import Chapter, ChapterMark, Episode, EpisodeChapters, Segment, Transcript

Embedder = Callable[[list[str]], list[list[float]]]

# -- publisher chapters ------------------------------------------------------------------------

_TS = r"(?:(\d{1,2}):)?(\d{1,2}):(\d{2})"
_LINE_TS_FIRST = re.compile(rf"^\W{{0,3}}[\(\[]?{_TS}[\)\]]?\s*(?:[-–—:|.)]\s*)?(?P<title>\S.*?)\s*$")
_LINE_TS_LAST = re.compile(rf"^(?P<title>\S.*?)\s*[-–—:|(\[]*\s*{_TS}[\)\]]?\s*$")


def _seconds(h: str | None, m: str, s: str) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s)


def _notes_lines(episode: Episode) -> list[str]:
    text = episode.description_html or episode.description or ""
    if "<" in text:
        text = re.sub(r"(?i)<br\s*/?>|</(p|li|div|h\d)>", "\n", text)
        text = re.sub(r"<[^>]+>", " ", text)
    return [html.unescape(line).strip() for line in text.splitlines() if line.strip()]


def chapters_from_show_notes(episode: Episode) -> list[Chapter]:
    """Lines such as ``00:00 Intro``, ``(1:02:03) Title``, ``[12:34] - Title`` or ``Title 12:34``:
    at least two, starting near the beginning and in increasing order."""
    found: list[Chapter] = []
    for line in _notes_lines(episode):
        match = _LINE_TS_FIRST.match(line)
        if match and int(match.group(3)) < 60:
            title = match["title"]
        else:
            match = _LINE_TS_LAST.match(line)
            if not match or int(match.group(4)) >= 60:
                continue
            title = match["title"].rstrip(" -–—:|([")
        start = _seconds(*match.group(*((1, 2, 3) if match.re is _LINE_TS_FIRST else (2, 3, 4))))
        title = title.strip()
        if title and len(title) <= 200:
            found.append(Chapter(start=float(start), title=title))
    if len(found) < 2 or any(b.start <= a.start for a, b in zip(found, found[1:])):
        return []
    if found[0].start > 600 or (episode.duration and found[-1].start >= episode.duration):
        return []
    return found


def chapters_from_audio(path: str | Path) -> list[Chapter]:
    """ID3 CHAP frames (in CTOC order when a top-level table of contents exists) or MP4 chapters."""
    import mutagen
    from mutagen.id3 import ID3, ID3NoHeaderError

    path = Path(path)
    try:
        tags = ID3(path)
    except ID3NoHeaderError:
        tags = None
    except (mutagen.MutagenError, OSError):
        return []
    if tags is not None:
        chaps = {frame.element_id: frame for frame in tags.getall("CHAP")}
        order = list(chaps)
        for toc in tags.getall("CTOC"):
            if toc.flags & 2:  # top-level
                order = [i for i in toc.child_element_ids if i in chaps] or order
                break
        chapters = []
        for element_id in order:
            frame = chaps[element_id]
            title_frame = frame.sub_frames.get("TIT2")
            title = str(title_frame.text[0]) if title_frame and title_frame.text else element_id
            url_frame = next((v for k, v in frame.sub_frames.items() if k.startswith("WXXX")), None)
            chapters.append(Chapter(start=frame.start_time / 1000.0, title=title.strip(),
                                    href=getattr(url_frame, "url", None) or None))
        return sorted(chapters, key=lambda c: c.start)
    try:
        from mutagen.mp4 import MP4

        mp4 = MP4(path)
        return [Chapter(start=float(c.start), title=str(c.title)) for c in (mp4.chapters or [])]
    except Exception:  # not MP4 either: no chapters
        return []


def fetch_chapters_json(url: str, settings: Settings) -> list[Chapter]:
    try:
        with httpx.Client(timeout=settings.http_timeout, follow_redirects=True,
                          headers={"User-Agent": settings.user_agent}) as client:
            response = client.get(url)
            response.raise_for_status()
    except httpx.HTTPError as exc:
        raise ChaptersError(f"could not fetch chapters {url}: {exc}") from None
    from earmark.transcripts.chapters import parse_chapters_json

    return parse_chapters_json(response.content)


def publisher_chapters(episode: Episode, settings: Settings, audio: str | Path | None = None) -> EpisodeChapters | None:
    """The publisher's chapters, in order of preference; None when the publisher gave none."""
    sources: list[tuple[str, Callable[[], list[Chapter]]]] = [("psc", lambda: list(episode.chapters))]
    if episode.chapters_link is not None:
        sources.append(("podcast-chapters", lambda: fetch_chapters_json(episode.chapters_link.url, settings)))
    if audio is not None and Path(audio).is_file():
        sources.append(("id3", lambda: chapters_from_audio(audio)))
    sources.append(("show-notes", lambda: chapters_from_show_notes(episode)))
    for origin, get in sources:
        try:
            found = [c for c in get() if c.title or c.start >= 0]
        except ChaptersError:
            continue  # a broken or unreachable document: try the next source
        if found:
            return EpisodeChapters(_marks(found, origin, episode.duration), "publisher", origin)
    return None


def _marks(chapters: list[Chapter], origin: str, duration: float | None) -> list[ChapterMark]:
    chapters = sorted(chapters, key=lambda c: c.start)
    marks = []
    for n, c in enumerate(chapters):
        end = chapters[n + 1].start if n + 1 < len(chapters) else (float(duration) if duration else None)
        marks.append(ChapterMark(c.start, c.title, end, c.href, c.image, generated=False, origin=origin))
    return marks


# -- generated chapters ------------------------------------------------------------------------

_STOP = frozenset(
    """a about above after again all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    get got had has have having he her here hers him his how i if in into is it its itself just
    know like me more most my no nor not now of off on once only or other our out over own really
    right said same say says she should so some such than that the their them then there these
    they thing things think this those through to too um uh under until up very was we well were
    what when where which while who whom why will with would yeah yes you your""".split()
)
_WORD = re.compile(r"[a-zà-ÿ0-9']+")


def _terms(text: str) -> Counter:
    words = (w.strip("'") for w in _WORD.findall(text.lower()))
    return Counter(w[:-1] if len(w) > 4 and w.endswith("s") else w for w in words if len(w) > 2 and w not in _STOP)


def _cosine_counts(a: Counter, b: Counter) -> float:
    if not a or not b:
        return 0.0
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    return dot / math.sqrt(sum(v * v for v in a.values()) * sum(v * v for v in b.values()))


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(x * x for x in b))
    return sum(x * y for x, y in zip(a, b)) / (na * nb) if na and nb else 0.0


def default_min_seconds(duration: float) -> float:
    return max(30.0, min(180.0, duration / 10))


def _ends_sentence(text: str) -> bool:
    return text.rstrip().rstrip('"\')»”’').endswith((".", "?", "!", "…"))


def boundary_candidates(
    segments: Sequence[Segment], *, min_seconds: float, window_seconds: float | None = None,
    embed: Embedder | None = None,
) -> list[tuple[int, float]]:
    """Segment indexes where a new topic likely starts, with their depth scores, best first
    filtered to be ``min_seconds`` apart and from either end; in time order."""
    n = len(segments)
    if n < 3:
        return []
    start, end = segments[0].start, segments[-1].end
    duration = end - start
    window = window_seconds or max(20.0, min(90.0, duration / 8))
    vectors = embed([s.text for s in segments]) if embed else None
    terms = None if vectors else [_terms(s.text) for s in segments]

    def block(lo: float, hi: float):
        idx = [i for i, s in enumerate(segments) if s.start >= lo and s.start < hi]
        if vectors:
            if not idx:
                return None
            dim = len(vectors[0])
            return [sum(vectors[i][d] for i in idx) / len(idx) for d in range(dim)]
        total: Counter = Counter()
        for i in idx:
            total.update(terms[i])
        return total

    sims: list[float] = [0.0] * n
    for i in range(1, n):
        t = segments[i].start
        left, right = block(t - window, t), block(t, t + window)
        if vectors:
            sims[i] = _cosine(left, right) if left is not None and right is not None else 1.0
        else:
            sims[i] = _cosine_counts(left, right)
    smooth = sims[:]
    for i in range(2, n - 1):
        smooth[i] = (sims[i - 1] + sims[i] + sims[i + 1]) / 3
    depth = [0.0] * n
    for i in range(1, n):
        lpeak = smooth[i]
        j = i - 1
        while j >= 1 and smooth[j] >= lpeak:
            lpeak = smooth[j]
            j -= 1
        rpeak = smooth[i]
        j = i + 1
        while j < n and smooth[j] >= rpeak:
            rpeak = smooth[j]
            j += 1
        depth[i] = (lpeak - smooth[i]) + (rpeak - smooth[i])
    scores = [depth[i] for i in range(1, n)]
    mean = sum(scores) / len(scores)
    sd = math.sqrt(sum((s - mean) ** 2 for s in scores) / len(scores))
    cutoff = max(mean + sd / 2, 1e-9)  # somewhat conservative: the LLM can merge, not split
    chosen: list[int] = []
    for i in sorted(range(1, n), key=lambda k: -depth[k]):
        if depth[i] < cutoff:
            break
        i = _snap(segments, i)
        t = segments[i].start
        if t - start < min_seconds or end - t < min_seconds:
            continue
        if any(abs(t - segments[c].start) < min_seconds for c in chosen):
            continue
        chosen.append(i)
    return sorted((i, depth[i]) for i in chosen)


def _snap(segments: Sequence[Segment], i: int) -> int:
    """Move a boundary to the nearest segment that starts a sentence (the one before it ends one)."""
    for offset in (0, -1, 1, -2, 2):
        j = i + offset
        if 1 <= j < len(segments) and _ends_sentence(segments[j - 1].text):
            return j
    return i


def _sections_schema(starts: list[float]) -> dict:
    # Positional: entry k is section k, so the model cannot reorder, repeat or skip sections.
    return {
        "type": "object",
        "properties": {
            "sections": {
                "type": "array",
                "minItems": len(starts),
                "maxItems": len(starts),
                "items": {
                    "type": "object",
                    "properties": {
                        "title": {"type": "string", "minLength": 1, "maxLength": 80},
                        "new_topic": {"type": "boolean"},
                    },
                    "required": ["title", "new_topic"],
                    "additionalProperties": False,
                },
            }
        },
        "required": ["sections"],
        "additionalProperties": False,
    }


def generate_chapters(
    transcript: Transcript | Sequence[Segment], engine: LLMEngine, *, title: str = "",
    min_seconds: float | None = None, embed: Embedder | None = None, ctx: Context | None = None,
) -> EpisodeChapters:
    segments = [s for s in (transcript.segments if isinstance(transcript, Transcript) else transcript) if s.text.strip()]
    if not segments:
        raise LLMError("no chapters to generate: the transcript is empty")
    ctx = ctx or Context(engine, title)
    start, end = segments[0].start, segments[-1].end
    min_seconds = default_min_seconds(end - start) if min_seconds is None else min_seconds
    cuts = [0] + [i for i, _ in boundary_candidates(segments, min_seconds=min_seconds, embed=embed)]
    starts = [round(segments[i].start, 2) for i in cuts]
    starts[0] = round(start, 2)
    bounds = cuts + [len(segments)]
    listing = "\n".join(
        f"- start {s:g} [{clock(s)}–{clock(segments[bounds[k + 1] - 1].end)}]: begins \"{_opening(segments[bounds[k]].text)}\""
        for k, s in enumerate(starts)
    )
    instruction = ctx.use("chapters").format(sections=listing)
    max_tokens = 60 + 40 * len(starts)
    if fits(ctx, segments, engine.count_tokens(instruction), max_tokens):
        prefix = ctx.prefix(segments)
    else:  # too long for the context: show each section's opening lines instead of everything
        budget = engine.context_size - ctx.prefix_tokens() - engine.count_tokens(instruction) - max_tokens
        per = max(20, budget // len(starts))
        parts = []
        for k in range(len(starts)):
            lines, used = [], 0
            for seg in segments[bounds[k]:bounds[k + 1]]:
                line = segment_line(seg)
                used += engine.count_tokens(line) + 1
                if used > per:
                    break
                lines.append(line)
            parts.append("\n".join(lines) + "\n[…]")
        prefix = ctx.prefix_text("\n".join(parts), " (opening lines of each part)")
    schema = _sections_schema(starts)

    value = structured(ctx, [*prefix, Message("user", instruction)], schema, max_tokens=max_tokens, what="chapters")
    sections = value["sections"]
    keep = [0] + [k for k in range(1, len(sections)) if sections[k]["new_topic"]]
    if len(keep) == 1 and len(sections) > 2:
        keep = list(range(len(sections)))  # a model that merges everything is ignoring the cues
    marks = []
    for n, k in enumerate(keep):
        chapter_end = starts[keep[n + 1]] if n + 1 < len(keep) else end
        marks.append(ChapterMark(starts[k], sections[k]["title"].strip(), chapter_end, generated=True, origin="llm"))
    return EpisodeChapters(marks, "generated", "llm", engine.name, engine.model, ctx.prompt_version)


def _opening(text: str, words: int = 8) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")
