"""Speakers stage: diarize the audio, give the ASR segments speakers, name them. Store-free: audio
path, segments, persons and show notes in; labelled segments out (the pipeline writes them)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from earmark.models import Person, Segment
from earmark.speakers.assign import assign_speakers
from earmark.speakers.diarize import Diarizer, get_diarizer
from earmark.speakers.naming import apply_names, name_speakers


@dataclass(slots=True)
class SpeakersResult:
    segments: list[Segment]
    engine: str
    model: str
    names: dict[str, str]  # "Speaker N" → display name


def default_diarizer(name: str = "auto") -> Diarizer:
    """``auto``: resemblyzer's d-vectors when torch and resemblyzer are installed, else the no-torch MFCC one."""
    if name == "auto":
        try:
            import resemblyzer  # noqa: F401
        except Exception:
            name = "mfcc"
        else:
            name = "resemblyzer"
    return get_diarizer(name)


def label_speakers(
    audio: Path, segments: list[Segment], *, persons: Iterable[Person] = (), show_notes: str = "",
    diarizer: Diarizer | None = None, progress: Callable[[float], None] | None = None,
) -> SpeakersResult:
    diarizer = diarizer or default_diarizer()
    turns = diarizer.diarize(Path(audio), progress=progress) if segments else []
    labelled = assign_speakers(segments, turns) if turns else list(segments)
    names = name_speakers(labelled, persons=persons, show_notes=show_notes)
    return SpeakersResult(apply_names(labelled, names), diarizer.name, diarizer.model, names)
