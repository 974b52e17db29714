from urllib.parse import parse_qs, urlsplit

from earmark.models import Episode, Podcast, Snip
from earmark.share.text import (
    TWEET_LIMIT,
    TWEET_URL_LENGTH,
    share_text,
    tweet_length,
)

EPISODE = Episode(guid="g", title="Ep. 7: Cats & Dogs?", link="https://example.org/ep7?ref=feed&x=1", id=7)
PODCAST = Podcast(url="http://x/feed", title="Pets #1 100% Real")


def query(link: str) -> dict[str, list[str]]:
    parts = urlsplit(link)
    return parse_qs(parts.query, keep_blank_values=True, strict_parsing=True)


def test_text_has_quote_attribution_and_timestamp_link():
    snip = Snip(episode_id=7, tapped_at=760, start=754.9, end=790, quote="  Dogs  are\ngreat. ", quote_speaker="Ada")
    shared = share_text(snip, EPISODE, PODCAST, base_url="https://earmark.example/")
    assert shared.quote == "Dogs are great."
    assert shared.attribution == "— Ada, Pets #1 100% Real: Ep. 7: Cats & Dogs?"
    assert shared.link == "https://earmark.example/episodes/7?t=754"
    assert shared.text.splitlines() == [
        "“Dogs are great.”",
        "— Ada, Pets #1 100% Real: Ep. 7: Cats & Dogs?",
        "▶ Listen from 12:34: https://earmark.example/episodes/7?t=754",
        "Episode: https://example.org/ep7?ref=feed&x=1",
    ]


def test_falls_back_to_excerpt_and_leaves_out_unknown_speaker():
    snip = Snip(episode_id=7, tapped_at=5, start=3, end=5, excerpt="What the transcript says.")
    episode = Episode(guid="g", title="Ep", id=7)
    shared = share_text(snip, episode, None, base_url="http://127.0.0.1:8321")
    assert shared.quote == "What the transcript says."
    assert shared.attribution == "— Ep"
    assert shared.episode_link is None and "Episode:" not in shared.text
    assert shared.link == "http://127.0.0.1:8321/episodes/7?t=3"


def test_links_encode_special_characters_and_round_trip():
    tricky = 'He said "50% off" & #win + more? a=b/c 🐝 naïve'
    snip = Snip(episode_id=7, tapped_at=5, start=5, end=9, quote=tricky, quote_speaker="Zoë")
    shared = share_text(snip, EPISODE, PODCAST, base_url="http://127.0.0.1:8321")

    assert shared.twitter.startswith("https://twitter.com/intent/tweet?text=")
    for link in (shared.twitter, shared.whatsapp):
        assert " " not in link and "\n" not in link and "#" not in link and '"' not in link
        assert all(ord(c) < 128 for c in link)
    tw = query(shared.twitter)
    assert set(tw) == {"text", "url"}  # the & and = in the quote did not split the query
    assert tw["url"] == [shared.link]
    assert tricky in tw["text"][0] and "Zoë" in tw["text"][0]

    assert shared.whatsapp.startswith("https://wa.me/?text=")
    wa = query(shared.whatsapp)
    assert set(wa) == {"text"} and wa["text"] == [shared.text]
    assert "+" not in shared.whatsapp.split("?text=")[1].replace("%2B", "")  # spaces are %20, not +


def test_tweet_stays_within_the_limit_counting_the_url_as_23():
    long_quote = " ".join(f"word{i}" for i in range(200))
    snip = Snip(episode_id=7, tapped_at=5, start=5, end=9, quote=long_quote, quote_speaker="Ada")
    shared = share_text(snip, EPISODE, PODCAST, base_url="http://127.0.0.1:8321/" + "x" * 300)
    text = query(shared.twitter)["text"][0]
    assert tweet_length(text) + 1 + TWEET_URL_LENGTH <= TWEET_LIMIT
    assert tweet_length(text) + 1 + TWEET_URL_LENGTH >= TWEET_LIMIT - 12  # not cut more than needed
    assert "…" in text and text.startswith("“word0 word1") and "— Ada, Pets" in text
    assert "word199" not in text
    assert long_quote in shared.text  # the plain text (WhatsApp, clipboard) is never cut


def test_wide_characters_count_double():
    assert tweet_length("abc") == 3 and tweet_length("蜜蜂") == 4 and tweet_length("🐝") == 2
    snip = Snip(episode_id=7, tapped_at=5, start=5, end=9, quote="蜜" * 300)
    shared = share_text(snip, EPISODE, PODCAST, base_url="http://127.0.0.1:8321")
    text = query(shared.twitter)["text"][0]
    assert tweet_length(text) + 1 + TWEET_URL_LENGTH <= TWEET_LIMIT
    assert text.count("蜜") > 60  # cut by weight, not emptied
