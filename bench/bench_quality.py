"""How far can a listener trust what Earmark writes? The real pipeline — espeak-ng speech served as a
podcast feed on 127.0.0.1, downloaded, transcribed (faster-whisper), diarized, named, indexed,
chaptered, summarized, highlighted — then questions asked and searches run, snips made, on
scripted episodes whose ground truth is known (tests/episodes/*.toml). Tune on the dev half;
quote both halves.

    python bench/bench_quality.py [--split dev|heldout|all] [--only d1-interview,d3-news]
        [--engine llama-cpp|openai] [--model PATH_OR_ID] [--base-url URL] [--asr-model base] [--asr-beam 5]
        [--home DIR] [--fresh] [--report report.json] [--redo summary,highlights] [--skip ask,snips]

The first run transcribes everything (minutes per episode); later runs keep each episode's audio,
transcript and speaker labels while its script is unchanged, and redo only the understanding
(speaker names, chapters, summary, highlights), as ``earmark process --redo understanding`` does.

Figures, per episode and per half:
  facts       key facts of the script kept by the summary (all terms of a fact in one paragraph or takeaway)
  halluc      numbers and names in every AI text (summary, takeaways, chapter titles, highlight titles
              and lines, answers, snip cards) that neither the transcript nor the show notes state,
              found by spaCy's named-entity recognizer (not by Earmark's own check), of all such items;
              titles are put in sentence case first (a capital kept where the transcript writes one),
              since spaCy reads Title Case words as names. halluc0: titles as written (sessions 1–7)
  cut         AI sentences cut off mid-sentence; loops: texts repeating 8 words or more
  ch recall   true topic changes with a chapter start within 20 s; spur/10m: chapter starts near none
  hl valid    highlights whose title and line are supported by their own text, distinct and not overlapping
  ask         answers that contain the right words and cite the line that holds them; declined: unanswerables declined
  names       speakers the episode names who got the right name; wrong: names given to the wrong speaker
  search      meaning-only searches whose top result (library-wide) is the right line
  asr wer     the speech recognizer's word error rate on the episode (what the AI had to work from)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.quality_scoring import Reference, has, normal  # noqa: E402
from earmark.ai.grounding import ends_sentence, repeats  # noqa: E402
from earmark.ai.llm import get_llm  # noqa: E402
from earmark.ai.tasks.ask import ask  # noqa: E402
from earmark.ai.terms import terms  # noqa: E402
from earmark.config import Settings  # noqa: E402
from earmark.feeds.refresh import subscribe  # noqa: E402
from earmark.jobs import Pipeline  # noqa: E402
from earmark.jobs.understanding import show_notes  # noqa: E402
from earmark.models import DONE  # noqa: E402
from earmark.search.embed import get_embedder  # noqa: E402
from earmark.search.episode import EpisodeRetriever  # noqa: E402
from earmark.search.service import Searcher  # noqa: E402
from earmark.snips.service import create_snip, enrich_snip  # noqa: E402
from earmark.store.library import Library  # noqa: E402
from earmark.store.snips import SnipStore  # noqa: E402
from earmark.store.transcripts import TranscriptStore  # noqa: E402
from earmark.store.understanding import UnderstandingStore  # noqa: E402
from tests.engines.speech import wer  # noqa: E402
from tests.episodes.scripts import Script, Spoken, load_all, speak  # noqa: E402
from tests.loopback import LoopbackServer  # noqa: E402

UNDERSTANDING = ("names", "index", "chapters", "summary", "highlights")  # what a rerun redoes
PREPARE = ("download", "transcript", "speakers", "names", "index")  # what scoring needs besides the redo
BOUNDARY_SLACK = 20.0
CITE_SLACK = 1.5  # ASR sentence times vs the synthesized line times


@dataclass
class Tally:
    facts: list[bool] = field(default_factory=list)
    checked: int = 0
    invented: list[str] = field(default_factory=list)
    checked_as_written: int = 0
    invented_as_written: int = 0
    cut: list[str] = field(default_factory=list)
    loops: int = 0
    true_changes: int = 0
    found_changes: int = 0
    spurious: int = 0
    minutes: float = 0.0
    highlights: list[bool] = field(default_factory=list)
    answers: list[bool] = field(default_factory=list)
    declined: list[bool] = field(default_factory=list)
    named: list[bool] = field(default_factory=list)
    wrong_names: list[str] = field(default_factory=list)
    searches: list[bool] = field(default_factory=list)
    wer: list[float] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, other: Tally) -> None:
        for name, value in vars(other).items():
            if isinstance(value, list):
                getattr(self, name).extend(value)
            elif isinstance(value, dict):
                for k, v in value.items():
                    self.seconds[k] = self.seconds.get(k, 0.0) + v
            else:
                setattr(self, name, getattr(self, name) + value)

    def row(self) -> dict[str, str]:
        pct = lambda xs: f"{100 * sum(xs) / len(xs):.0f}% ({sum(xs)}/{len(xs)})" if xs else "–"  # noqa: E731
        return {
            "asr wer": f"{sum(self.wer) / len(self.wer):.2f}" if self.wer else "–",
            "facts": pct(self.facts),
            "halluc": f"{100 * len(self.invented) / max(self.checked, 1):.1f}% ({len(self.invented)}/{self.checked})",
            "halluc0": f"{100 * self.invented_as_written / max(self.checked_as_written, 1):.1f}%",
            "cut": str(len(self.cut)),
            "loops": str(self.loops),
            "ch recall": f"{100 * self.found_changes / max(self.true_changes, 1):.0f}% ({self.found_changes}/{self.true_changes})",
            "spur/10m": f"{10 * self.spurious / max(self.minutes, 0.1):.1f}",
            "hl valid": pct(self.highlights),
            "ask": pct(self.answers),
            "declined": pct(self.declined),
            "names": pct(self.named),
            "wrong": str(len(self.wrong_names)),
            "search": pct(self.searches),
        }


# -- running -------------------------------------------------------------------------------------

def feed(script: Script, audio_url: str, duration: float) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>
<title>{escape(script.podcast)}</title><link>https://example.org/{script.id}</link>
<description>A scripted podcast for a quality benchmark.</description>
<item><guid isPermaLink="false">{script.id}</guid><title>{escape(script.title)}</title>
<pubDate>{formatdate(1_760_000_000, usegmt=True)}</pubDate>
<description>{escape(script.show_notes)}</description><itunes:duration>{int(duration)}</itunes:duration>
<enclosure url="{escape(audio_url)}" type="audio/wav" length="0"/></item>
</channel></rss>""".encode()


def spoken(script: Script, cache: Path) -> Spoken:
    wav = cache / f"{script.id}-{script.fingerprint()}.wav"
    meta = wav.with_suffix(".json")
    if wav.exists() and meta.exists():
        m = json.loads(meta.read_text())
        return Spoken(wav, m["starts"], m["ends"], m["duration"])
    for old in cache.glob(f"{script.id}-*.wav"):
        old.unlink()
    result = speak(script, wav)
    meta.write_text(json.dumps(result.to_json()))
    return result


def process(library: Library, settings: Settings, server: LoopbackServer, script: Script, audio: Spoken,
            state: dict, prepare_only: bool = False, redo: tuple[str, ...] = UNDERSTANDING) -> tuple[int, dict[str, float]]:
    """Episode id and the seconds each stage took; only the ``redo`` stages (by default the whole
    understanding) when the episode was transcribed from this very script before."""
    pipeline = Pipeline(library, settings)
    for job_id in pipeline.recover():  # a job an interrupted run left 'running': this run's own job replaces it
        pipeline.jobs.cancel(job_id)
    known = state.get(script.id)
    asr = f"{settings.asr_model} beam {settings.asr_beam_size}"  # a transcript made otherwise is made again
    # (states from before session 7 name no recognizer: theirs was base with beam 5, the default then)
    if (known and known["fingerprint"] == script.fingerprint() and known.get("asr", "base beam 5") == asr
            and TranscriptStore(library).info(known["episode_id"])):
        if prepare_only:
            return known["episode_id"], {}
        episode_id = known["episode_id"]
        # a home prepared before names and index were part of PREPARE lacks them: run them too
        missing = [s for s, table in (("names", "speaker_names"), ("index", "search_windows"))
                   if not library.conn.execute(f"SELECT 1 FROM {table} WHERE episode_id = ?", (episode_id,)).fetchone()]
        only = tuple(dict.fromkeys([*redo, *missing]))
    else:
        if known:  # the script or the speech recognizer changed: its old podcast goes
            try:
                library.remove_podcast(library.episode(known["episode_id"]).podcast_id)
            except Exception:
                pass
        server.add(f"/audio/{script.id}.wav", audio.path.read_bytes(), content_type="audio/wav")
        server.add(f"/feeds/{script.id}.xml", feed(script, server.url(f"/audio/{script.id}.wav"), audio.duration))
        podcast, _ = asyncio.run(subscribe(library, settings, server.url(f"/feeds/{script.id}.xml")))
        episode_id = library.episodes(podcast.id)[0].id
        only = PREPARE if prepare_only else None
    job = pipeline.enqueue(episode_id, only=only)
    job = pipeline.run_job(job.id)
    if job.state != DONE:
        print(f"  {script.id}: job {job.state}: {job.error}", file=sys.stderr)
    state[script.id] = {"fingerprint": script.fingerprint(), "episode_id": episode_id, "asr": asr}
    seconds = {s.name: (s.finished_at - s.started_at).total_seconds() for s in job.stages
               if s.started_at and s.finished_at and (only is None or s.name in only)}
    return episode_id, seconds


def line_at(audio: Spoken, t: float) -> int | None:
    for k, (a, b) in enumerate(zip(audio.starts, audio.ends)):
        if a - 0.5 <= t <= b + 0.5:
            return k
    return None


def covers(audio: Spoken, line: int, start: float, end: float) -> bool:
    return start <= audio.ends[line] + CITE_SLACK and end >= audio.starts[line] - CITE_SLACK


def score(library: Library, settings: Settings, script: Script, audio: Spoken, episode_id: int, llm,
          searcher: Searcher, skip: frozenset[str] = frozenset()) -> tuple[Tally, dict]:
    tally, shown = Tally(), {}
    transcript = TranscriptStore(library).get(episode_id)
    tally.wer = [wer(script.text, " ".join(s.text for s in transcript.segments))]
    episode = library.episode(episode_id)
    notes = show_notes(library, episode)
    ref = Reference.of("\n".join(s.text for s in transcript.segments), notes, script.title)
    store = UnderstandingStore(library)
    tally.minutes = audio.duration / 60

    def judge(text: str, *, sentence: bool = True) -> None:
        checked, bad = ref.invented(text, title=not sentence)
        tally.checked += checked
        tally.invented += bad
        checked, bad = ref.invented(text)  # as sessions before 8 counted (titles as written)
        tally.checked_as_written += checked
        tally.invented_as_written += len(bad)
        if sentence and text.strip() and not ends_sentence(text):
            tally.cut.append(text)

    summary = store.summary(episode_id)
    units = (summary.paragraphs + summary.takeaways) if summary else []
    normalised = [normal(u) for u in units]
    for fact in script.facts:
        tally.facts.append(any(all(has(u, t) for t in fact.terms) for u in normalised))
    for text in units:
        judge(text)
    if summary and repeats(summary.paragraphs, n=8):
        tally.loops += 1
    shown["summary"] = {"paragraphs": summary.paragraphs if summary else [], "takeaways": summary.takeaways if summary else [],
                        "facts_missed": [f.fact for f, ok in zip(script.facts, tally.facts) if not ok]}

    chapters = store.chapters(episode_id)
    marks = chapters.chapters if chapters else []
    truth = audio.topic_starts(script)
    found = [c.start for c in marks[1:]]
    tally.true_changes = len(truth)
    tally.found_changes = sum(any(abs(f - t) <= BOUNDARY_SLACK for f in found) for t in truth)
    tally.spurious = sum(not any(abs(f - t) <= BOUNDARY_SLACK for t in truth) for f in found)
    for c in marks:
        judge(c.title, sentence=False)
    shown["chapters"] = {"found": [(round(c.start, 1), c.title) for c in marks], "true": [round(t, 1) for t in truth]}

    highlights = store.highlights(episode_id) or []
    titles = [h.title.lower() for h in highlights]
    faults = []
    for k, h in enumerate(highlights):
        window = " ".join(s.text for s in transcript.segments if s.end > h.start and s.start < h.end)
        own = Reference.of(window, " ".join({s.speaker or "" for s in transcript.segments
                                             if s.end > h.start and s.start < h.end}))
        fault = [why for why, bad in (
            ("title shares no word with its moment", not set(terms(h.title)) & set(terms(window))),
            (f"title states {own.invented(h.title, title=True)[1]}", own.invented(h.title, title=True)[1]),
            (f"line states {own.invented(h.why)[1]}", own.invented(h.why)[1]),
            ("title used twice", titles.count(h.title.lower()) > 1),
            ("line cut off", not ends_sentence(h.why)),
            ("overlaps another", any(o is not h and o.start < h.end and h.start < o.end for o in highlights)),
        ) if bad]
        tally.highlights.append(not fault)
        faults.append(fault)
        judge(h.title, sentence=False)
        judge(h.why)
    shown["highlights"] = [{"at": round(h.start, 1), "title": h.title, "why": h.why, "faults": f,
                            "quote": h.quote[:200]} for h, f in zip(highlights, faults)]

    retriever = EpisodeRetriever(library.conn, episode_id, searcher.embedder)
    shown["answers"] = []
    for q in [] if "ask" in skip else script.questions:
        started = time.perf_counter()
        answer = ask(transcript, q.question, llm, title=episode.title, retriever=retriever, notes=notes)
        tally.seconds["ask"] = tally.seconds.get("ask", 0.0) + time.perf_counter() - started
        line = script.line_with(q.evidence)
        words_ok = answer.answerable and all(has(normal(answer.answer), m) for m in q.must)
        cited = any(covers(audio, line, c.start, c.end) for c in answer.citations)
        tally.answers.append(words_ok and cited)
        judge(answer.answer)
        shown["answers"].append({"q": q.question, "a": answer.answer, "right_words": words_ok, "cites_line": cited})
    for q in [] if "ask" in skip else script.unanswerable:
        answer = ask(transcript, q.question, llm, title=episode.title, retriever=retriever, notes=notes)
        tally.declined.append(not answer.answerable)
        shown["answers"].append({"q": q.question, "a": answer.answer, "declined": not answer.answerable})

    # speakers: which script speaker each diarized label mostly is
    by_label: dict[str, dict[str, float]] = {}
    for s in transcript.segments:
        k = line_at(audio, (s.start + s.end) / 2)
        if s.label is None or k is None:
            continue
        who = script.lines[k].speaker
        by_label.setdefault(s.label, {}).setdefault(who, 0.0)
        by_label[s.label][who] += s.end - s.start
    names = {n.label: n for n in TranscriptStore(library).speaker_names(episode_id)}
    label_of = {}
    for label, votes in by_label.items():
        who = max(votes, key=votes.get)
        label_of.setdefault(who, label)
    shown["speakers"] = []
    for sid, speaker in script.speakers.items():
        label = label_of.get(sid)
        got = names[label].name if label in names else None
        first = (got or "").split()[0].lower() if got else ""
        true_names = {n.split()[0].lower() for n in (speaker.name, speaker.full_name) if n}
        if speaker.said:
            tally.named.append(first in true_names)
        shown["speakers"].append({"speaker": sid, "true": speaker.name, "said": speaker.said, "got": got,
                                  "evidence": names[label].evidence if label in names else ""})
    for label, n in names.items():
        if n.source == "none":
            continue
        votes = by_label.get(label, {})
        who = max(votes, key=votes.get) if votes else None
        truth_names = {x.split()[0].lower() for x in (script.speakers[who].name, script.speakers[who].full_name) if x} if who else set()
        if n.name.split()[0].lower() not in truth_names:
            tally.wrong_names.append(f"{label}={n.name} (is {who})")

    shown["search"] = []
    for q in script.semantic:
        hits = searcher.search(q.query, mode="semantic", limit=1)
        line = script.line_with(q.evidence)
        ok = bool(hits) and hits[0].episode_id == episode_id and covers(audio, line, hits[0].start, hits[0].end or hits[0].start)
        tally.searches.append(ok)
        shown["search"].append({"q": q.query, "top": hits[0].text[:160] if hits else None, "right": ok})

    # snip cards at the end of two answer lines
    shown["snips"] = []
    for q in [] if "snips" in skip else script.questions[:2]:
        line = script.line_with(q.evidence)
        snip = create_snip(library, settings, episode_id, audio.ends[line] - 0.5)
        started = time.perf_counter()
        snip = enrich_snip(library, settings, snip.id, llm=llm)
        tally.seconds["snip card"] = tally.seconds.get("snip card", 0.0) + time.perf_counter() - started
        judge(snip.title, sentence=False)
        for t in snip.takeaways:
            judge(t)
        shown["snips"].append({"title": snip.title, "takeaways": snip.takeaways, "quote": snip.quote, "state": snip.state})
        SnipStore(library).delete(snip.id)
    shown["dropped"] = [vars(d) if hasattr(d, "__dict__") else {"task": d.task, "text": d.text, "reason": d.reason}
                        for d in store.dropped(episode_id)]
    shown["invented"] = tally.invented
    shown["cut"] = tally.cut
    return tally, shown


def table(rows: dict[str, Tally], seconds: dict[str, dict[str, float]] | None = None) -> None:
    cols = list(Tally().row())
    print(f"{'':<22}" + "".join(f"{c:>16}" for c in cols))
    for name, t in rows.items():
        r = t.row()
        print(f"{name:<22}" + "".join(f"{r[c]:>16}" for c in cols))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", choices=("dev", "heldout", "all"), default="all")
    ap.add_argument("--only", default="", help="comma-separated episode ids")
    ap.add_argument("--engine", default="llama-cpp")
    ap.add_argument("--model", default=None, help="a GGUF path (llama-cpp) or the endpoint's model id (openai)")
    ap.add_argument("--base-url", default=None)
    ap.add_argument("--api-key", default=None)
    ap.add_argument("--asr-model", default="base")
    ap.add_argument("--asr-beam", type=int, default=Settings.asr_beam_size, help="faster-whisper beam width")
    ap.add_argument("--home", default=str(Path.home() / ".cache" / "earmark-bench"))
    ap.add_argument("--fresh", action="store_true", help="forget earlier runs: transcribe everything again")
    ap.add_argument("--report", default=None, help="write every output and figure to this JSON file")
    ap.add_argument("--prepare", action="store_true", help="only speak, transcribe, diarize, name the speakers and index; score nothing")
    ap.add_argument("--redo", default=",".join(UNDERSTANDING),
                    help="stages rerun on episodes transcribed before (e.g. summary after a summary change; the others keep their results)")
    ap.add_argument("--skip", default="", help="comma-separated parts not scored: ask, snips (they take most of a run)")
    args = ap.parse_args()
    skip = frozenset(x for x in args.skip.split(",") if x)
    if skip - {"ask", "snips"}:
        ap.error(f"--skip takes ask and snips, not {', '.join(sorted(skip - {'ask', 'snips'}))}")

    home = Path(args.home)
    if args.fresh and home.exists():
        shutil.rmtree(home)
    (home / "audio").mkdir(parents=True, exist_ok=True)
    overrides = {"llm_engine": args.engine, "asr_model": args.asr_model, "asr_beam_size": args.asr_beam}
    if args.model:
        overrides["llm_model"] = args.model
    if args.base_url:
        overrides["llm_base_url"] = args.base_url
    if args.api_key:
        overrides["llm_api_key"] = args.api_key
    settings = Settings(home=home / "earmark", **overrides)
    scripts = load_all(None if args.split == "all" else args.split)
    if args.only:
        wanted = set(args.only.split(","))
        scripts = [s for s in scripts if s.id in wanted]
    state_path = home / "state.json"
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    library = Library(settings.db_path)
    server = LoopbackServer()
    llm = get_llm(settings)
    searcher = Searcher(library, get_embedder())
    per_episode: dict[str, Tally] = {}
    report: dict = {"episodes": {}, "settings": {"engine": settings.llm_engine, "model": settings.llm_model,
                                                 "asr_model": settings.asr_model, "asr_beam_size": settings.asr_beam_size}}
    try:
        prepared = []
        for script in scripts:  # every episode processed first, so library-wide search sees them all
            audio = spoken(script, home / "audio")
            started = time.perf_counter()
            episode_id, seconds = process(library, settings, server, script, audio, state, args.prepare,
                                          tuple(x for x in args.redo.split(",") if x))
            state_path.write_text(json.dumps(state, indent=1))
            print(f"{script.id}: {audio.duration / 60:.1f} min processed in {time.perf_counter() - started:.0f} s "
                  + " ".join(f"{k}={v:.0f}s" for k, v in seconds.items()), flush=True)
            prepared.append((script, audio, episode_id, seconds))
        if args.prepare:
            return
        for script, audio, episode_id, seconds in prepared:
            tally, shown = score(library, settings, script, audio, episode_id, llm, searcher, skip)
            tally.seconds.update({k: v for k, v in seconds.items()})
            per_episode[script.id] = tally
            report["episodes"][script.id] = {"split": script.split, "minutes": round(audio.duration / 60, 1),
                                             "figures": tally.row(), "seconds": tally.seconds, **shown}
    finally:
        server.close()
    halves: dict[str, Tally] = {}
    for script in scripts:
        halves.setdefault(script.split, Tally()).add(per_episode[script.id])
    overall = Tally()
    for t in halves.values():
        overall.add(t)
    print()
    table({**per_episode, **{f"[{k}]": v for k, v in halves.items()}, "[all]": overall})
    print("\nseconds per stage (summed over the episodes run):")
    for k, v in sorted(overall.seconds.items()):
        print(f"  {k:<12}{v:>8.1f}")
    report["halves"] = {k: v.row() for k, v in halves.items()}
    report["overall"] = overall.row()
    if args.report:
        Path(args.report).write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str))
        print(f"\nevery output: {args.report}")


if __name__ == "__main__":
    main()
