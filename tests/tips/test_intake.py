"""The tip conversation through the real router and database: what reporters see, what gets stored."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.config import replace
from bot.flows.definitions import load_flows
from bot.flows.messages import template_names
from bot.models import Tip, TipChannel, utcnow
from bot.runtime import Runtime
from bot.services import tips
from tests.factories import make_tip
from tests.tips.support import Chat

TICKET = re.compile(r"T\d{8}-\d{4}")


def only_tip(db: Session) -> Tip:
    return db.scalars(select(Tip)).one()


def test_a_text_tip_gets_a_ticket_and_is_stored_and_clustered(rt: Runtime, db: Session) -> None:
    chat = Chat(rt, "oReporterText")
    assert "您看到的说法是什么" in chat.send("我要举报")
    assert "在哪里看到的" in chat.send("听说县医院已经住满了发热病人，明天开始全县封路")
    assert "什么时候看到的" in chat.send("小区业主群")
    closing = chat.send("今天上午")
    ticket = TICKET.search(closing)
    assert ticket and f"查询 {ticket[0]}" in closing
    tip = only_tip(db)
    assert tip.ticket == ticket[0] and tip.channel == TipChannel.WECHAT and tip.kind == "text"
    assert (
        tip.text.startswith("听说县医院") and tip.seen_where == "小区业主群" and tip.seen_when == "今天上午"
    )
    assert tip.reporter_identity_id == chat.identity(db).id
    assert tip.cluster_id is not None and tip.media_state == ""
    today = utcnow().astimezone(rt.settings.tz).strftime("%Y%m%d")
    assert tip.ticket == f"T{today}-0001"


def test_a_forwarded_link_keeps_its_address_and_title(rt: Runtime, db: Session) -> None:
    chat = Chat(rt, "oReporterLink")
    chat.send("举报")
    url = "https://mp.weixin.qq.com/s?__biz=MzA&mid=1&idx=1&sn=abc&scene=21#wechat_redirect"
    assert "在哪里看到的" in chat.send(msg_type="link", title="兰西今晚封城？", description="转发", url=url)
    chat.send("家族群")
    assert TICKET.search(chat.send("昨天晚上"))
    tip = only_tip(db)
    assert (tip.kind, tip.text, tip.url) == ("link", "兰西今晚封城？", url)
    assert tip.normalized_url == "https://mp.weixin.qq.com/s?__biz=MzA&mid=1&idx=1&sn=abc"


def test_a_screenshot_waits_for_its_picture_before_clustering(rt: Runtime, db: Session) -> None:
    chat = Chat(rt, "oReporterImage")
    chat.send("举报")
    reply = chat.send(msg_type="image", media_id="MEDIA-1", pic_url="http://mmbiz.qpic.cn/x.jpg")
    assert "在哪里看到的" in reply
    chat.send("朋友圈")
    assert TICKET.search(chat.send("刚才"))
    tip = only_tip(db)
    assert (tip.kind, tip.text, tip.url) == ("image", "", "")  # WeChat's own picture URL is not a lead
    assert (tip.media_ref, tip.media_state) == ("MEDIA-1", "pending")
    assert tip.cluster_id is None  # placed by its perceptual hash once the tip_media job fetched it


def test_a_voice_note_is_filed_by_its_recognised_words_and_its_audio_fetched_later(
    rt: Runtime, db: Session
) -> None:
    chat = Chat(rt, "oReporterVoice")
    chat.send("举报")
    chat.send(msg_type="voice", media_id="VOICE-1", recognition="有人说喝白酒能预防新冠病毒。")
    chat.send("亲戚群")
    assert TICKET.search(chat.send(msg_type="voice", media_id="VOICE-2", recognition="今天中午。"))
    tip = only_tip(db)
    assert (tip.kind, tip.media_ref, tip.media_state) == ("voice", "VOICE-1", "pending")
    assert "白酒" in tip.text and tip.seen_when == "今天中午。"
    assert tip.cluster_id is not None  # the words are enough to cluster it now


def test_cancelling_files_nothing(rt: Runtime, db: Session) -> None:
    chat = Chat(rt, "oReporterCancel")
    chat.send("举报")
    chat.send("说是明天停水停电")
    assert "已取消举报" in chat.send("取消")
    assert db.scalar(select(func.count(Tip.id))) == 0


def test_the_daily_limit_is_explained_politely_and_nothing_is_filed(rt: Runtime, db: Session) -> None:
    limited = replace(rt.settings, tips={"per_reporter_daily_limit": 2})
    chat = Chat(Runtime(limited, rt.engine, rt.sessions), "oReporterBusy")
    assert TICKET.search(chat.file("第一条：超市明天全部关门"))
    assert TICKET.search(chat.file("第二条：喝板蓝根能防病毒"))
    refused = chat.file("第三条：某某村出现疑似病例")
    assert "请明天再提交" in refused and not TICKET.search(refused)
    assert db.scalar(select(func.count(Tip.id))) == 2


def test_a_blocked_reporter_is_told_kindly_and_nothing_is_filed(rt: Runtime, db: Session) -> None:
    chat = Chat(rt, "oReporterBlocked")
    chat.identity(db).tips_blocked = True
    db.commit()
    refused = chat.file("县里明天要全城消毒，不许出门")
    assert "暂时无法使用" in refused and rt.settings.advisories.hotline in refused
    assert db.scalar(select(func.count(Tip.id))) == 0


def test_tickets_count_per_local_day(rt: Runtime, db: Session) -> None:
    tz = rt.settings.tz
    late = datetime(2020, 2, 15, 23, 59, tzinfo=tz)
    first = make_tip(db, rt.settings, "说是今晚十二点封城", now=late)
    second = make_tip(db, rt.settings, "说是今晚十二点封城了", now=late + timedelta(seconds=30))
    third = make_tip(db, rt.settings, "说是今晚十二点封城啦", now=late + timedelta(minutes=2))
    assert [first.ticket, second.ticket, third.ticket] == [
        "T20200215-0001",
        "T20200215-0002",
        "T20200216-0001",
    ]


# --- 查询 -------------------------------------------------------------------------------------------


def test_a_reporter_can_ask_about_their_own_ticket(rt: Runtime) -> None:
    chat = Chat(rt, "oAsker")
    ticket = TICKET.search(chat.file("有人说吃大蒜能治新冠肺炎"))
    assert ticket
    answer = chat.send(f"查询 {ticket[0]}")
    assert ticket[0] in answer and "等待网警核实" in answer
    assert ticket[0] in chat.send(f"查询{ticket[0].lower()}")  # spacing and case do not matter


def test_nobody_can_read_someone_elses_tip_and_cannot_tell_it_exists(rt: Runtime) -> None:
    owner, other = Chat(rt, "oOwner"), Chat(rt, "oSnooper")
    ticket = TICKET.search(owner.file("听说某某小区有确诊病例，物业瞒着不报"))
    assert ticket
    others_answer = other.send(f"查询 {ticket[0]}")
    missing = ticket[0][:-4] + "9999"
    nobody_answer = other.send(f"查询 {missing}")
    assert others_answer == nobody_answer.replace(missing, ticket[0])
    assert "没有查到" in others_answer and "小区" not in others_answer


def test_my_tips_lists_only_the_askers_own(rt: Runtime) -> None:
    mine, theirs = Chat(rt, "oMine"), Chat(rt, "oTheirs")
    own = TICKET.search(mine.file("说是口罩要凭身份证限购"))
    other = TICKET.search(theirs.file("说是明天起公交全部停运"))
    assert own and other
    listing = mine.send("查询我的举报")
    assert own[0] in listing and other[0] not in listing
    assert "还没有提交过" in Chat(rt, "oNewcomer").send("我的举报")


def test_the_command_accepts_every_ticket_the_service_issues() -> None:
    flows = load_flows(templates=template_names())
    assert "举报" in flows["rumor_tip"].triggers
    assert tips.TICKET_RE.fullmatch("T20200215-0042") and tips.TICKET_RE.fullmatch("T20200215-12345")


@pytest.mark.parametrize("kind", ["image", "voice"])
def test_media_tips_without_a_media_id_are_not_fetched(rt: Runtime, db: Session, kind: str) -> None:
    tip = make_tip(db, rt.settings, "图片里说封路了", kind=kind, media_ref="")
    assert tip.media_state == "" and tip.cluster_id is not None
