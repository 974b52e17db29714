"""The real faster-whisper engine on espeak-ng speech whose words and sentence times are known."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from earmark.ai.asr import get_asr
from earmark.config import Settings
from earmark.engines.faster_whisper import FasterWhisperEngine
from earmark.errors import AudioError, EarmarkError
from earmark.models import Segment
from tests.engines import speech

MODELS = ["tiny.en", "base"]
# Measured on this speech (2 cores): tiny.en 0.040, base 0.020 (whole file); bounds leave margin.
MAX_WER = {"tiny.en": 0.15, "base": 0.12}

_runs: dict = {}


def full_run(engines, spoken, model: str) -> tuple[list[Segment], list[float]]:
    key = (model, spoken.path)
    if key not in _runs:
        progress: list[float] = []
        _runs[key] = (list(engines(model).transcribe(spoken.path, progress=progress.append)), progress)
    return _runs[key]


def sentence_times(segments: list[Segment], sentences: list[str]) -> list[tuple[float, float]]:
    """(start of first word, end of last word) of each known sentence, by aligning the transcript's
    words to the script's words (so a misheard word still marks where its sentence is)."""
    hyp_words = [w for s in segments for w in s.words for _ in speech.normalize(w.text)]
    hyp = [t for s in segments for w in s.words for t in speech.normalize(w.text)]
    ref, owner = [], []
    for k, sentence in enumerate(sentences):
        tokens = speech.normalize(sentence)
        ref += tokens
        owner += [k] * len(tokens)
    heard: dict[int, list] = {}
    for r, h in speech.align(ref, hyp):
        if r is not None and h is not None:
            heard.setdefault(owner[r], []).append(hyp_words[h])
    times = []
    for k, sentence in enumerate(sentences):
        words = heard.get(k)
        assert words, f"nothing of {sentence!r} in the transcript"
        times.append((min(w.start for w in words), max(w.end for w in words)))
    return times


@pytest.mark.real_model
@pytest.mark.parametrize("model", MODELS)
def test_word_error_rate_is_bounded(engines, spoken, model):
    segments, _ = full_run(engines, spoken, model)
    hypothesis = " ".join(s.text for s in segments)
    error = speech.wer(spoken.text, hypothesis)
    print(f"{model}: WER {error:.3f}")
    assert error <= MAX_WER[model], hypothesis


@pytest.mark.real_model
@pytest.mark.parametrize("model", MODELS)
def test_known_sentences_start_within_a_second(engines, spoken, model):
    # Starts (what a click on a transcript line seeks to) within 1 s. Whisper lets a sentence's last
    # word run on into the following pause (measured up to 1.15 s here), so ends get 1.5 s.
    segments, _ = full_run(engines, spoken, model)
    times = sentence_times(segments, speech.SENTENCES)
    errors = [(round(a - s, 2), round(b - e, 2)) for (a, b), s, e in zip(times, spoken.starts, spoken.ends)]
    print(f"{model}: (start, end) errors per sentence: {errors}")
    for (start, end), want_start, want_end in zip(times, spoken.starts, spoken.ends):
        assert abs(start - want_start) <= 1.0, (start, want_start)
        assert abs(end - want_end) <= 1.5, (end, want_end)


@pytest.mark.real_model
@pytest.mark.parametrize("model", MODELS)
def test_segments_and_words_are_ordered_records(engines, spoken, model):
    segments, progress = full_run(engines, spoken, model)
    assert segments and all(isinstance(s, Segment) for s in segments)
    last_word_start = 0.0
    for prev, seg in zip([None, *segments], segments):
        assert seg.text == seg.text.strip() and seg.text
        assert 0.0 <= seg.start <= seg.end <= spoken.duration + 0.05
        if prev is not None:
            assert seg.start >= prev.start
        assert seg.words, "word timestamps are on"
        for word in seg.words:
            assert word.text and word.text == word.text.strip()
            assert word.start <= word.end
            assert word.start >= last_word_start - 1e-6, "word starts go forward"
            assert seg.start - 0.05 <= word.start and word.end <= seg.end + 0.05
            last_word_start = word.start
    assert progress == sorted(progress), "progress only goes forward"
    assert progress[-1] == pytest.approx(spoken.duration, abs=0.05)


@pytest.mark.real_model
def test_language_is_detected_by_the_multilingual_model_and_forced_for_english_only(engines, spoken):
    full_run(engines, spoken, "base")
    base = engines("base")
    assert base.whisper.model.is_multilingual
    assert base.last_language == "en" and base.last_language_probability > 0.5
    full_run(engines, spoken, "tiny.en")
    assert engines("tiny.en").last_language == "en"


@pytest.mark.real_model
@pytest.mark.parametrize("suffix", [".wav", ".flac", ".ogg"])
def test_window_gives_absolute_times_matching_the_full_run(engines, spoken, tmp_path, suffix):
    path = spoken.path
    if suffix != ".wav":  # compressed formats go through the seeking decoder too
        path = tmp_path / f"episode{suffix}"
        subprocess.run(["sox", str(spoken.path), str(path)], check=True)
    full, _ = full_run(engines, spoken, "tiny.en")
    offset = spoken.starts[2] - 0.6
    duration = spoken.ends[4] + 0.6 - offset
    progress: list[float] = []
    window = list(engines("tiny.en").transcribe(path, offset=offset, duration=duration, progress=progress.append))
    assert speech.wer(" ".join(speech.SENTENCES[2:5]), " ".join(s.text for s in window)) <= 0.2
    for seg in window:
        assert offset - 1e-6 <= seg.start <= seg.end <= offset + duration + 1e-6
    got = sentence_times(window, speech.SENTENCES[2:5])
    want = sentence_times(full, speech.SENTENCES)[2:5]
    for (a, b), (c, d), known in zip(got, want, spoken.starts[2:5]):
        assert abs(a - c) <= 1.0 and abs(b - d) <= 1.5, (got, want)
        assert abs(a - known) <= 1.0
    # progress is the absolute position reached, like the segment times
    assert progress == sorted(progress) and offset <= progress[0]
    assert progress[-1] == pytest.approx(offset + duration, abs=0.05)


@pytest.mark.real_model
def test_window_past_the_end_yields_nothing(engines, spoken):
    assert list(engines("tiny.en").transcribe(spoken.path, offset=spoken.duration + 5, duration=10)) == []


@pytest.mark.real_model
def test_small_chunks_are_cut_in_pauses_without_losing_or_repeating_words(asr_home, spoken):
    engine = FasterWhisperEngine("tiny.en", Settings(home=asr_home), chunk_seconds=12)
    segments = list(engine.transcribe(spoken.path))
    assert speech.wer(spoken.text, " ".join(s.text for s in segments)) <= MAX_WER["tiny.en"]
    for (start, _), want in zip(sentence_times(segments, speech.SENTENCES), spoken.starts):
        assert abs(start - want) <= 1.0


def test_the_registry_builds_it_from_settings(tmp_path):
    engine = get_asr(Settings(home=tmp_path, asr_model="tiny.en"))
    assert isinstance(engine, FasterWhisperEngine)
    assert (engine.name, engine.model) == ("faster-whisper", "tiny.en")
    assert engine._whisper is None, "the model loads on first transcribe, not at construction"
    assert engine.compute_type == "int8" and engine.device == "cpu" and engine.cpu_threads >= 1
    assert get_asr(Settings(home=tmp_path)).model == "base"
    gpu = get_asr(Settings(home=tmp_path, asr_device="cuda"))  # a worker with a GPU: one window at a time, float16
    assert (gpu.device, gpu.compute_type, gpu.parallel) == ("cuda", "float16", 1)


def _bad_files(tmp_path: Path) -> dict[str, Path]:
    files = {
        "empty.mp3": b"",
        "notes.mp3": b"This is a text file with a misleading name, not audio at all.\n" * 20,
        "random.mp3": bytes((i * 7919 + 13) % 256 for i in range(40_000)),
        "truncated.wav": b"RIFF\x24\x08\x00\x00WAVEfmt ",
    }
    out = {}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        out[name] = tmp_path / name
    out["missing.mp3"] = tmp_path / "missing.mp3"
    return out


@pytest.mark.parametrize("name", ["empty.mp3", "notes.mp3", "random.mp3", "truncated.wav", "missing.mp3"])
def test_unreadable_audio_raises_audio_error_naming_the_file(tmp_path, name):
    # a model that cannot load proves the file is rejected before any model work
    engine = FasterWhisperEngine(str(tmp_path / "no-such-model-dir"), Settings(home=tmp_path))
    path = _bad_files(tmp_path)[name]
    with pytest.raises(AudioError) as info:
        list(engine.transcribe(path))
    assert isinstance(info.value, EarmarkError) and isinstance(info.value, ValueError)
    assert name in str(info.value)


def test_negative_window_is_refused(tmp_path):
    engine = FasterWhisperEngine("tiny.en", Settings(home=tmp_path))
    with pytest.raises(ValueError):
        engine.transcribe(tmp_path / "x.wav", offset=-1)
