"""Audio files as people upload them: each accepted format encoded for real with PyAV, tagged with
mutagen (title, date, artist, cover art, ID3 chapters) the way players and editors write them."""

from __future__ import annotations

import base64
import io
import tempfile
from pathlib import Path

from tests.jobs.audio_files import encoded

TITLE = "Notes on pure tones"
DATE = "2021-03-04"


def cover_png(size: int = 32) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (size, size), (200, 60, 40)).save(out, "PNG")
    return out.getvalue()


def _tag(name: str, data: bytes, tag) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        tag(path)
        return path.read_bytes()


def mp3(seconds: float = 6.0, *, chapters: bool = True) -> bytes:
    from mutagen.id3 import APIC, CHAP, COMM, CTOC, ID3, TDRC, TIT2, TPE1, CTOCFlags

    def tag(path: Path) -> None:
        tags = ID3()
        tags.add(TIT2(encoding=3, text=TITLE))
        tags.add(TPE1(encoding=3, text="Ada Tester"))
        tags.add(TDRC(encoding=3, text=DATE))
        tags.add(COMM(encoding=3, lang="eng", desc="", text="Recorded at home."))
        tags.add(APIC(encoding=3, mime="image/png", type=3, desc="cover", data=cover_png()))
        if chapters:
            half = int(seconds * 500)
            tags.add(CHAP(element_id="c0", start_time=0, end_time=half, sub_frames=[TIT2(encoding=3, text="Intro")]))
            tags.add(CHAP(element_id="c1", start_time=half, end_time=int(seconds * 1000),
                          sub_frames=[TIT2(encoding=3, text="Main part")]))
            tags.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED, child_element_ids=["c0", "c1"],
                          sub_frames=[]))
        tags.save(path)

    return _tag("a.mp3", encoded("mp3", "libmp3lame", seconds=seconds), tag)


def m4a(seconds: float = 6.0) -> bytes:
    from mutagen.mp4 import MP4, MP4Cover

    def tag(path: Path) -> None:
        f = MP4(path)
        f["©nam"], f["©day"], f["©ART"] = [TITLE], [DATE], ["Ada Tester"]
        f["covr"] = [MP4Cover(cover_png(), imageformat=MP4Cover.FORMAT_PNG)]
        f.save()

    return _tag("a.m4a", encoded("mp4", "aac", seconds=seconds, movflags="faststart"), tag)


def _picture():
    from mutagen.flac import Picture

    picture = Picture()
    picture.type, picture.mime, picture.data = 3, "image/png", cover_png()
    return picture


def flac(seconds: float = 6.0) -> bytes:
    from mutagen.flac import FLAC

    def tag(path: Path) -> None:
        f = FLAC(path)
        f["title"], f["date"] = TITLE, DATE
        f.add_picture(_picture())
        f.save()

    return _tag("a.flac", encoded("flac", "flac", seconds=seconds), tag)


def opus(seconds: float = 6.0) -> bytes:
    from mutagen.oggopus import OggOpus

    def tag(path: Path) -> None:
        f = OggOpus(path)
        f["title"], f["date"] = TITLE, DATE
        f["metadata_block_picture"] = [base64.b64encode(_picture().write()).decode("ascii")]
        f.save()

    return _tag("a.opus", encoded("ogg", "libopus", seconds=seconds, rate=48000), tag)


def wav(seconds: float = 6.0) -> bytes:
    from mutagen.id3 import TDRC, TIT2
    from mutagen.wave import WAVE

    def tag(path: Path) -> None:
        f = WAVE(path)
        f.add_tags()
        f.tags.add(TIT2(encoding=3, text=TITLE))
        f.tags.add(TDRC(encoding=3, text=DATE))
        f.save()

    return _tag("a.wav", encoded("wav", "pcm_s16le", seconds=seconds), tag)


def aac(seconds: float = 6.0) -> bytes:
    """Raw AAC (ADTS): no tags at all; the title comes from the file name."""
    return encoded("adts", "aac", seconds=seconds)


# name → (bytes maker, MIME type the episode gets, whether the file carries tags and a cover)
FORMATS = {
    "talk.mp3": (mp3, "audio/mpeg", True),
    "talk.m4a": (m4a, "audio/mp4", True),
    "talk.opus": (opus, "audio/ogg", True),
    "talk.flac": (flac, "audio/flac", True),
    "talk.wav": (wav, "audio/wav", False),  # ID3 in WAV carries title and date; no cover written here
    "talk.aac": (aac, "audio/aac", False),
}


def truncated_mp3() -> bytes:
    """An MP3 whose header (Xing frame) states 40 s, cut at half its bytes."""
    data = encoded("mp3", "libmp3lame", seconds=40.0)
    return data[: len(data) // 2]
