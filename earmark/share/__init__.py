"""Sharing a snip: text with a timestamp link, Twitter/X and WhatsApp links, a quote card PNG and
an audio clip."""

from earmark.artwork import load_artwork
from earmark.share.clip import Clip, make_clip
from earmark.share.quote_card import (
    SIZES,
    SOCIAL,
    SQUARE,
    render_card,
    save_card,
    snip_card,
)
from earmark.share.text import ShareText, share_text

__all__ = [
    "SIZES", "SOCIAL", "SQUARE", "Clip", "ShareText", "load_artwork", "make_clip", "render_card",
    "save_card", "share_text", "snip_card",
]
