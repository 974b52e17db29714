from __future__ import annotations

from pathlib import Path

import pytest

from earmark.models import Transcript
from earmark.transcripts import attach_words, parse_transcript
from tests.conftest import CORPUS

TRANSCRIPTS = CORPUS / "transcripts"
CHAPTERS = CORPUS / "chapters"
WORDLEVEL_NO_BODY = "podcastnamespace__buzzsprout_wordlevel_no-body_2020.json"
BUZZSPROUT_SRT = "podcastnamespace__buzzsprout_bonus-episode.srt"


def read(name: str, mime_type: str = "") -> Transcript:
    """A corpus transcript as the app would get it. The body-less word-timing JSON has no text
    of its own, so it is read together with the same episode's SRT."""
    if name == WORDLEVEL_NO_BODY:
        text = parse_transcript((TRANSCRIPTS / BUZZSPROUT_SRT).read_bytes(), "application/srt")
        return attach_words((TRANSCRIPTS / name).read_bytes(), text)
    return parse_transcript((TRANSCRIPTS / name).read_bytes(), mime_type, url=name)


@pytest.fixture(scope="session")
def corpus_files() -> list[Path]:
    return sorted(TRANSCRIPTS.iterdir())
