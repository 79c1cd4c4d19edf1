"""Normalisation of rumor tips: the keys that near-duplicate clustering compares.

The same rumor reaches us reworded, forwarded with 转发/扩散 framing, in traditional
characters, with emoji and links. Text and links are reduced to comparable keys here;
the fuzzy comparison itself lives in ``tip_clustering``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import zhconv

# ASCII-only URL body: Chinese text often follows a link without a space.
_URL_RE = re.compile(r"(?:https?://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+", re.IGNORECASE)

# Framing that appears anywhere in a forward and never carries the rumor itself.
_ANYWHERE = (
    "请转发给身边的人",
    "请转发给身边的朋友",
    "请转发给家人朋友",
    "转给家人朋友",
    "转给身边的人",
    "转给家人",
    "转发给家人",
    "转发到家族群",
    "转发到家庭群",
    "不转不是中国人",
    "互相转告",
    "相互转告",
    "转发周知",
    "扩散周知",
    "紧急扩散",
    "转发扩散",
    "扩散转发",
    "看到请转发",
    "看到的转发一下",
    "速看",
    "速转",
    "网页链接",
    "点击链接",
    "点击查看",
    "点击阅读原文",
)

# Framing that is only stripped at the start or the end (inside a sentence it may be content).
_EDGE = (
    "紧急通知",
    "重要通知",
    "重要消息",
    "重要提醒",
    "紧急提醒",
    "最新消息",
    "内部消息",
    "可靠消息",
    "据可靠消息",
    "据内部消息",
    "据说",
    "听说",
    "网传",
    "刚刚",
    "刚才",
    "突发",
    "震惊",
    "大家注意",
    "大家注意了",
    "注意了",
    "家人们",
    "朋友们",
    "各位",
    "各位群友",
    "各位家长",
    "温馨提示",
    "友情提醒",
    "千真万确",
    "转发",
    "扩散",
    "转起来",
    "请转发",
    "请扩散",
    "都转发一下",
    "转发一下",
    "马上转发",
    "赶紧转发",
    "快转",
    "求证",
    "举报",
    "有人说",
    "群里有人说",
    "群里都在传",
    "群里说",
    "我在群里看到",
    "朋友圈都在传",
    "朋友圈看到的",
    "是真的吗",
    "真的假的",
    "是不是真的",
    "是谣言吗",
    "请核实",
    "麻烦核实一下",
    "请警察核实",
)


def _alternation(phrases: tuple[str, ...]) -> str:
    # Longest first so that 大家注意了 wins over 大家注意.
    return "|".join(re.escape(p) for p in sorted(set(phrases), key=len, reverse=True))


_ANYWHERE_RE = re.compile(_alternation(_ANYWHERE))
_PREFIX_RE = re.compile(f"^(?:{_alternation(_EDGE)})+")
_SUFFIX_RE = re.compile(f"(?:{_alternation(_EDGE)})+$")

_TRACKING_PARAMS = frozenset(
    {
        "from",
        "isappinstalled",
        "scene",
        "subscene",
        "ascene",
        "clicktime",
        "enterid",
        "sessionid",
        "share_token",
        "sharer_sharetime",
        "sharer_shareid",
        "sharer_shareinfo",
        "sharer_shareinfo_first",
        "share_source",
        "shareid",
        "srcid",
        "chksm",
        "mpshare",
        "devicetype",
        "version",
        "nettype",
        "lang",
        "exportkey",
        "pass_ticket",
        "wx_header",
        "key",
        "uin",
        "abtest_cookie",
        "realreporttime",
        "spm",
        "vd_source",
        "xhsshare",
        "fbclid",
        "gclid",
    }
)
_WEIXIN_ARTICLE_KEYS = ("__biz", "mid", "idx", "sn")
# Older article links name the same fields differently.
_WEIXIN_ALIASES = {"appmsgid": "mid", "itemidx": "idx", "sign": "sn"}


def extract_urls(text: str) -> list[str]:
    """Every http(s)/www link in ``text``, in order, as written."""
    return [m.group(0).rstrip(".,;:!?)]'") for m in _URL_RE.finditer(unicodedata.normalize("NFKC", text))]


def _keep_char(ch: str) -> bool:
    # Letters and digits only: drops punctuation, symbols (emoji), marks and whitespace.
    return unicodedata.category(ch)[0] in "LN"


def _strip_framing(text: str) -> str:
    previous = None
    while previous != text:
        previous = text
        text = _PREFIX_RE.sub("", text)
        text = _SUFFIX_RE.sub("", text)
    return text


@cache
def _load_zhconv_dictionary() -> None:
    # zhconv's default loader leaves its dictionary file open (a ResourceWarning); given a path, it closes it.
    zhconv.loaddict(str(Path(zhconv.__file__).with_name("zhcdict.json")))


def normalize_tip_text(text: str) -> str:
    """Reduce a tip to the characters that identify its rumor.

    NFKC, traditional → simplified, links removed, lower case, only letters and digits kept,
    then forwarding boilerplate (转发/扩散/紧急通知/请转发给身边的人 ...) removed.
    """
    text = unicodedata.normalize("NFKC", text)
    text = _URL_RE.sub(" ", text)
    _load_zhconv_dictionary()
    text = zhconv.convert(text, "zh-cn").lower()
    text = "".join(ch for ch in text if _keep_char(ch))
    text = _ANYWHERE_RE.sub("", text)
    return _strip_framing(text)


def _weixin_article_query(pairs: list[tuple[str, str]]) -> str | None:
    fields: dict[str, str] = {}
    for name, value in pairs:
        field = _WEIXIN_ALIASES.get(name, name)
        if field in _WEIXIN_ARTICLE_KEYS and field not in fields:
            fields[field] = value
    if not all(k in fields for k in _WEIXIN_ARTICLE_KEYS):
        return None
    return urlencode([(k, fields[k]) for k in _WEIXIN_ARTICLE_KEYS])


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in _TRACKING_PARAMS or lowered.startswith(("utm_", "sharer_"))


def normalize_url(url: str) -> str:
    """A key under which links to the same page compare equal.

    Lower-case scheme (http → https) and host, default port, ``www.`` and fragment dropped,
    tracking and share parameters removed, the rest sorted; WeChat articles
    (mp.weixin.qq.com) keyed by __biz + mid + idx + sn alone.
    """
    raw = unicodedata.normalize("NFKC", url).strip()
    if raw.lower().startswith("www."):
        raw = "https://" + raw
    parts = urlsplit(raw)
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return raw
    host = host.removeprefix("www.")
    if parts.port is not None and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    path = parts.path.rstrip("/") or "/"
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = _weixin_article_query(pairs) if host == "mp.weixin.qq.com" else None
    if query is None:
        query = urlencode(sorted((k, v) for k, v in pairs if not _is_tracking(k)))
    return urlunsplit(("https", host, path, query, ""))


class PlaceNames:
    """Known place names (townships, estates, hospitals ...) found in normalised tip text.

    Two tips that name different known places are different rumors however alike the rest
    reads (榆林镇阳光小区有人确诊 vs 临江镇幸福家园有人确诊).
    """

    def __init__(self, names: Iterable[str]) -> None:
        keys = {normalize_tip_text(name) for name in names}
        # Longest first, so 兰西镇阳光小区 is not read as 兰西镇 alone when both are listed.
        alternation = "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True) if k)
        self._pattern = re.compile(alternation) if alternation else None

    def find(self, normalised_text: str) -> frozenset[str]:
        if self._pattern is None:
            return frozenset()
        return frozenset(self._pattern.findall(normalised_text))
