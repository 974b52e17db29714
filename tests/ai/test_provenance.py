"""Provenance: one record for what made an AI result, read from each result's flat fields, and one
response model whose fields each result's model lists last, flat, as the API always has."""

from __future__ import annotations

from datetime import UTC, datetime

from earmark.ai.tasks.snip_card import Card
from earmark.jobs.names import NamesResult
from earmark.jobs.understanding import provenance
from earmark.models import Answer, ChapterMark, EpisodeChapters, Highlight, LibraryHighlight, Provenance, Snip, Summary
from earmark.web.api.schemas import AnswerOut, ChaptersOut, HighlightOut, LibraryHighlightOut, SnipOut, SummaryOut

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_every_ai_result_gives_its_provenance_as_one_record():
    made = Provenance("fake", "fake-llm-1", "system@1+summary@3", WHEN)
    assert Summary(["p"], ["t"], "fake", "fake-llm-1", "system@1+summary@3", WHEN).provenance == made
    assert EpisodeChapters([], "generated", "llm", "fake", "fake-llm-1", "system@1+summary@3", WHEN).provenance == made
    assert Highlight(1, 2, "t", "w", "", "fake", "fake-llm-1", "system@1+summary@3", WHEN).provenance == made
    assert LibraryHighlight(1, 2, "t", "w", "", "fake", "fake-llm-1", "system@1+summary@3", WHEN).provenance == made
    # no time of their own: an answer is not stored, a snip's created_at is the tap's, not the card's
    assert Answer("q", "a", True, engine="fake", model="m", prompt_version="ask@1").provenance == Provenance("fake", "m", "ask@1")
    card = Provenance("fake", "m", "snip_card@1")
    snip = Snip(episode_id=1, tapped_at=1, start=0, end=1, engine="fake", model="m", prompt_version="snip_card@1",
                created_at=WHEN)
    assert snip.provenance == card
    assert Card("t", [], "q", None, engine="fake", model="m", prompt_version="snip_card@1").provenance == card
    assert NamesResult([], "rules+fake", "m").provenance == Provenance("rules+fake", "m")


def test_a_stage_records_its_results_provenance():
    generated = EpisodeChapters([ChapterMark(0, "Intro")], "generated", "llm", "fake", "m", "section@1")
    assert provenance(generated) == Provenance("fake", "m", "section@1")
    assert provenance(EpisodeChapters([ChapterMark(0, "Intro")], "publisher", "psc")) == Provenance("publisher:psc")
    assert provenance([Highlight(1, 2, "t", "w", "", "fake", "m", "highlights@1")]) == Provenance("fake", "m", "highlights@1")
    assert provenance([]) == Provenance()


def test_response_models_list_the_provenance_fields_flat_and_last():
    tail = ["engine", "model", "prompt_version", "created_at"]
    assert list(SummaryOut.model_fields) == ["episode_id", "paragraphs", "takeaways", *tail]
    assert list(ChaptersOut.model_fields) == ["episode_id", "source", "origin", "stored", "chapters", *tail]
    assert list(HighlightOut.model_fields) == ["id", "episode_id", "start", "end", "title", "why", "quote", *tail]
    assert list(LibraryHighlightOut.model_fields)[-7:] == [*tail, "episode_title", "podcast_id", "podcast_title"]
    assert list(AnswerOut.model_fields) == ["question", "answer", "answerable", "citations", *tail[:3]]
    assert all(SnipOut.model_fields[name].is_required() for name in tail[:3])  # a snip's stay required
