"""Earmark's copy of Resemblyzer's GE2E encoder (earmark/speakers/ge2e.py) gives Resemblyzer's numbers.

``ge2e_reference.npy`` holds ``resemblyzer.VoiceEncoder("cpu").embed_utterance(w)`` (Resemblyzer
0.1.4, its pretrained.pt, librosa 0.11.0, torch 2.13.0 CPU) for each of :func:`synthetic_voices`,
made once where Resemblyzer was installed. Batching windows the way the diarizer does moves the
last bits only (2e-7 measured), so the tolerance is 1e-5."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from earmark.speakers.ge2e import SAMPLING_RATE, partial_slices

pytestmark = pytest.mark.real_model

REFERENCE = Path(__file__).with_name("ge2e_reference.npy")


def synthetic_voices() -> list[np.ndarray]:
    """Two voice-like signals, no randomness: harmonics of a gliding pitch, spoken in syllables."""
    out = []
    for seconds, f0, glide, tilt in ((3.0, 120.0, 60.0, 1.0), (2.2, 210.0, -40.0, 0.6)):
        t = np.arange(int(seconds * SAMPLING_RATE)) / SAMPLING_RATE
        phase = 2 * np.pi * (f0 * t + glide * t * t / (2 * seconds))
        wav = sum(np.sin(k * phase) / k ** (1 + tilt) for k in range(1, 16))
        wav *= 0.5 + 0.5 * np.sin(2 * np.pi * 4.0 * t) ** 2  # syllables at 4 Hz
        out.append((0.3 * wav / np.abs(wav).max()).astype(np.float32))
    return out


def test_partial_slices_are_resemblyzers():
    # 3 s: partials every 0.77 s (rate 1.3), the last one padded past the end (coverage ≥ 0.75)
    wav, mel = partial_slices(48000)
    assert [(s.start, s.stop) for s in mel] == [(0, 160), (77, 237), (154, 314)]
    assert wav[-1] == slice(154 * 160, 314 * 160)
    assert partial_slices(8000)[1] == [slice(0, 160)]  # shorter than one partial: still one


def test_embeddings_match_resemblyzers():
    from earmark.speakers.diarize import ResemblyzerEmbedder

    got = ResemblyzerEmbedder().embed(synthetic_voices())
    want = np.load(REFERENCE)
    assert got.shape == want.shape == (2, 256) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
    assert float(got[0] @ got[1]) < 0.9  # two different voices, not one vector for everything
