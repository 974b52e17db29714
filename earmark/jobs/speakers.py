"""Speakers stage: diarize the audio and give the ASR segments their speaker labels ("Speaker N");
the names stage (jobs/names.py) then works out who each label is. Store-free: audio path and
segments in; labelled segments out (the pipeline writes them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from earmark.models import Segment
from earmark.speakers.assign import assign_speakers
from earmark.speakers.diarize import Diarizer, get_diarizer


@dataclass(slots=True)
class SpeakersResult:
    segments: list[Segment]  # each with ``label`` and ``speaker`` "Speaker N"
    engine: str
    model: str


def default_diarizer(name: str = "auto") -> Diarizer:
    """``auto`` is the GE2E d-vectors shipped in earmark/speakers/ge2e.py (the one voice embedder shipped)."""
    return get_diarizer("resemblyzer" if name == "auto" else name)


def label_speakers(
    audio: Path, segments: list[Segment], *, diarizer: Diarizer | None = None,
    progress: Callable[[float], None] | None = None,
) -> SpeakersResult:
    diarizer = diarizer or default_diarizer()
    turns = diarizer.diarize(Path(audio), progress=progress) if segments else []
    labelled = assign_speakers(segments, turns) if turns else list(segments)
    for s in labelled:
        s.label = s.speaker
    return SpeakersResult(labelled, diarizer.name, diarizer.model)
