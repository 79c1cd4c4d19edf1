"""Defensive XML reading and writing for WeChat's flat `<xml>` documents.

Reading goes through defusedxml with DTDs forbidden (so no entity expansion and no XXE) and
streams events so that deep nesting is refused before a tree of it is built.
"""

from __future__ import annotations

import io
import re

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, iterparse

from bot.wechat.errors import BodyTooLarge, MalformedMessage

MAX_BODY_BYTES = 64 * 1024
MAX_DEPTH = 8  # <xml> is depth 1; WeChat's deepest event (SendPicsInfo/PicList/item/...) is 5
MAX_ELEMENTS = 256
MAX_FIELD_CHARS = 8192

# Characters XML 1.0 forbids everywhere, even inside CDATA.
_XML_ILLEGAL = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_TAG = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def parse_fields(xml: str) -> dict[str, str]:
    """Leaf texts of an `<xml>` document keyed by path below the root ("Tag" or "Parent/Child").

    The first occurrence of a repeated path wins. Raises MalformedMessage (or BodyTooLarge).
    """
    if len(xml) > MAX_BODY_BYTES:
        raise BodyTooLarge("xml document too large")
    try:
        return _collect(xml)
    except (ParseError, DefusedXmlException) as exc:
        raise MalformedMessage(f"xml rejected: {type(exc).__name__}") from exc
    except UnicodeError as exc:  # lone surrogates cannot be fed to expat
        raise MalformedMessage("xml is not valid unicode") from exc


def _collect(xml: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    path: list[str] = []
    elements = 0
    for event, elem in iterparse(io.StringIO(xml), events=("start", "end"), forbid_dtd=True):
        if event == "start":
            if not path and elem.tag != "xml":
                raise MalformedMessage("root element is not <xml>")
            path.append(elem.tag)
            elements += 1
            if len(path) > MAX_DEPTH:
                raise MalformedMessage("xml nested too deeply")
            if elements > MAX_ELEMENTS:
                raise MalformedMessage("too many xml elements")
            continue
        # Text is only complete at "end"; elements with children are containers, not fields.
        if len(path) > 1 and len(elem) == 0:
            text = elem.text or ""
            if len(text) > MAX_FIELD_CHARS:
                raise MalformedMessage("xml field too long")
            fields.setdefault("/".join(path[1:]), text)
        path.pop()
    return fields


def cdata(text: str) -> str:
    """`text` as a CDATA section: XML-illegal characters dropped, `]]>` split across sections."""
    safe = _XML_ILLEGAL.sub("", text).replace("]]>", "]]]]><![CDATA[>")
    return f"<![CDATA[{safe}]]>"


def element(tag: str, value: str | int | float) -> str:
    """One element: strings as CDATA, numbers bare (as WeChat writes CreateTime and MsgId)."""
    if not _TAG.fullmatch(tag):
        raise ValueError(f"invalid xml tag name: {tag!r}")
    body = cdata(value) if isinstance(value, str) else str(value)
    return f"<{tag}>{body}</{tag}>"
