"""The server-rendered pages (without a browser): what they show, escaping, sanitizing, headers."""

import re

from earmark.jobs import Pipeline
from tests.web.conftest import EVIL_NOTES


def test_library_page(client, show, lib):
    response = client.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    html = response.text
    assert "The Show" in html and f'href="/podcasts/{show["podcast"]}"' in html
    assert '<span class="unplayed">3</span> unplayed' in html
    assert 'id="subscribe-form"' in html and 'href="/api/v1/opml"' in html
    assert 'id="audio"' in html and 'src="/static/player.js"' in html
    assert 'data-snip-action="nexttrack"' in html


def test_unplayed_count_drops_when_played(client, show):
    client.post(f"/api/v1/episodes/{show['g2']}/played")
    assert '<span class="unplayed">2</span> unplayed' in client.get("/").text


def test_podcast_page_newest_first_with_states(client, show):
    client.put(f"/api/v1/episodes/{show['g2']}/position", json={"seconds": 75})
    client.post(f"/api/v1/episodes/{show['g1']}/played")
    html = client.get(f"/podcasts/{show['podcast']}").text
    titles = re.findall(r'class="episode-link" href="/episodes/\d+">([^<]+)</a>', html)
    assert titles == ["Episode 3", "Episode 2", "Episode 1"]
    assert "1:15 in" in html and ">played</span>" in html and "10:03" in html  # 603 s


def test_episode_page_escapes_and_sanitizes(client, lib, show):
    html = client.get(f"/episodes/{show['g3']}").text
    notes = html.split('id="show-notes"')[1].split("</section>")[0]
    for bad in ("<script", "onerror", "onclick", "javascript:", "<iframe", "<style"):
        assert bad not in notes.lower(), bad
    assert "<b>listeners</b>" in notes
    assert "<script>alert" not in html and "coming soon" not in html
    assert "Process this episode to get a summary" in html and 'id="summary"' not in html
    assert 'id="episode-snips"' in html and 'id="ask-form"' in html
    assert 'data-has-transcript="no"' in html and 'data-process=' in html


def test_feed_text_is_escaped(client, lib):
    from earmark.models import Episode, ParsedFeed, Podcast

    podcast, _ = lib.add_podcast("http://127.0.0.1:1/x.rss")
    feed = ParsedFeed(Podcast(url=podcast.url, title='<img src=x onerror="alert(1)">Show'),
                      [Episode(guid="e", title="<script>alert(2)</script>Ep", enclosure_url="https://e/x.mp3")])
    lib.save_feed(podcast.id, feed, url=podcast.url, etag=None, last_modified=None, content_hash=None)
    [episode] = lib.episodes(podcast.id)
    for path in ("/", f"/podcasts/{podcast.id}", f"/episodes/{episode.id}"):
        html = client.get(path).text
        assert "<script>alert" not in html and "<img src=x" not in html, path
        assert "&lt;script&gt;alert(2)&lt;/script&gt;Ep" in html or "&lt;img src=x" in html, path


def test_episode_page_with_transcript_and_chapters(client, app, settings, server):
    from tests.web.media import serve_show

    podcast = client.post("/api/v1/podcasts", json={"url": serve_show(server)}).json()
    [item] = client.get(f"/api/v1/podcasts/{podcast['id']}/episodes").json()["items"]
    html = client.get(f"/episodes/{item['id']}").text
    assert re.findall(r'data-seek="([\d.]+)"><span class="time">([\d:]+)</span> (\w+)', html) == [
        ("0.0", "0:00", "Hello"), ("8.0", "0:08", "Tones"), ("16.0", "0:16", "Goodbye")
    ]
    client.post(f"/api/v1/episodes/{item['id']}/process")
    assert 'data-job-state="queued"' in client.get(f"/episodes/{item['id']}").text
    [job] = Pipeline(app.state.library, settings).run_until_empty()
    assert job.state == "done", job.error
    html = client.get(f"/episodes/{item['id']}").text
    assert 'data-has-transcript="yes"' in html and 'id="transcript-source">publisher' in html
    # The fake LLM's summary and highlights stages ran: the panels show them now.
    assert 'id="summary"' in html and "Process this episode to get a summary" not in html
    assert "from the publisher" in html
    assert "transcript" in client.get(f"/podcasts/{podcast['id']}").text


def test_queue_page(client, show):
    assert "Nothing up next" in client.get("/queue").text
    client.put("/api/v1/queue", json={"episode_ids": [show["g2"], show["g1"]]})
    html = client.get("/queue").text
    assert re.findall(r'class="episode-link" href="/episodes/\d+">([^<]+)</a>', html) == ["Episode 2", "Episode 1"]


def test_processing_shows_the_time_left(client, lib, show):
    """A running job's time left (jobs/eta.py) on the episode, queue and podcast pages."""
    from earmark.store.jobs import JobStore

    store = JobStore(lib)
    job = store.enqueue(show["g1"], priority=10)
    store.claim(job.id)
    store.start_stage(job.id, "download")
    store.finish_stage(job.id, "download")
    store.start_stage(job.id, "transcript")
    store.report(job.id, "transcript", 50.0, 40.0)
    client.put("/api/v1/queue", json={"episode_ids": [show["g1"], show["g2"]]})

    episode = client.get(f"/episodes/{show['g1']}").text
    assert re.search(r'<p class="processing-eta muted">about \d+ min left</p>', episode)
    assert re.search(r'running · (about \d+ min|less than a minute) left</span>', episode)
    for page in ("/queue", f"/podcasts/{show['podcast']}"):
        tags = re.findall(r"processing (\d+)% · (about \d+ min left)", client.get(page).text)
        assert [percent for percent, _ in tags] == ["40"], page  # the running one only


def test_unknown_pages(client):
    for path in ("/podcasts/999", "/episodes/999"):
        response = client.get(path)
        assert response.status_code == 404 and "Not found" in response.text, path
    assert client.get("/episodes/abc").status_code == 422
    assert client.get("/static/player.js").status_code == 200
    assert client.get("/static/nope.js").status_code == 404


def test_player_bar_scripts_load_in_order_and_offline(client):
    """The player bar is five scripts that share their parts through window.Earmark: player.js
    first, then effects, listening history, controls (which start the player) and navigation, all
    before the page scripts; the service worker keeps each in its shell, so they load offline too."""
    bar = ["player.js", "effects.js", "listening-history.js", "controls.js", "navigation.js"]
    scripts = re.findall(r'<script src="/static/([^"]+)" defer>', client.get("/").text)
    assert scripts[: len(bar) + 1] == [*bar, "dom.js"]
    sw = client.get("/sw.js").text
    shell = re.search(r"const SHELL_FILES = \[(.*?)\];", sw, re.S).group(1)
    for name in bar:
        assert client.get(f"/static/{name}").status_code == 200
        assert f'"/static/{name}"' in shell, name


def test_service_worker_keeps_every_script_and_stylesheet_of_the_pages(client):
    """Each file base.html loads is in the worker's shell: a page opened offline gets all of them."""
    html = client.get("/").text
    loaded = re.findall(r'<script src="/static/([^"]+)"', html)
    loaded += re.findall(r'<link rel="stylesheet" href="/static/([^"]+)"', html)
    assert {"listening.js", "reel.js", "reel.css"} <= set(loaded)
    sw = client.get("/sw.js").text
    shell = re.findall(r'"/static/([^"]+)"', re.search(r"const SHELL_FILES = \[(.*?)\];", sw, re.S).group(1))
    assert sorted(set(loaded) - set(shell)) == []
    for name in shell:
        assert client.get(f"/static/{name}").status_code == 200, name


def test_understanding_panels_escape_ai_text(client, lib, show):
    from earmark.models import Highlight, Summary
    from earmark.store.understanding import UnderstandingStore

    store = UnderstandingStore(lib)
    store.save_summary(show["g1"], Summary(["Para <script>alert(1)</script> one."], ["Take <b>away</b>"], "fake", "m", "v"))
    store.save_highlights(show["g1"], [Highlight(61, 100, "Big <i>moment</i>", "Why <u>it</u> matters")])
    html = client.get(f"/episodes/{show['g1']}").text
    summary = html.split('id="summary-panel"')[1].split("</section>")[0]
    assert "Para &lt;script&gt;alert(1)&lt;/script&gt; one." in summary and "<script>" not in summary
    assert "<li>Take &lt;b&gt;away&lt;/b&gt;</li>" in summary
    highlights = html.split('id="highlights-panel"')[1].split("</section>")[0]
    assert 'data-seek="61' in highlights and "1:01" in highlights
    assert "Big &lt;i&gt;moment&lt;/i&gt;" in highlights and "Why &lt;u&gt;it&lt;/u&gt; matters" in highlights


def test_snips_highlights_search_pages(client, lib, show):
    from earmark.models import Highlight
    from earmark.store.understanding import UnderstandingStore

    html = client.get("/").text
    for link in ('href="/snips"', 'href="/highlights"', 'href="/search"'):
        assert link in html, link
    snips = client.get("/snips").text
    assert 'id="all-snips"' in snips and 'data-page="snips"' in snips and "<option value=\"%d\">The Show</option>" % show["podcast"] in snips
    assert "No highlights yet" in client.get("/highlights").text
    UnderstandingStore(lib).save_highlights(show["g2"], [Highlight(12, 50, "A <b>moment</b>", "because")])
    highlights = client.get("/highlights").text
    assert "A &lt;b&gt;moment&lt;/b&gt;" in highlights and 'data-reel-from="' in highlights  # plays the reel from there
    assert "Episode 2" in highlights and "The Show" in highlights and 'id="reel-play"' in highlights
    # Scopes: one podcast's (and its reel), this week's (the episodes were just added); none elsewhere.
    one = client.get(f"/highlights?podcast_id={show['podcast']}").text
    assert "A &lt;b&gt;moment&lt;/b&gt;" in one and f'data-podcast-id="{show["podcast"]}"' in one
    assert "A &lt;b&gt;moment&lt;/b&gt;" in client.get("/highlights?since=week").text
    assert "No highlights here yet" in client.get("/highlights?podcast_id=999").text
    search = client.get('/search?q="><script>alert(1)</script>').text
    assert 'id="search-form"' in search and "<script>alert(1)" not in search
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in search


def test_snip_page(client, lib, show):
    from earmark.models import Snip
    from earmark.store.snips import SnipStore

    snip = SnipStore(lib).create(Snip(
        episode_id=show["g2"], tapped_at=70, start=65, end=125, state="ready",
        title="<script>alert(1)</script>Big idea", takeaways=["Take <b>one</b>", "Take two"],
        quote="Quote <i>this</i>", quote_speaker="Ada <Lovelace>", excerpt="The <u>excerpt</u> text",
        note="My <em>note</em>", tags=["ideas", "<tag>"], favorite=True,
    ))
    response = client.get(f"/snips/{snip.id}")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    html = response.text
    main = html.split('id="main"')[1].split("</main>")[0]
    assert "<script" not in main and "<b>one" not in main and "<i>this" not in main
    assert 'data-page="snip"' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;Big idea" in main
    assert f'href="/episodes/{show["g2"]}">Episode 2</a>' in main
    assert f'href="/podcasts/{show["podcast"]}">The Show</a>' in main
    assert "1:05–2:05" in main
    assert "<li>Take &lt;b&gt;one&lt;/b&gt;</li>" in main and "<li>Take two</li>" in main
    assert "“Quote &lt;i&gt;this&lt;/i&gt;”<cite> — Ada &lt;Lovelace&gt;</cite>" in main
    assert "The &lt;u&gt;excerpt&lt;/u&gt; text" in main and "My &lt;em&gt;note&lt;/em&gt;" in main
    assert '<span class="tag">ideas</span>' in main and '<span class="tag">&lt;tag&gt;</span>' in main
    assert "★ Favourite" in main and 'aria-pressed="true"' in main
    # Play from here: the persistent player's [data-episode][data-at] button, at the snip's start.
    assert f'data-episode="{show["g2"]}" data-at="65' in main and "Play from here" in main
    share = client.get(f"/api/v1/snips/{snip.id}").json()["share"]
    assert share["twitter"].startswith("https://twitter.com/intent/tweet?")
    assert f'href="{share["twitter"]}"' in main.replace("&amp;", "&")
    assert f'href="{share["whatsapp"]}"' in main.replace("&amp;", "&")
    assert 'data-action="copy"' in main and "Listen from 1:05" in main


def test_snip_page_unknown_and_lists_link(client, lib, show):
    for path in ("/snips/999", "/snips/1"):
        response = client.get(path)
        assert response.status_code == 404 and "Not found" in response.text, path
    assert client.get("/snips/abc").status_code == 422
    # The Snips page and the episode page render their lists with snips.js's SnipList, which links
    # each snip's title to its page.
    js = client.get("/static/snips.js").text
    assert "a.href = `/snips/${snip.id}`" in js and "snip: snipPage" in js
    assert 'id="all-snips"' in client.get("/snips").text
    assert 'id="episode-snips"' in client.get(f"/episodes/{show['g1']}").text
