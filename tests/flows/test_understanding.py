"""Reply understanding: real-style replies (typed, voice-recognised, dialect) → what they mean."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.flows.understanding import (
    MAX_REPLY_CHARS,
    Health,
    ReturnPlan,
    Whereabouts,
    is_keyword,
    normalize,
    parse_health,
    parse_return_plan,
    parse_temperature,
    parse_whereabouts,
    parse_yes_no,
)
from bot.flows.understanding.places import known_places, mentioned

TODAY = date(2020, 2, 12)  # a Wednesday
N, F, S, T = Health.NORMAL, Health.FEVER, Health.SYMPTOMS, Health.TREATED


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  正常。 ", "正常"),
        ("１２３ＡＢＣ", "123abc"),
        ("好的👍👍", "好的"),
        ("👍🏻好", "好"),
        ("是的！！！", "是的"),
        ("[强][强]", ""),
        ("体温 36.5 ℃", "体温36.5°c"),
        ("No problem", "no problem"),
        ("～～没事～～", "没事"),
        ("（2）", "2"),
        ("1️⃣", "1"),
        ("正常\u200b", "正常"),
        ("我在　北京", "我在北京"),
        ("", ""),
        ("😷😷😷", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


HEALTH_CASES = [
    # option numbers, every way people type them
    ("1", N),
    ("２", F),
    ("3", S),
    ("4", T),
    ("①", N),
    ("选2", F),
    ("我选3", S),
    ("一", N),
    ("四", T),
    ("(2)", F),
    ("1。", N),
    ("1，正常", N),
    ("2发烧", F),
    ("4，在医院", T),
    ("4，发烧", T),
    ("1，发烧", None),
    ("3天前发烧", None),
    ("3 天前发烧", None),
    ("12", None),
    # the option, then a temperature, apart by whatever elderly users type
    ("2，38度", F),
    ("2 38度", F),
    ("2\u300038度", F),  # full-width space
    ("2\n38度", F),
    ("2  38.5", F),
    ("2 38.5", F),
    ("2 38", F),
    ("2. 38度", F),
    ("2、38度", F),
    ("2；38度", F),
    ("2：38度", F),
    ("2/38度", F),
    ("选2 38度", F),
    ("(2) 38度", F),
    ("2 三十八度", F),
    ("2 38度 咳嗽", F),
    ("3 38度", F),
    ("发烧 38度", F),
    # ...but never guessed when it is not a reading, or contradicts the option
    ("2.38度", None),
    ("2.38", None),
    ("238度", None),
    ("2 385", None),
    ("2 12", None),
    ("1 2", None),
    ("1，2", None),
    ("2，3", None),
    ("2 37度", None),
    ("2 36.5", None),
    ("1 38度", None),
    # plain words
    ("正常", N),
    ("一切正常", N),
    ("挺好的", N),
    ("都好，谢谢关心！", N),
    ("身体好着呢", N),
    ("杠杠的", N),
    ("好的", N),
    ("OK", N),
    ("👍", N),
    ("[强]", N),
    ("还行吧", N),
    ("没事", N),
    ("没事没事", N),
    ("莫得事", N),
    ("没得问题", N),
    ("没有", N),
    ("没有啊", N),
    ("木有", N),
    ("无", N),
    ("啥事没有", N),
    ("没毛病", N),
    # negations
    ("不发烧", N),
    ("没发烧", N),
    ("没有咳嗽", N),
    ("一点都不烧", N),
    ("没有发烧、咳嗽、乏力等症状", N),
    ("无发热咳嗽", N),
    ("没有发烧的症状", N),
    ("没有不舒服", N),
    ("没觉得哪里不舒服", N),
    ("不好意思，我没发烧", N),
    ("没有，挺好", N),
    ("没有咳嗽但是发烧", F),
    ("不发烧，就是有点咳嗽", S),
    ("不是很好", S),
    ("不太舒服", S),
    ("还没好", S),
    ("不怎么咳嗽", None),
    # symptoms and treatment
    ("发烧了", F),
    ("有点低烧", F),
    ("发热，38度", F),
    ("嗓子疼。", S),
    ("拉肚子", S),
    ("浑身没劲", S),
    ("四肢无力", S),
    ("都挺好，就是有点累", S),
    ("感冒了🤧", S),
    ("在医院隔离", T),
    ("正在居家隔离。", T),
    ("去了发热门诊", T),
    ("发烧咳嗽，住院了", T),
    ("没有去医院", None),
    # temperatures decide
    ("37.8", F),
    ("三十七度五", F),
    ("体温37.5", F),
    ("36.5", N),
    ("体温36度5，正常", N),
    ("36.5，咳嗽", S),
    ("2 发热37.3℃以上", F),
    # unclear: never guess
    ("退烧了", None),
    ("好多了", None),
    ("不知道", None),
    ("在北京", None),
    ("嗯", None),
    ("不", None),
    ("", None),
    ("😷", None),
]


@pytest.mark.parametrize(("text", "expected"), HEALTH_CASES)
def test_parse_health(text: str, expected: Health | None) -> None:
    assert parse_health(text) == expected


TEMPERATURE_CASES = [
    ("37.8", "37.8"),
    ("37.8度", "37.8"),
    ("３７．８", "37.8"),
    ("37度8", "37.8"),
    ("三十七度五", "37.5"),
    ("三十七点五", "37.5"),
    ("三十六度", "36.0"),
    ("36度", "36.0"),
    ("37度半", "37.5"),
    ("体温36.5℃", "36.5"),
    ("体温：36.5°C。", "36.5"),
    ("早上量了36.8度，正常", "36.8"),
    ("36.55", "36.6"),
    ("36。5", "36.5"),
    ("37", "37.0"),
    ("体温37", "37.0"),
    ("38.5摄氏度", "38.5"),
    ("四十度", "40.0"),
    ("三十九度二", "39.2"),
    # not a body temperature, or not one clear reading
    ("30度", None),
    ("45度", None),
    ("365", None),
    ("37.555", None),
    ("我今年40岁", None),
    ("昨天37.8今天36.5", None),
    ("37.3℃以上", None),
    ("38度多", None),
    ("三十七八度", None),
    ("正常", None),
    ("", None),
]


@pytest.mark.parametrize(("text", "expected"), TEMPERATURE_CASES)
def test_parse_temperature(text: str, expected: str | None) -> None:
    result = parse_temperature(text)
    assert result == (None if expected is None else Decimal(expected))
    if result is not None:
        assert result.as_tuple().exponent == -1  # always one decimal


YES_NO_CASES = [
    ("是", True),
    ("是的", True),
    ("是的。", True),
    ("嗯嗯", True),
    ("嗯呐", True),
    ("恩", True),
    ("对对对", True),
    ("有", True),
    ("好的👌", True),
    ("👍", True),
    ("Yes", True),
    ("Y", True),
    ("1", True),
    ("１", True),
    ("对，我在北京", True),
    ("否", False),
    ("不是的", False),
    ("没有呢", False),
    ("没有。", False),
    ("不不不", False),
    ("木有", False),
    ("没得", False),
    ("莫得", False),
    ("No", False),
    ("n", False),
    ("2", False),
    ("❌", False),
    ("嗯，没有", None),
    ("是，不是", None),
    ("可能吧", None),
    ("3", None),
    ("", None),
]


@pytest.mark.parametrize(("text", "expected"), YES_NO_CASES)
def test_parse_yes_no(text: str, expected: bool | None) -> None:
    assert parse_yes_no(text) is expected


def _at(city: str) -> Whereabouts:
    return Whereabouts(unchanged=False, city=city)


STAYED = Whereabouts(unchanged=True, city=None)

WHEREABOUTS_CASES = [
    ("没变", STAYED),
    ("还在这", STAYED),
    ("不变。", STAYED),
    ("同上", STAYED),
    ("1", STAYED),
    ("一样", STAYED),
    ("还在那边😊", STAYED),
    ("北京", _at("北京")),
    ("武汉市", _at("武汉")),
    ("在广州", _at("广州")),
    ("现在深圳宝安区", _at("深圳")),
    ("哈尔滨", _at("哈尔滨")),
    ("我现在在北京市朝阳区", _at("北京")),
    ("黑龙江哈尔滨", _at("哈尔滨")),
    ("湖北省", _at("湖北")),
    ("内蒙", _at("内蒙古")),
    ("在延边朝鲜族自治州", _at("延边")),
    ("大兴安岭地区", _at("大兴安岭")),
    ("在吉林市", _at("吉林")),
    ("在兰西", _at("兰西")),
    ("从武汉回来了，现在在北京", _at("北京")),
    ("不在北京了，在天津", _at("天津")),
    ("老家黑龙江，现在在大连", _at("大连")),
    ("变了，去上海了", _at("上海")),
    ("魔都", _at("上海")),
    ("没变，还在北京。", Whereabouts(unchanged=True, city="北京")),
    # unclear
    ("2", None),
    ("变了", None),
    ("不一样了", None),
    ("北京和武汉", None),
    ("我是哈尔滨人", None),
    ("在阿里巴巴上班", None),
    ("小兴安岭", None),
    ("在中山路", None),
    ("在外地打工", None),
    ("", None),
]


@pytest.mark.parametrize(("text", "expected"), WHEREABOUTS_CASES)
def test_parse_whereabouts(text: str, expected: Whereabouts | None) -> None:
    assert parse_whereabouts(text) == expected


def _on(year: int, month: int, day: int) -> ReturnPlan:
    return ReturnPlan("date", date(year, month, day))


RETURNED = ReturnPlan("returned")
UNDECIDED = ReturnPlan("undecided")

RETURN_CASES = [
    ("已经回来了", RETURNED),
    ("已返回", RETURNED),
    ("到家了。", RETURNED),
    ("在兰西", RETURNED),
    ("今天到家了", ReturnPlan("returned", TODAY)),
    ("2月10号就回来了", ReturnPlan("returned", date(2020, 2, 10))),
    ("不确定", UNDECIDED),
    ("还没定", UNDECIDED),
    ("待定", UNDECIDED),
    ("不回了", UNDECIDED),
    ("暂不回", UNDECIDED),
    ("疫情结束再说吧", UNDECIDED),
    ("2020-02-20", _on(2020, 2, 20)),
    ("2020/2/20", _on(2020, 2, 20)),
    ("2020.2.20", _on(2020, 2, 20)),
    ("2020年2月20日", _on(2020, 2, 20)),
    ("２０２０－０２－２０", _on(2020, 2, 20)),
    ("2月20日", _on(2020, 2, 20)),
    ("2月20号回", _on(2020, 2, 20)),
    ("二月二十号", _on(2020, 2, 20)),
    ("2/20", _on(2020, 2, 20)),
    ("20号", _on(2020, 2, 20)),
    ("二十号。", _on(2020, 2, 20)),
    ("5号", _on(2020, 3, 5)),
    ("下个月5号", _on(2020, 3, 5)),
    ("明天", _on(2020, 2, 13)),
    ("明天下午回来", _on(2020, 2, 13)),
    ("明天就到家了", _on(2020, 2, 13)),
    ("后天", _on(2020, 2, 14)),
    ("大后天", _on(2020, 2, 15)),
    ("下周一", _on(2020, 2, 17)),
    ("下星期天", _on(2020, 2, 23)),
    ("周三", _on(2020, 2, 19)),
    ("星期五", _on(2020, 2, 14)),
    ("礼拜二", _on(2020, 2, 18)),
    ("这周五", _on(2020, 2, 14)),
    ("三天后", _on(2020, 2, 15)),
    ("3天以后", _on(2020, 2, 15)),
    ("一周后", _on(2020, 2, 19)),
    ("半个月后", _on(2020, 2, 27)),
    ("月底", _on(2020, 2, 29)),
    ("下个月底吧", _on(2020, 3, 31)),
    ("大概下周三。", _on(2020, 2, 19)),
    ("3月1号左右", _on(2020, 3, 1)),
    # unclear
    ("2月5日", None),
    ("2020-02-01", None),
    ("这周一", None),
    ("2月30日", None),
    ("2030年1月1日", None),
    ("2月20号或者21号", None),
    ("正月十五", None),
    ("过了初八", None),
    ("周末", None),
    ("过几天", None),
    ("几天后", None),
    ("下个月", None),
    ("马上到家了", None),
    ("还没回来", None),
    ("明天回来，不确定", None),
    ("已经回来了，下周一", None),
    ("", None),
]


@pytest.mark.parametrize(("text", "expected"), RETURN_CASES)
def test_parse_return_plan(text: str, expected: ReturnPlan | None) -> None:
    assert parse_return_plan(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        ("1月3日", date(2020, 12, 28), date(2021, 1, 3)),  # said at the year's end: next January
        ("5号", date(2020, 12, 20), date(2021, 1, 5)),
        ("月底", date(2020, 2, 29), date(2020, 2, 29)),
        ("一个月后", date(2020, 1, 31), date(2020, 2, 29)),  # clamped to the month's end
        ("周三", date(2020, 2, 11), date(2020, 2, 12)),
        ("31号", date(2020, 2, 20), None),  # there is no 31 February
    ],
)
def test_return_dates_around_month_and_year_ends(text: str, today: date, expected: date | None) -> None:
    plan = parse_return_plan(text, today)
    assert (plan.on if plan else None) == expected


def test_is_keyword() -> None:
    assert is_keyword("取消。", {"取消", "退出"})
    assert is_keyword("ＴＤ", {"td"})
    assert is_keyword("帮助吧", ["帮助"])
    assert not is_keyword("取消报名", {"取消"})
    assert not is_keyword("", {"取消"})


def test_word_lists_cover_every_province_and_prefecture() -> None:
    places = known_places()
    provinces = {place.name for place in places if place.is_province}
    assert len(provinces) == 34
    assert len(places) > 600
    assert {place.province for place in places} == provinces
    # Short names drop 市 / 省; only two-character cities such as 津市 and 芒市 keep it.
    assert not [
        place.name
        for place in places
        if place.name.endswith("省") or (len(place.name) > 2 and place.name.endswith("市"))
    ]


def test_place_scan_skips_origins_and_districts() -> None:
    assert [place.name for place in mentioned("从武汉回来，老家长春，住北京朝阳区")] == ["北京"]


CORPUS = [text for text, _ in HEALTH_CASES + YES_NO_CASES] + [text for text, _ in RETURN_CASES]
# Patterns that would make a careless regex or scanner backtrack or loop.
PATTERNS = ["1", "没", "没有发烧", "三十七度", "37.", "北京", "👍", "[强", "2月", "不怎么", "周", "3天", "、"]


@pytest.mark.parametrize("unit", PATTERNS)
@pytest.mark.parametrize("length", [MAX_REPLY_CHARS, 100_000])
def test_hostile_long_replies_are_unclear_and_fast(unit: str, length: int) -> None:
    text = (unit * length)[:length]
    started = time.perf_counter()
    health, yes_no = parse_health(text), parse_yes_no(text)
    parse_temperature(text), parse_whereabouts(text), parse_return_plan(text, TODAY)
    assert time.perf_counter() - started < 0.5
    if length > MAX_REPLY_CHARS:
        assert (health, yes_no) == (None, None)
        assert parse_temperature(text) is None
        assert parse_whereabouts(text) is None
        assert parse_return_plan(text, TODAY) is None


def test_replies_longer_than_the_limit_are_not_read() -> None:
    reply = "正常" + "，" * (MAX_REPLY_CHARS - 3) + "好"
    assert parse_health(reply) == N
    assert parse_health(reply + "好") is None
    assert parse_health("很好，" + "谢谢" * 100) == N
    assert parse_health("很好" + "👍" * 1000) == N  # decoration does not count towards the limit


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=60)
    | st.sampled_from(CORPUS).flatmap(lambda s: st.just(s) | st.text(max_size=5).map(s.__add__))
)
def test_parsers_never_fail_on_any_text(text: str) -> None:
    assert parse_health(text) in {*Health, None}
    assert parse_yes_no(text) in {True, False, None}
    temperature = parse_temperature(text)
    assert temperature is None or Decimal("34.0") <= temperature <= Decimal("43.0")
    plan = parse_return_plan(text, TODAY)
    assert plan is None or plan.kind != "date" or (plan.on is not None and plan.on >= TODAY)
    place = parse_whereabouts(text)
    assert place is None or place.unchanged or place.city
