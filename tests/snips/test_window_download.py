"""A snip on an episode that is neither transcribed nor downloaded: the audio is fetched, only the
window around the tap is transcribed, and the pipeline is not started."""

from pathlib import Path

from earmark.models import Episode, ParsedFeed, Podcast
from earmark.snips import create_snip
from earmark.snips.enrich import run_once
from earmark.snips.service import WAITING
from earmark.store.jobs import JobStore
from earmark.store.snips import SnipStore
from tests.snips.test_service import card_answer

AUDIO = b"ID3" + bytes(range(256)) * 64  # the fake ASR never decodes it


def _episode(lib, url: str | None) -> int:
    podcast, _ = lib.add_podcast("http://127.0.0.1:1/remote.rss")
    feed = ParsedFeed(Podcast(url=podcast.url, title="Remote Show"), [
        Episode(guid="r1", title="Not downloaded", duration=3600, enclosure_url=url, enclosure_type="audio/mpeg"),
    ])
    lib.save_feed(podcast.id, feed, url=podcast.url, etag=None, last_modified=None, content_hash=None)
    return lib.episodes(podcast.id)[0].id


def test_the_audio_is_fetched_and_only_the_window_is_transcribed(lib, snip_settings, server, fake_llm, fake_asr):
    server.add("/ep.mp3", AUDIO, content_type="audio/mpeg")
    episode = _episode(lib, server.url("/ep.mp3"))
    assert lib.download(episode) is None
    fake_llm.reset(default=card_answer(quote="says hello"))
    snip = create_snip(lib, snip_settings, episode, 401.0)
    assert [e.path for e in server.log] == []  # creating stays instant: nothing fetched yet
    run_once(lib, snip_settings)

    assert [e.path for e in server.log if e.method == "GET"] == ["/ep.mp3"]
    record = lib.download(episode)
    assert record is not None and Path(record.path).read_bytes() == AUDIO
    call, = fake_asr.history  # one windowed call, on the downloaded file
    assert (call.offset, call.duration) == (251.0, 180.0)  # [tap − 150, tap + 30], not the whole episode
    assert call.audio == Path(record.path)
    done = SnipStore(lib).get(snip.id)
    assert done.state == "ready" and done.error is None and done.title == "Why it matters"
    assert done.excerpt.endswith("Segment200 says hello.")
    assert JobStore(lib).list(episode_id=episode) == []  # the full pipeline was not started


def test_a_failed_download_falls_back_to_processing(lib, snip_settings, server, fake_llm, fake_asr):
    server.add("/gone.mp3", b"", status=404)
    episode = _episode(lib, server.url("/gone.mp3"))
    fake_llm.reset(default=card_answer(quote="says hello"))
    snip = create_snip(lib, snip_settings, episode, 401.0)
    run_once(lib, snip_settings)
    assert [e.path for e in server.log if e.method == "GET"] == ["/gone.mp3"]
    waiting = SnipStore(lib).get(snip.id)
    assert waiting.state == "pending" and waiting.error == WAITING
    assert fake_asr.history == [] and lib.download(episode) is None
    assert [j.episode_id for j in JobStore(lib).list(episode_id=episode)] == [episode]
