import numpy as np
import pytest

from earmark.errors import AudioError
from earmark.share.clip import make_clip
from tests.share.conftest import TONE, decode, tone_wav


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples**2))) if len(samples) else 0.0


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """A 15 s WAV (silence, tone 5–10 s, silence) and the same as MP3 and stereo 44.1 kHz WAV."""
    folder = tmp_path_factory.mktemp("sources")
    wav = tone_wav(folder / "tone.wav")
    stereo = tone_wav(folder / "stereo.wav", rate=44_100, channels=2)
    mp3 = make_clip(wav, folder / "tone.mp3", 0, 15).path
    return {"wav": wav, "stereo": stereo, "mp3": mp3}


@pytest.mark.parametrize("source", ["wav", "stereo", "mp3"])
@pytest.mark.parametrize("suffix", [".mp3", ".m4a"])
def test_clip_lasts_the_snips_length_and_starts_where_the_snip_does(tmp_path, sources, source, suffix):
    start, end = 4.0, 6.5  # 1 s of silence, then 1.5 s of tone
    clip = make_clip(sources[source], tmp_path / f"clip{suffix}", start, end, title="Bees “dance” & fly")
    samples, rate = decode(clip.path)
    assert abs(len(samples) / rate - (end - start)) <= 0.2
    assert abs(clip.duration - (end - start)) <= 0.05
    # sample-accurate: silence up to 5 s (1 s into the clip), the tone after it
    assert rms(samples[int(0.1 * rate) : int(0.85 * rate)]) < 0.01
    assert rms(samples[int(1.15 * rate) : int(2.3 * rate)]) > 0.2
    import av

    with av.open(str(clip.path)) as container:
        assert container.metadata.get("title") == "Bees “dance” & fly"


def test_clip_after_a_seek_ends_where_the_tone_ends(tmp_path, sources):
    # start beyond the seek margin: the seek path; the tone stops at 10 s = 0.8 s before the end
    clip = make_clip(sources["mp3"], tmp_path / "late.m4a", TONE[1] - 2.2, TONE[1] + 0.8)
    samples, rate = decode(clip.path)
    assert abs(len(samples) / rate - 3.0) <= 0.2
    assert rms(samples[int(0.1 * rate) : int(2.0 * rate)]) > 0.2
    assert rms(samples[int(2.4 * rate) : int(2.9 * rate)]) < 0.01


def test_no_temporary_file_is_left_and_a_short_file_clips_what_there_is(tmp_path, sources):
    clip = make_clip(sources["wav"], tmp_path / "end.mp3", 14.0, 20.0)
    assert abs(clip.duration - 1.0) <= 0.05  # the file ends at 15 s
    with pytest.raises(AudioError, match="no audio between"):
        make_clip(sources["wav"], tmp_path / "past.mp3", 30.0, 35.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["end.mp3"]


def test_missing_corrupt_and_wrong_inputs_raise_audio_error(tmp_path):
    corrupt = tmp_path / "corrupt.mp3"
    corrupt.write_bytes(b"this is not audio at all\n" * 400)
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    with pytest.raises(AudioError, match="corrupt.mp3"):
        make_clip(corrupt, tmp_path / "a.mp3", 0, 2)
    with pytest.raises(AudioError, match="does not exist"):
        make_clip(tmp_path / "missing.mp3", tmp_path / "a.mp3", 0, 2)
    with pytest.raises(AudioError, match="empty"):
        make_clip(empty, tmp_path / "a.mp3", 0, 2)
    wav = tone_wav(tmp_path / "ok.wav", length=3.0)
    with pytest.raises(AudioError, match=r"\.mp3 or \.m4a"):
        make_clip(wav, tmp_path / "a.ogg", 0, 2)
    with pytest.raises(AudioError, match="empty span"):
        make_clip(wav, tmp_path / "a.mp3", 2, 2)
    assert not (tmp_path / "a.mp3").exists()
