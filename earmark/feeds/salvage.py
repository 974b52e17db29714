"""Repair feeds that are broken in the ways real feeds are broken, so their episodes still load.

Repairs are tried only after the strict parse failed, least invasive first (``repairs``):
1. bytes before ``<?xml`` (a newline or BOM left by a template) removed,
2. bytes that are not valid in the declared encoding (Latin-1 / cp1252 text in a UTF-8 feed)
   re-encoded,
3. anything else lxml's recovering parser can read (mismatched or unclosed tags, undefined
   HTML entities), plus a missing ``<channel>`` start tag.
Entity expansion and network access stay off throughout; documents that declare entities are
not repaired at all (``declares_entities``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.entities import html5

from lxml import etree

_DECLARATION = re.compile(rb"^<\?xml[^>]*\?>")
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*(<!doctype\s+html|<html[\s>])", re.IGNORECASE | re.DOTALL)
# An internal DTD subset that declares an entity; it can only come before the root element.
_ENTITY_DECLARATION = re.compile(rb"<!DOCTYPE[^>\[]*\[[^\]]*<!ENTITY", re.IGNORECASE)


def looks_like_html(content: bytes) -> bool:
    return bool(_HTML_START.match(content[:4096].lstrip(b"\xef\xbb\xbf")))


def declares_entities(content: bytes) -> bool:
    return bool(_ENTITY_DECLARATION.search(content, 0, 65536))


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
    _replace_entity_references(root)
    return etree.tostring(root, encoding="utf-8", xml_declaration=True)


def _replace_entity_references(root) -> None:
    """Undefined entities (``&nbsp;``, ``&eacute;`` from HTML) stay in lxml's tree as references
    and would be written back for the strict parser to refuse again: put the HTML character in
    their place, or nothing for a name HTML does not know either."""
    for entity in list(root.iter(etree.Entity)):
        text = html5.get(entity.name + ";", "") + (entity.tail or "")
        parent = entity.getparent()
        previous = entity.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + text
        else:
            parent.text = (parent.text or "") + text
        parent.remove(entity)


def repairs(content: bytes) -> Iterator[bytes]:
    """Repaired versions of ``content``, each more invasive than the last; lazily, so the strict
    parser can stop at the first that reads (a stray newline needs no lxml round trip)."""
    stripped = _strip_leading(content.lstrip(b"\xef\xbb\xbf"))
    if stripped != content:
        yield stripped
    fixed = _fix_encoding(stripped)
    if fixed is not None:
        stripped = fixed
        yield fixed
    recovered = _recover(stripped)
    if recovered is not None:
        yield recovered


def salvage(content: bytes) -> bytes | None:
    """The most thoroughly repaired document, or None when nothing readable is left."""
    last = None
    for last in repairs(content):
        pass
    return last
