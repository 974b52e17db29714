"""Share text for a snip: the quote, who said it where, and a link that plays from the moment;
plus Twitter/X and WhatsApp share links, URL-encoded and within Twitter's length limit."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote as _urlquote

from earmark.models import Episode, Podcast, Snip
from earmark.transcripts.timecode import format_clock

TWEET_LIMIT = 280  # weighted characters (twitter-text v3)
TWEET_URL_LENGTH = 23  # every URL counts as this many, whatever its length (t.co)
# twitter-text v3: code points in these ranges weigh 1, every other code point 2 (CJK, emoji, …).
_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
ELLIPSIS = "…"


@dataclass(slots=True)
class ShareText:
    text: str  # the whole message: quote, attribution, timestamp link (and the episode's own link)
    quote: str
    attribution: str  # "— Speaker, Podcast: Episode"
    link: str  # {public_base_url}/episodes/{id}?t=SECONDS
    episode_link: str | None
    start: int  # whole seconds the link plays from
    twitter: str  # https://twitter.com/intent/tweet?text=…&url=…
    whatsapp: str  # https://wa.me/?text=…
    tweet: str  # the tweet's text, without its URL (Twitter appends it)


def _clean(text: str) -> str:
    return " ".join((text or "").split())


def snip_quote(snip: Snip) -> str:
    """What the share quotes: the AI's (or user's) quote, else the transcript excerpt, else the title."""
    return _clean(snip.quote) or _clean(snip.excerpt) or _clean(snip.title)


def attribution(snip: Snip, episode: Episode, podcast: Podcast | None) -> str:
    """"— Speaker, Podcast: Episode" (parts that are unknown are left out)."""
    where = ": ".join(part for part in (_clean(podcast.title) if podcast else "", _clean(episode.title)) if part)
    who = ", ".join(part for part in (_clean(snip.quote_speaker or ""), where) if part)
    return f"— {who}" if who else ""


def timestamp_link(base_url: str, episode_id: int, seconds: float) -> str:
    return f"{base_url.rstrip('/')}/episodes/{episode_id}?t={max(0, int(seconds))}"


# One regex pass, not a range test per character: snip lists weigh every snip's share text.
_HEAVY = re.compile("[^" + "".join(f"{re.escape(chr(lo))}-{re.escape(chr(hi))}" for lo, hi in _LIGHT_RANGES) + "]")


def tweet_length(text: str) -> int:
    """Twitter's weighted length of plain text (no URLs in it): most Latin text 1 per code point,
    CJK, emoji and the like 2."""
    text = unicodedata.normalize("NFC", text)
    return len(text) + len(_HEAVY.findall(text))


def _fit(text: str, budget: int) -> str:
    """``text`` cut (at a word boundary when one is near) with an ellipsis so it weighs ≤ ``budget``."""
    if tweet_length(text) <= budget:
        return text
    room = budget - tweet_length(ELLIPSIS)
    if room <= 0:
        return ""
    cut, used = [], 0
    for char in text:
        weight = 2 if _HEAVY.match(char) else 1
        if used + weight > room:
            break
        cut.append(char)
        used += weight
    head = "".join(cut)
    space = head.rfind(" ")
    if space > len(head) * 0.6:
        head = head[:space]
    return head.rstrip(" ,;:.-—") + ELLIPSIS


def compose_tweet(quote: str, attribution_text: str, *, has_url: bool = True) -> str:
    """Tweet text that, with its URL (counted as 23 plus a space), stays within 280."""
    budget = TWEET_LIMIT - ((TWEET_URL_LENGTH + 1) if has_url else 0)
    attribution_text = _fit(attribution_text, budget // 2) if attribution_text else ""
    tail = f"\n{attribution_text}" if attribution_text else ""
    quote_budget = budget - tweet_length(tail) - tweet_length("“”")
    body = f"“{_fit(quote, quote_budget)}”" if quote else ""
    return (body + tail).strip()


def twitter_link(text: str, url: str | None) -> str:
    link = "https://twitter.com/intent/tweet?text=" + _urlquote(text, safe="")
    if url:
        link += "&url=" + _urlquote(url, safe="")
    return link


def whatsapp_link(text: str) -> str:
    return "https://wa.me/?text=" + _urlquote(text, safe="")


def share_text(snip: Snip, episode: Episode, podcast: Podcast | None, *, base_url: str) -> ShareText:
    quote = snip_quote(snip)
    by = attribution(snip, episode, podcast)
    link = timestamp_link(base_url, episode.id, snip.start)
    episode_link = episode.link or None
    lines = []
    if quote:
        lines.append(f"“{quote}”")
    if by:
        lines.append(by)
    lines.append(f"▶ Listen from {format_clock(snip.start)}: {link}")
    if episode_link and episode_link != link:
        lines.append(f"Episode: {episode_link}")
    text = "\n".join(lines)
    tweet = compose_tweet(quote, by)
    return ShareText(
        text=text,
        quote=quote,
        attribution=by,
        link=link,
        episode_link=episode_link,
        start=max(0, int(snip.start)),
        twitter=twitter_link(tweet, link),
        whatsapp=whatsapp_link(text),
        tweet=tweet,
    )
