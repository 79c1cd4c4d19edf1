"""The fake's small pure helpers."""

from __future__ import annotations

import pytest

from bot.fake_wechat.faults import FaultBook, normalize_endpoint
from bot.fake_wechat.limits import SlidingWindow, shanghai_day, shanghai_month
from bot.fake_wechat.protocol import truncate_utf8
from bot.fake_wechat.records import Fault


@pytest.mark.parametrize(
    "name", ["message/custom/send", "cgi-bin/message/custom/send", "/cgi-bin/message/custom/send?x=1"]
)
def test_normalize_endpoint(name: str) -> None:
    assert normalize_endpoint(name) == "/cgi-bin/message/custom/send"


def test_normalize_keeps_other_roots() -> None:
    assert normalize_endpoint("sns/oauth2/access_token") == "/sns/oauth2/access_token"
    assert normalize_endpoint("*") == "*"


def test_fault_book_prefers_order_and_counts_uses() -> None:
    book = FaultBook()
    book.inject(Fault("user/info", errcode=-1, times=2))
    book.inject(Fault("*", errcode=45009, times=None))
    assert [f.errcode for f in (book.take("/cgi-bin/user/info") for _ in range(3)) if f] == [-1, -1, 45009]
    assert book.take("/cgi-bin/token") is not None  # the wildcard stays


def test_shanghai_calendar_turns_at_utc_16() -> None:
    assert shanghai_day(1_700_063_999.0) == "2023-11-15"  # 2023-11-15 15:59:59 UTC
    assert shanghai_day(1_700_064_000.0) == "2023-11-16"
    assert shanghai_month(1_701_359_999.0) == "2023-11"  # 2023-11-30 15:59:59 UTC
    assert shanghai_month(1_701_360_000.0) == "2023-12"


def test_sliding_window() -> None:
    window = SlidingWindow(lambda: 2, 60.0)
    assert [window.try_acquire("k", t) for t in (0.0, 1.0, 2.0, 60.0, 61.0, 61.5)] == [
        True,
        True,
        False,
        True,
        True,
        False,
    ]


def test_truncate_utf8_never_splits_a_character() -> None:
    assert truncate_utf8("通告abc", 4) == "通"
    assert truncate_utf8("通告abc", 6) == "通告"
    assert truncate_utf8("ab", 10) == "ab"
