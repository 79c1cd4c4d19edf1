"""The health answer of the daily check-in: 1 正常 / 2 发热 / 3 其他症状 / 4 已就医或隔离."""

from __future__ import annotations

import re
import unicodedata
from enum import Enum, StrEnum
from typing import Literal

from bot.flows.understanding.temperature import FEVER_FROM, Mention, leading_temperature, mentions
from bot.flows.understanding.text import Hit, Lexicon, prepare, strip_particles, word_list


class Health(StrEnum):
    NORMAL = "normal"
    FEVER = "fever"
    SYMPTOMS = "symptoms"
    TREATED = "treated"


# Worse answers win when a reply mentions several ("正常，就是有点咳嗽" is SYMPTOMS).
_SEVERITY = {Health.NORMAL: 0, Health.SYMPTOMS: 1, Health.FEVER: 2, Health.TREATED: 3}
_BY_NUMBER = {
    "1": Health.NORMAL,
    "2": Health.FEVER,
    "3": Health.SYMPTOMS,
    "4": Health.TREATED,
    "一": Health.NORMAL,
    "二": Health.FEVER,
    "三": Health.SYMPTOMS,
    "四": Health.TREATED,
}

# Pictures that answer the question: thumbs-up, OK hand, WeChat's [强] sticker, a thermometer face.
PICTURES = {
    "👍": "好",
    "👌": "好",
    "💪": "好",
    "[强]": "好",
    "[ok]": "好",
    "[胜利]": "好",
    "🤒": "发烧",
    "🤧": "感冒",
}


class _Tag(Enum):
    NORMAL = "normal"
    FEVER = "fever"
    SYMPTOMS = "symptoms"
    TREATED = "treated"
    TROUBLE = "trouble"  # 事 / 问题: means nothing alone, NORMAL when negated ("没事", "莫得问题")
    NEG = "neg"  # 不 / 未: negates what follows
    NEG_ALONE = "neg_alone"  # 没有 / 无: negates what follows, or alone answers "nothing wrong"
    NEG_WEAK = "neg_weak"  # 不怎么 / 不太: "not much", i.e. a little
    UNSURE = "unsure"  # 退烧了 / 好多了 / 不知道: the reply cannot be classified safely
    BREAK = "break"  # ends a negation: punctuation, tone particles, 但是, 有点
    NEUTRAL = "neutral"  # swallows words that would otherwise be misread (不好意思, 好几天)


_WORDS = {
    _Tag.NORMAL: """
        正常 挺好 很好 都好 身体好 健康 好的 好 还好 还行 不错 良好 安好 平安 蛮好 杠杠的 杠杠 贼好
        老好了 嘎嘎好 倍儿好 可以 无恙 舒服 硬朗 棒 ok okay fine good 体温不高
    """,
    _Tag.FEVER: """
        发烧 发热 发高烧 高烧 低烧 烧 体温高 体温偏高 体温有点高 体温升高 发烫 退烧药
    """,
    _Tag.SYMPTOMS: """
        咳嗽 咳 干咳 有痰 乏力 没劲 没力气 没有力气 无力 嗓子疼 嗓子痛 嗓子哑 喉咙痛 喉咙疼 咽痛
        咽喉痛 腹泻 拉肚子 头疼 头痛 头晕 胸闷 呼吸困难 气短 气喘 喘不上气 憋气 流鼻涕 流涕 鼻塞
        打喷嚏 感冒 不舒服 难受 不适 酸痛 肌肉痛 浑身疼 身上疼 恶心 呕吐 想吐 味觉 嗅觉 症状 异常 病
        生病 有病 不好 不太好 不大好 不咋好 不怎么好 不正常 没精神 疲劳 疲惫 累 吃药
    """,
    _Tag.TREATED: """
        就医 就诊 住院 隔离 医院 看病 看医生 看过医生 发热门诊 门诊 诊所 卫生院 输液 打针 打吊瓶
        挂水 吊水 确诊 疑似 留观 方舱 医学观察 居家观察
    """,
    _Tag.TROUBLE: """
        事 事儿 问题 毛病 大碍 异样
    """,
    _Tag.NEG: """
        不 未 不再 没再 从没 从来没 一点也不 一点都不 并不
    """,
    _Tag.NEG_ALONE: """
        没有 没 无 木有 没得 莫得 冇 没啥 没什么 都没有 啥也没有 啥都没有 什么都没有 并没有
        一点也没有 一点都没有
    """,
    _Tag.NEG_WEAK: """
        不怎么 不太 不大 不咋 不是很 不是太 不算
    """,
    _Tag.UNSURE: """
        退烧 退热 好多了 好点了 好些了 好一些了 不知道 不清楚 不确定 说不好 不好说 不晓得 解除隔离
        隔离结束 隔离期满
    """,
    _Tag.BREAK: """
        ， , 。 . ！ ! ？ ? ； ; ： : … ~ 啊 呀 哈 呢 嘛 哦 吧 啦 哟 喔 噢 诶
        但 但是 可是 就是 只是 不过 然而 倒是 有 有点 有些 有一点 还有 又 却
    """,
    _Tag.NEUTRAL: """
        不好意思 好像 好几 好久 好多 好些天 不用 不要 体温
    """,
}
_LEXICON = Lexicon({word: tag for tag, words in _WORDS.items() for word in word_list(words)})

# Between a negation and the word it negates ("没有任何不适", "没觉得哪里不舒服").
_MAX_GAP = 4
# Words joining a negated list: "没有发烧、咳嗽、乏力等症状".
_LIST_JOINERS = frozenset("、和或者及跟与也都还以等的")
_CONTENT = {
    _Tag.NORMAL: Health.NORMAL,
    _Tag.FEVER: Health.FEVER,
    _Tag.SYMPTOMS: Health.SYMPTOMS,
    _Tag.TREATED: Health.TREATED,
    _Tag.TROUBLE: None,
}
_NEGATED = {  # negated word → what the reply then says; TREATED negated ("没去医院") says nothing
    _Tag.NEG: {
        _Tag.NORMAL: Health.SYMPTOMS,
        _Tag.FEVER: Health.NORMAL,
        _Tag.SYMPTOMS: Health.NORMAL,
        _Tag.TROUBLE: Health.NORMAL,
    },
    _Tag.NEG_WEAK: {_Tag.NORMAL: Health.SYMPTOMS},  # "不太舒服"; "不怎么咳嗽" stays unclear
}
_OPTION = r"(?P<prefix>我?选(?:择|项)?第?|回复|答|第)?[(\[]?(?P<n>[1-4一二三四])[)\]]?(?:号|项|个|条)?"
_CHOICE = re.compile(_OPTION + r"(?P<rest>.*)")
# "2 38度", "2　38.5", "2. 38度": white space after the option number, before a number, separates the
# two; clean-up drops white space and would fuse them into "238度". Only before a number: "3 天前发烧"
# stays one phrase, as "3天前发烧".
_SPACED_CHOICE = re.compile(r"^\s*(?P<option>" + _OPTION + r")[.。、]?\s+(?=[\d零〇一二三四五六七八九十])")
_LEADING_PUNCTUATION = re.compile(r"^\W+")


class _Unclear(Enum):
    """The reply says contradictory or hedged things: better to ask again than to guess."""

    UNCLEAR = "unclear"


_Said = Health | None | Literal[_Unclear.UNCLEAR]


class _Reading:
    """Walks the tokens once, tracking which negation is open, collecting what the reply says."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.said: set[Health] = set()
        self.unsure = False
        self._negation: _Tag | None = None
        self._gap = 0
        self._listing = False  # just read a negated word: only list joiners keep the negation open
        self._lone = False  # a 没有 / 无 still waiting for its object

    def read(self) -> None:
        for hit in _LEXICON.scan(self.text):
            self._step(hit)
        self._close_lone()

    def _step(self, hit: Hit[_Tag]) -> None:
        tag = hit.value
        if tag is None:
            self._unknown(self.text[hit.start : hit.end])
        elif tag in _CONTENT:
            self._content(tag)
        elif tag in (_Tag.NEG, _Tag.NEG_ALONE, _Tag.NEG_WEAK):
            self._close_lone()
            self._negation, self._gap, self._listing = tag, 0, False
            self._lone = tag is _Tag.NEG_ALONE
        elif tag is _Tag.BREAK:
            self._close_lone()
            self._negation = None
        elif tag is _Tag.UNSURE:
            self.unsure = True
        else:
            self._unknown(self.text[hit.start : hit.end])

    def _content(self, tag: _Tag) -> None:
        self._lone = False
        if self._negation is None:
            health = _CONTENT[tag]
            if health is not None:
                self.said.add(health)
            return
        negated = _NEGATED.get(self._negation, _NEGATED[_Tag.NEG]).get(tag)
        if self._negation is _Tag.NEG_WEAK and tag is not _Tag.NORMAL:
            self.unsure = True
        elif negated is not None:
            self.said.add(negated)
        self._gap, self._listing = 0, True

    def _unknown(self, word: str) -> None:
        if self._lone and word in ("的", "了"):
            return
        self._lone = False
        self._gap += len(word)
        if self._gap > _MAX_GAP or (self._listing and word not in _LIST_JOINERS):
            self._negation = None

    def _close_lone(self) -> None:
        # A bare "没有" / "无" (only particles after it in its clause) answers "nothing wrong".
        if self._lone:
            self.said.add(Health.NORMAL)
        self._lone = False


def _worst(said: set[Health]) -> Health:
    return max(said, key=_SEVERITY.__getitem__)


def _temperature_says(found: list[Mention]) -> set[Health]:
    said: set[Health] = set()
    for mention in found:
        if mention.value >= FEVER_FROM and mention.qualifier in ("", "以上", "多"):
            said.add(Health.FEVER)
        elif mention.value < FEVER_FROM and mention.qualifier in ("", "以下"):
            said.add(Health.NORMAL)
    return said


def _words_say(text: str) -> _Said:
    """What the words of a reply say: the worst health mentioned, None for nothing."""
    if not text:
        return None
    reading = _Reading(text)
    reading.read()
    if reading.unsure:
        return _Unclear.UNCLEAR
    said = reading.said | _temperature_says(mentions(text))
    return _worst(said) if said else None


def _choice(text: str) -> re.Match[str] | None:
    """A reply that starts with an option number: "2", "选2", "①", "4，在医院"."""
    match = _CHOICE.fullmatch(text)
    if match is None:
        return None
    rest = match["rest"]
    if rest and not match["n"].isdigit() and not match["prefix"]:
        return None  # "一切正常", "三十七度五", "四肢无力": a Chinese numeral only counts alone
    if rest[:1].isdigit() or rest[:1] in (".", "。", "·"):
        return None  # "37.5", "12"
    return match


def _rest_says(rest: str) -> _Said:
    """What follows the option number. A number right after it must be a body temperature
    ("2，38", "2，38.5度"); any other ("1，2", "2，12") leaves the reply unclear."""
    words = _words_say(rest)
    after = _LEADING_PUNCTUATION.sub("", rest)
    if not after[:1].isdigit() or words is _Unclear.UNCLEAR:
        return words
    reading = leading_temperature(after)
    if reading is None:
        return _Unclear.UNCLEAR
    said = _temperature_says([reading]) | ({words} if words else set())
    return _worst(said) if said else None


def _combine(chosen: Health, words: _Said, separated: bool) -> Health | None:
    if words is chosen:
        return chosen
    if words is None:
        return chosen if separated else None
    if words is _Unclear.UNCLEAR or not separated or Health.NORMAL in (words, chosen):
        return None  # "1，发烧" contradicts itself; "3天前发烧" is not option 3
    return _worst({chosen, words})


def separate_choice(text: str) -> str:
    """ "2 38度" → "2，38度": the space after an option number kept as the separator it is."""
    return _SPACED_CHOICE.sub(r"\g<option>，", unicodedata.normalize("NFKC", text), count=1)


def parse_health(text: str) -> Health | None:
    """The resident's health answer, or None when the reply does not say it clearly."""
    reply = prepare(separate_choice(text), PICTURES)
    if reply is None:
        return None
    match = _choice(reply)
    if match is None:
        words = _words_say(reply)
        return None if words is _Unclear.UNCLEAR else words
    rest = strip_particles(match["rest"])
    return _combine(_BY_NUMBER[match["n"]], _rest_says(rest), separated=not rest[:1].isalnum())
