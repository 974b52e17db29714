"""Scripted episodes with ground truth (see README.md): loading, checking, and speaking them with
espeak-ng so the real pipeline can run on audio whose every line, speaker and topic change is known.

    python -m tests.episodes.scripts check tests/episodes/*.toml
    python -m tests.episodes.scripts speak tests/episodes/d1-bridges.toml out.wav
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tomllib
import wave
from dataclasses import dataclass, field
from pathlib import Path

from tests.engines.speech import require_tools

HERE = Path(__file__).resolve().parent
GAP_SECONDS = 0.6  # silence between lines
TOPIC_GAP_SECONDS = 1.0  # a little more between topics, as people pause there
LEAD_SECONDS = 0.5
SPEED = 160  # espeak-ng words per minute setting (about 180 real words a minute)


@dataclass(frozen=True, slots=True)
class Speaker:
    id: str
    name: str  # "" when the episode never says it
    voice: str
    role: str = "guest"
    said: bool = True  # the audio says who this is
    full_name: str = ""


@dataclass(frozen=True, slots=True)
class Line:
    speaker: str  # a Speaker.id
    text: str
    topic: int


@dataclass(frozen=True, slots=True)
class Topic:
    title: str
    kind: str  # talk | ad | outro
    first_line: int


@dataclass(frozen=True, slots=True)
class Fact:
    fact: str
    terms: list[str]  # each "a|b": one of them must occur


@dataclass(frozen=True, slots=True)
class Question:
    question: str
    must: list[str] = field(default_factory=list)
    evidence: str = ""  # substring of the line that holds the answer ("" for unanswerable)


@dataclass(frozen=True, slots=True)
class Search:
    query: str
    evidence: str


@dataclass(slots=True)
class Script:
    id: str
    split: str
    format: str
    podcast: str
    title: str
    show_notes: str
    speakers: dict[str, Speaker]
    topics: list[Topic]
    lines: list[Line]
    facts: list[Fact]
    questions: list[Question]
    unanswerable: list[Question]
    semantic: list[Search]
    path: Path | None = None

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def line_with(self, evidence: str) -> int:
        hits = [i for i, line in enumerate(self.lines) if evidence in line.text]
        if len(hits) != 1:
            raise ValueError(f"{self.id}: evidence {evidence!r} is in {len(hits)} lines, not exactly one")
        return hits[0]

    def fingerprint(self) -> str:
        """Changes when anything spoken changes (so cached audio and transcripts are redone)."""
        spoken = [[self.speakers[l.speaker].voice, l.text, l.topic] for l in self.lines]
        blob = json.dumps([spoken, GAP_SECONDS, TOPIC_GAP_SECONDS, LEAD_SECONDS, SPEED]).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def load(path: str | Path) -> Script:
    path = Path(path)
    raw = tomllib.loads(path.read_text("utf-8"))
    speakers = {
        sid: Speaker(sid, s.get("name", ""), s["voice"], s.get("role", "guest"), bool(s.get("said", bool(s.get("name")))),
                     s.get("full_name", ""))
        for sid, s in raw["speakers"].items()
    }
    topics, lines = [], []
    for n, t in enumerate(raw["topics"]):
        topics.append(Topic(t["title"], t.get("kind", "talk"), len(lines)))
        for who, text in t["lines"]:
            lines.append(Line(who, text.strip(), n))
    return Script(
        id=raw["id"], split=raw["split"], format=raw.get("format", ""), podcast=raw["podcast"], title=raw["title"],
        show_notes=raw.get("show_notes", "").strip(), speakers=speakers, topics=topics, lines=lines,
        facts=[Fact(f["fact"], list(f["terms"])) for f in raw.get("facts", [])],
        questions=[Question(q["question"], list(q["must"]), q["evidence"]) for q in raw.get("questions", [])],
        unanswerable=[Question(q["question"]) for q in raw.get("unanswerable", [])],
        semantic=[Search(s["query"], s["evidence"]) for s in raw.get("semantic", [])],
        path=path,
    )


def load_all(split: str | None = None, directory: Path = HERE) -> list[Script]:
    scripts = [load(p) for p in sorted(directory.glob("*.toml"))]
    return [s for s in scripts if split is None or s.split == split]


def problems(script: Script) -> list[str]:
    """What is wrong with a script (empty when it is usable)."""
    out = []
    if script.path is not None and script.path.stem != script.id:
        out.append(f"id {script.id!r} differs from the file name {script.path.stem!r}")
    if script.split not in ("dev", "heldout"):
        out.append(f"split must be dev or heldout, not {script.split!r}")
    for line in script.lines:
        if line.speaker not in script.speakers:
            out.append(f"line by unknown speaker {line.speaker!r}: {line.text[:40]!r}")
    for topic in script.topics:
        if topic.kind not in ("talk", "ad", "outro"):
            out.append(f"topic {topic.title!r}: kind must be talk, ad or outro")
    text = script.text.lower()
    for fact in script.facts:
        for term in fact.terms:
            if not any(alt.lower() in text or alt.isdigit() for alt in term.split("|")):
                out.append(f"fact {fact.fact!r}: term {term!r} is not in the script")
    for item in [*script.questions, *script.semantic]:
        try:
            script.line_with(item.evidence)
        except ValueError as exc:
            out.append(str(exc))
    if not 6 <= len(script.facts) <= 10:
        out.append(f"{len(script.facts)} facts (want 6 to 10)")
    if len(script.questions) < 3 or not script.unanswerable:
        out.append("want 3 questions and at least 1 unanswerable one")
    if not 2 <= len(script.semantic) <= 3:
        out.append(f"{len(script.semantic)} semantic searches (want 2 to 3)")
    return out


# -- speech ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Spoken:
    """Where each line landed in the audio."""

    path: Path
    starts: list[float]
    ends: list[float]
    duration: float

    def topic_starts(self, script: Script) -> list[float]:
        """True chapter boundaries: the start of every topic but the first."""
        return [self.starts[t.first_line] for t in script.topics[1:]]

    def to_json(self) -> dict:
        return {"starts": self.starts, "ends": self.ends, "duration": self.duration}


def _seconds(path: Path) -> float:
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


def speak(script: Script, out: Path) -> Spoken:
    """One 16 kHz mono WAV of the whole episode; each line in its speaker's voice."""
    require_tools()
    out = Path(out)
    work = out.parent / (out.stem + ".parts")
    work.mkdir(parents=True, exist_ok=True)

    def silence(seconds: float, name: str) -> Path:
        p = work / name
        subprocess.run(["sox", "-D", "-n", "-r", "16000", "-c", "1", "-b", "16", str(p), "trim", "0", f"{seconds}"],
                       check=True)
        return p

    parts = [silence(LEAD_SECONDS, "lead.wav")]
    t = _seconds(parts[0])
    starts, ends = [], []
    for i, line in enumerate(script.lines):
        raw, trimmed = work / f"r{i:04d}.wav", work / f"t{i:04d}.wav"
        voice = script.speakers[line.speaker].voice
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(SPEED), "-w", str(raw), line.text], check=True)
        subprocess.run(["sox", "-D", str(raw), "-r", "16000", str(trimmed), "silence", "1", "0.01", "0.1%",
                        "reverse", "silence", "1", "0.01", "0.1%", "reverse"], check=True)
        starts.append(t)
        t += _seconds(trimmed)
        ends.append(t)
        parts.append(trimmed)
        last = i == len(script.lines) - 1
        new_topic = not last and script.lines[i + 1].topic != line.topic
        parts.append(silence(LEAD_SECONDS if last else TOPIC_GAP_SECONDS if new_topic else GAP_SECONDS, f"g{i:04d}.wav"))
        t += _seconds(parts[-1])
    # sox opens every part at once: join in batches to stay under the open-file limit
    batch, joined = 200, []
    for k in range(0, len(parts), batch):
        piece = work / f"join{k:05d}.wav"
        subprocess.run(["sox", "-D", *map(str, parts[k:k + batch]), str(piece)], check=True)
        joined.append(piece)
    subprocess.run(["sox", "-D", *map(str, joined), str(out)], check=True)
    shutil.rmtree(work, ignore_errors=True)
    return Spoken(out, starts, ends, _seconds(out))


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "check":
        bad = 0
        for name in argv[1:]:
            script = load(name)
            found = problems(script)
            words = len(script.text.split())
            print(f"{name}: {len(script.lines)} lines, {words} words (~{words / 180:.1f} min), "
                  f"{len(script.topics)} topics, {len(script.facts)} facts — {'OK' if not found else 'PROBLEMS'}")
            for p in found:
                print(f"  - {p}")
            bad += bool(found)
        return 1 if bad else 0
    if len(argv) == 3 and argv[0] == "speak":
        spoken = speak(load(argv[1]), Path(argv[2]))
        print(f"{argv[2]}: {spoken.duration:.1f} s")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
