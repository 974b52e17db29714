import json

import pytest
from typer.testing import CliRunner

from earmark.cli import app
from earmark.export import ExportError, ExportState
from earmark.export import readwise as readwise_module
from earmark.export.readwise import export_readwise
from tests.export.conftest import with_settings
from tests.export.fakes import FakeReadwise


@pytest.fixture
def fake():
    server = FakeReadwise()
    yield server
    server.close()


@pytest.fixture
def rw_settings(settings, fake):
    return with_settings(settings, readwise_token=fake.token, readwise_base_url=fake.url)


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


def test_sends_documented_shape_and_only_new_or_changed(library, rw_settings, fake, episodes, snip_factory, store):
    a = snip_factory(episodes[0], 75.6, note="my note")
    b = snip_factory(episodes[1], 10, quote="", quote_speaker=None)  # no quote: the excerpt is the text
    pending = store.create(type(a)(episode_id=episodes[0].id, tapped_at=5, start=1, end=6))  # no text yet
    report = export_readwise(library, rw_settings, sleep=Sleeps())
    assert report.ok and sorted(report.created) == sorted([f"snip:{a.id}", f"snip:{b.id}"])
    assert report.waiting == [f"snip:{pending.id}"]
    _, path, headers, _ = fake.requests[0]
    assert path == "/api/v2/highlights/" and headers["Authorization"] == f"Token {fake.token}"
    assert headers["Content-Type"] == "application/json"
    first = next(h for h in fake.highlights if h["location"] == 75)
    assert first["text"] == "Quote said at 75.6." and first["title"] == "Ep 1: #1 — Why? [pilot]"
    assert first["author"] == 'Deep: "Questions" / Answers' and first["source_url"] == "https://example.com/ep1"
    assert first["category"] == "podcasts" and first["location_type"] == "time_offset"
    assert first["note"].startswith("Idea at 75.6") and "takeaway 75.6 a" in first["note"] and "my note" in first["note"]
    assert first["highlight_url"] == f"{rw_settings.public_base_url}/episodes/{episodes[0].id}?t=75"
    assert first["highlighted_at"].startswith("20") and "T" in first["highlighted_at"]
    second = next(h for h in fake.highlights if h["location"] == 10)
    assert second["text"] == "Transcript text around 10." and second["source_url"] == "https://cdn.example.com/ep2.mp3"

    # Nothing changed: nothing is sent.
    posts = len(fake.posts)
    report = export_readwise(library, rw_settings, sleep=Sleeps())
    assert len(fake.posts) == posts and sorted(report.skipped) == sorted([f"snip:{a.id}", f"snip:{b.id}"])

    # One edited: only that one goes again.
    store.update(a.id, note="changed")
    report = export_readwise(library, rw_settings, sleep=Sleeps())
    assert report.updated == [f"snip:{a.id}"] and len(fake.posts) == posts + 1
    assert [h["location"] for h in fake.posts[-1]["highlights"]] == [75]


def test_401_is_a_clear_error_and_marks_nothing(library, settings, fake, episodes, snip_factory):
    snip_factory(episodes[0], 100)
    bad = with_settings(settings, readwise_token="wrong", readwise_base_url=fake.url)
    sleeps = Sleeps()
    report = export_readwise(library, bad, sleep=sleeps)
    assert not report.ok and "401" in report.error and "readwise_token" in report.error
    assert report.created == [] and sleeps == [] and len(fake.requests) == 1  # not retried
    assert ExportState(library, "readwise").all() == {}
    with pytest.raises(ExportError, match="no Readwise token"):
        export_readwise(library, settings)


def test_429_waits_retry_after_and_500_backs_off_then_succeeds(library, rw_settings, fake, episodes, snip_factory):
    snip = snip_factory(episodes[0], 100)
    fake.fail(429, retry_after="7")
    fake.fail(500, times=2)
    sleeps = Sleeps()
    report = export_readwise(library, rw_settings, sleep=sleeps)
    assert report.ok and report.created == [f"snip:{snip.id}"]
    assert sleeps == [7.0, 2.0, 4.0]  # Retry-After honoured, then exponential backoff
    assert len(fake.requests) == 4 and len(fake.highlights) == 1


def test_persistent_errors_lose_nothing_and_next_run_sends_the_rest(library, rw_settings, fake, episodes, snip_factory,
                                                                    monkeypatch):
    monkeypatch.setattr(readwise_module, "BATCH", 2)
    snips = [snip_factory(episodes[0], 10 * n) for n in range(5)]
    # First batch accepted; the second one meets a 500 that outlasts the retries.
    original = fake.handle
    calls = []

    def flaky(*args):
        calls.append(1)
        if len(calls) == 1:
            return original(*args)
        return 500, {"detail": "Server Error"}

    fake.handle = flaky
    report = export_readwise(library, rw_settings, sleep=Sleeps())
    assert not report.ok and "500" in report.error and "gave up" in report.error
    assert len(report.created) == 2 and len(report.waiting) == 3
    assert len(ExportState(library, "readwise").all()) == 2
    fake.handle = original
    report = export_readwise(library, rw_settings, sleep=Sleeps())
    assert report.ok and len(report.created) == 3 and len(report.skipped) == 2
    assert sorted(h["location"] for h in fake.highlights) == sorted(int(s.start) for s in snips)  # each once


def test_cli_readwise(library, settings, fake, episodes, snip_factory, monkeypatch):
    (settings.home / "settings.toml").write_text(
        f'readwise_token = "{fake.token}"\nreadwise_base_url = "{fake.url}"\n', "utf-8")
    snip = snip_factory(episodes[0], 100)
    result = CliRunner().invoke(app, ["export", "readwise", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["created"] == [f"snip:{snip.id}"]
    (settings.home / "settings.toml").write_text(f'readwise_token = "nope"\nreadwise_base_url = "{fake.url}"\n', "utf-8")
    from earmark.store.snips import SnipStore
    SnipStore(library).update(snip.id, note="again")
    result = CliRunner().invoke(app, ["export", "readwise"])
    assert result.exit_code == 1 and "401" in result.output


def test_connection_cut_after_readwise_accepted_is_not_sent_twice(library, rw_settings, fake, episodes, snip_factory):
    """Readwise stored a batch but the answer never came: not retried blindly; the next run lists
    what Readwise holds from that time and sends only what is missing."""
    snips = [snip_factory(episodes[n % 2], 10 * n) for n in range(150)]
    fake.hold("POST", "/api/v2/highlights/", nth=2, cut=True)
    report = export_readwise(library, rw_settings, sleep=Sleeps())
    assert not report.ok and "after the request was sent" in report.error
    assert len(fake.posts) == 2 and len(fake.stored) == 150
    report = export_readwise(library, rw_settings, sleep=Sleeps())
    assert report.ok and report.created == [] and len(report.skipped) == 150
    assert len(fake.posts) == 2 and len(fake.highlights) == 150  # nothing sent twice
    assert [m for m, *_ in fake.requests][-1] == "GET"
    assert sorted(ExportState(library, "readwise").all()) == sorted(f"snip:{s.id}" for s in snips)


def test_an_edited_note_in_flight_is_sent_again_not_taken_for_arrived(library, rw_settings, fake, episodes, snip_factory):
    """A run killed with an edited highlight posted: Readwise's listing still shows the old note
    under the same text and time, which must not count as the edit having arrived."""
    from earmark.snips import edit_snip
    from earmark.store.snips import SnipStore

    snip = snip_factory(episodes[0], 100)
    assert export_readwise(library, rw_settings, sleep=Sleeps()).ok
    edited = edit_snip(library, snip.id, note="A new thought")
    episode = library.episode(edited.episode_id)
    item = readwise_module.highlight(edited, library.podcast(episode.podcast_id), episode, rw_settings.public_base_url)
    ExportState(library, "readwise").put_many(
        [(readwise_module.SENDING + f"snip:{snip.id}", readwise_module.content_hash(item), readwise_module._sent_as(item))]
    )
    assert export_readwise(library, rw_settings, sleep=Sleeps()).ok
    assert [h["note"] for h in fake.stored.values()] == [item["note"]] and "A new thought" in item["note"]
    assert SnipStore(library).get(snip.id).note == "A new thought"
