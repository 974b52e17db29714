"""Feed HTML made safe to show: show notes go through nh3 (ammonia) before they reach a page or the API."""

from __future__ import annotations

from html import escape

import nh3

LINK_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener noreferrer nofollow"


def sanitize_html(html: str) -> str:
    """No scripts, styles, event handlers or ``javascript:``/``data:`` URLs; links only http(s) and
    mailto (relative ones are dropped: they would point into this app), all with ``rel`` set."""
    return nh3.clean(html or "", url_schemes=LINK_SCHEMES, link_rel=LINK_REL, url_relative="deny")


def text_to_html(text: str) -> str:
    """Plain text as escaped paragraphs (line breaks kept)."""
    paragraphs = [p.strip() for p in (text or "").split("\n\n") if p.strip()]
    return "".join("<p>" + escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs)


def show_notes_html(description_html: str, description: str) -> str:
    return sanitize_html(description_html) if description_html.strip() else text_to_html(description)
