"""Sharing a snip: text with a timestamp link, Twitter/X and WhatsApp links, a quote card PNG and
an audio clip."""

from earmark.share.card import (
    SIZES,
    SOCIAL,
    SQUARE,
    load_artwork,
    render_card,
    save_card,
    snip_card,
)
from earmark.share.clip import Clip, make_clip
from earmark.share.text import ShareText, share_text

__all__ = [
    "SIZES", "SOCIAL", "SQUARE", "Clip", "ShareText", "load_artwork", "make_clip", "render_card",
    "save_card", "share_text", "snip_card",
]
