"""Repair feeds that are broken in the ways real feeds are broken, so their episodes still load.

Repairs are tried only after the strict parse failed, least invasive first (``repairs``):
1. bytes before ``<?xml`` (a newline or BOM left by a template) removed,
2. bytes that are not valid in the declared encoding (Latin-1 / cp1252 text in a UTF-8 feed)
   re-encoded,
3. bare ``&`` and HTML-only entities (``&nbsp;``, ``&eacute;``) turned into XML,
4. anything else lxml's recovering parser can read (mismatched or unclosed tags), plus a
   missing ``<channel>`` start tag.
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
_LITERAL = re.compile(rb"(<!\[CDATA\[.*?\]\]>|<!--.*?-->)", re.DOTALL)
_REFERENCE = re.compile(rb"&(#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{0,31};)?")
_XML_ENTITIES = {b"amp;", b"lt;", b"gt;", b"quot;", b"apos;"}
_XML_REFERENCE = re.compile(rb"&(amp|lt|gt|quot|apos);")
_NUMERIC = {b"amp": b"&#38;", b"lt": b"&#60;", b"gt": b"&#62;", b"quot": b"&#34;", b"apos": b"&#39;"}
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


def _escape_reference(match: re.Match) -> bytes:
    reference = match.group(1)
    if reference is None:
        return b"&amp;"  # a bare "&", as in "Q&A" or an unescaped query string
    if reference.startswith(b"#") or reference in _XML_ENTITIES:
        return match.group(0)
    character = html5.get(reference.decode("ascii"))
    if character is None:
        return b"&amp;" + reference  # not HTML either: show it as written
    return "".join(f"&#{ord(c)};" for c in character).encode("ascii")


def _fix_references(content: bytes) -> bytes | None:
    """Bare ``&`` and HTML-only entities (``&nbsp;``) made XML, outside CDATA and comments."""
    fixed = _outside_literals(_REFERENCE, _escape_reference, content)
    return fixed if fixed != content else None


def _outside_literals(pattern: re.Pattern, replace, content: bytes) -> bytes:
    parts = _LITERAL.split(content)
    parts[::2] = [pattern.sub(replace, part) for part in parts[::2]]
    return b"".join(parts)


def _recover(content: bytes) -> bytes | None:
    parser = etree.XMLParser(
        recover=True, resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    # Once libxml2's recovery (2.14) has met an error it drops every later &amp; / &lt; / …, so
    # "Q&A" and escaped HTML descriptions would be mangled; numeric references survive.
    content = _outside_literals(_XML_REFERENCE, lambda m: _NUMERIC[m.group(1)], content)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError:
        return None
    if root is None:
        return None
    if etree.QName(root).localname == "rss":
        channel = root.find("channel")
        if channel is None:
            # A feed that lost its <channel> start tag: the channel's children sit directly in <rss>.
            channel = etree.SubElement(root, "channel")
            for child in list(root):
                if child is not channel:
                    channel.append(child)
        # libxml2 recovers from a stray or unclosed tag by closing too much or too little: items
        # end up after </channel> or inside the item before. They all belong in the channel.
        for item in list(root.iter("item")):
            if item.getparent() is not channel:
                channel.append(item)
    if not len(root):
        return None
    return etree.tostring(root, encoding="utf-8", xml_declaration=True)


def repairs(content: bytes) -> Iterator[bytes]:
    """Repaired versions of ``content``, each building on and more invasive than the last; lazily,
    so the strict parser can stop at the first that reads (a stray newline needs no lxml)."""
    current = _strip_leading(content.lstrip(b"\xef\xbb\xbf"))
    if current != content:
        yield current
    if (fixed := _fix_encoding(current)) is not None:
        yield (current := fixed)
    # Before lxml, which would drop a bare "&" with the word after it.
    if (fixed := _fix_references(current)) is not None:
        yield (current := fixed)
    if (recovered := _recover(current)) is not None:
        yield recovered


def salvage(content: bytes) -> bytes | None:
    """The most thoroughly repaired document, or None when nothing readable is left."""
    last = None
    for last in repairs(content):
        pass
    return last
