import json
from urllib.parse import parse_qs, urlsplit

from PIL import Image
from typer.testing import CliRunner

from earmark.cli.app import app
from tests.share.conftest import decode, png, tone_wav

runner = CliRunner()


def test_share_prints_text_and_links(settings, make_episode, make_snip):
    episode = make_episode(link="https://example.org/ep?a=1&b=2")
    snip = make_snip(episode, start=75.4, end=90.0, quote="Bees & “maps” #1", quote_speaker="Ada")
    result = runner.invoke(app, ["share", str(snip.id)])
    assert result.exit_code == 0, result.output
    assert "“Bees & “maps” #1”" in result.stdout
    assert "— Ada, Science Everyday: Ep. 42: How bees find home" in result.stdout
    assert f"http://127.0.0.1:8321/episodes/{episode.id}?t=75" in result.stdout
    assert "https://twitter.com/intent/tweet?text=" in result.stdout and "https://wa.me/?text=" in result.stdout

    data = json.loads(runner.invoke(app, ["share", str(snip.id), "--json"]).stdout)
    assert data["link"] == f"http://127.0.0.1:8321/episodes/{episode.id}?t=75"
    assert data["episode_link"] == "https://example.org/ep?a=1&b=2"
    assert parse_qs(urlsplit(data["whatsapp"]).query)["text"] == [data["text"]]
    assert "card" not in data and "clip" not in data


def test_public_base_url_setting_is_used(settings, make_episode, make_snip, monkeypatch):
    (settings.home).mkdir(parents=True, exist_ok=True)
    (settings.home / "settings.toml").write_text('public_base_url = "https://pod.example.net/"\n')
    snip = make_snip(make_episode(), start=3, end=5, quote="Q")
    data = json.loads(runner.invoke(app, ["share", str(snip.id), "--json"]).stdout)
    assert data["link"].startswith("https://pod.example.net/episodes/")


def test_share_downloads_then_writes_card_and_clip(settings, server, make_episode, make_snip, tmp_path):
    wav = tone_wav(tmp_path / "src.wav")
    server.add("/ep.wav", wav.read_bytes(), content_type="audio/wav")
    server.add("/art.png", png((220, 20, 30)), content_type="image/png")
    episode = make_episode(enclosure_url=server.url("/ep.wav"), enclosure_type="audio/wav",
                           podcast_image=server.url("/art.png"))
    snip = make_snip(episode, start=4.0, end=6.5, quote="A tone.", title="Tone")
    card, clip = tmp_path / "out" / "card.png", tmp_path / "out" / "clip.m4a"

    result = runner.invoke(app, ["share", str(snip.id), "--card", str(card), "--clip", str(clip), "--square"])
    assert result.exit_code == 0, result.output
    assert f"Card → {card}" in result.stdout and f"Clip → {clip} (2.5 s)" in result.stdout
    assert server.requests_to("/ep.wav") and server.requests_to("/art.png")
    with Image.open(card) as image:
        assert image.format == "PNG" and image.size == (1080, 1080)
    samples, rate = decode(clip)
    assert abs(len(samples) / rate - 2.5) <= 0.2

    # the download is kept: another clip does not fetch the episode again
    before = len(server.requests_to("/ep.wav"))
    again = runner.invoke(app, ["share", str(snip.id), "--clip", str(tmp_path / "again.mp3"), "--json"])
    assert again.exit_code == 0, again.output
    data = json.loads(again.stdout)
    assert data["clip"] == str(tmp_path / "again.mp3") and abs(data["clip_seconds"] - 2.5) <= 0.05
    assert len(server.requests_to("/ep.wav")) == before


def test_errors_are_one_line_messages(settings, make_episode, make_snip, tmp_path):
    missing = runner.invoke(app, ["share", "999"])
    assert missing.exit_code == 1 and "no snip with id 999" in missing.output
    snip = make_snip(make_episode(), quote="Q")  # no enclosure to download
    no_audio = runner.invoke(app, ["share", str(snip.id), "--clip", str(tmp_path / "c.mp3")])
    assert no_audio.exit_code == 1 and "no audio file to download" in no_audio.output
    wrong = runner.invoke(app, ["share", str(snip.id), "--clip", str(tmp_path / "c.flac")])
    assert wrong.exit_code == 1 and ".mp3 or .m4a" in wrong.output
