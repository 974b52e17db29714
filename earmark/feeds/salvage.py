"""Repair feeds that are broken in the ways real feeds are broken, so their episodes still load.

Each repair is tried only after the strict parse failed:
1. bytes before ``<?xml`` (a newline or BOM left by a template),
2. bytes that are not valid in the declared encoding (Latin-1 / cp1252 text in a UTF-8 feed),
3. anything else lxml's recovering parser can read (mismatched or unclosed tags, undefined
   HTML entities), plus a missing ``<channel>`` start tag.
Entity expansion and network access stay off throughout.
"""

from __future__ import annotations

import re

from lxml import etree

_DECLARATION = re.compile(rb"^<\?xml[^>]*\?>")
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*(<!doctype\s+html|<html[\s>])", re.IGNORECASE | re.DOTALL)


def looks_like_html(content: bytes) -> bool:
    return bool(_HTML_START.match(content[:4096].lstrip(b"\xef\xbb\xbf")))


def _strip_leading(content: bytes) -> bytes:
    start = content.find(b"<")
    return content[start:] if start > 0 else content


def _fix_encoding(content: bytes) -> bytes | None:
    """Re-encode as UTF-8 when the bytes do not decode in the declared encoding."""
    declaration = _DECLARATION.match(content)
    declared = b"utf-8"
    if declaration and (match := _ENCODING.search(declaration.group(0))):
        declared = match.group(1)
    try:
        content.decode(declared.decode("ascii"))
        return None  # the encoding is not what is wrong
    except LookupError:
        pass  # unknown encoding name: fall through to cp1252
    except UnicodeDecodeError:
        pass
    text = content.decode("cp1252", errors="replace")
    body = text[declaration.end():] if declaration else text
    return b'<?xml version="1.0" encoding="UTF-8"?>' + body.encode("utf-8")


def _recover(content: bytes) -> bytes | None:
    parser = etree.XMLParser(
        recover=True, resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError:
        return None
    if root is None:
        return None
    if etree.QName(root).localname == "rss" and root.find("channel") is None:
        # A feed that lost its <channel> start tag: the channel's children sit directly in <rss>.
        channel = etree.SubElement(root, "channel")
        for child in list(root):
            if child is not channel:
                channel.append(child)
    if not len(root):
        return None
    return etree.tostring(root, encoding="utf-8", xml_declaration=True)


def salvage(content: bytes) -> bytes | None:
    """A repaired document, or None when nothing readable is left."""
    content = _strip_leading(content.lstrip(b"\xef\xbb\xbf"))
    fixed = _fix_encoding(content)
    if fixed is not None:
        content = fixed
    return _recover(content)
