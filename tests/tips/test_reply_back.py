"""The verdict reaches every reporter through the outbox and the local WeChat (customer or template)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channels import build_channels
from bot.delivery.inline import drain
from bot.delivery.rate import RateGate
from bot.fake_wechat import FakeWeChatServer, FakeWeChatState
from bot.models import ClusterStatus, OutboxMessage, OutboxStatus, Tip, TipCluster, utcnow
from bot.runtime import Runtime
from bot.services import tip_replies, tip_review
from tests.factories import make_tip
from tests.tips.support import VERDICT_TEMPLATE, Chat, cluster_of, pointed_at, reviewer

RUMOR = "紧急通知：兰西县明天起封城，所有超市关门，赶紧去囤米囤面！"
DEBUNK = "兰西县没有封城，超市、药店正常营业，请不要听信谣言。"
TICKET = re.compile(r"T\d{8}-\d{4}")


@pytest.fixture
def fake(rt: Runtime) -> Iterator[FakeWeChatServer]:
    state = FakeWeChatState()
    state.register_app(rt.settings.wechat.app_id, rt.settings.wechat.app_secret)
    state.register_template(VERDICT_TEMPLATE)
    with FakeWeChatServer(state) as server:
        yield server


@pytest.fixture
def wrt(rt: Runtime, fake: FakeWeChatServer) -> Runtime:
    return Runtime(pointed_at(rt.settings, fake.url), rt.engine, rt.sessions)


def deliver_all(rt: Runtime) -> int:
    return drain(rt, build_channels(rt), RateGate())


def file_and_cluster(rt: Runtime, db: Session, *chats: Chat) -> TipCluster:
    tickets = [TICKET.search(chat.file(RUMOR + "！" * n)) for n, chat in enumerate(chats)]
    assert all(tickets)
    clusters = {cluster_of(db, tip).id for tip in db.scalars(select(Tip))}
    assert len(clusters) == 1
    found = db.get(TipCluster, clusters.pop())
    assert found is not None
    return found


def decide_rumor(rt: Runtime, db: Session, cluster: TipCluster) -> int:
    queued = tip_review.decide(
        db,
        rt.settings,
        reviewer(db, "网警"),
        cluster,
        verdict=ClusterStatus.RUMOR,
        reason="经核实，县疫情防控指挥部未发布封城通知",
        debunk=DEBUNK,
        now=utcnow(),
    )
    db.commit()
    return queued


def test_every_reporter_hears_the_verdict_in_the_way_their_window_allows(
    wrt: Runtime, db: Session, fake: FakeWeChatServer
) -> None:
    talking, silent, closed_meanwhile = Chat(wrt, "oTalking"), Chat(wrt, "oSilent"), Chat(wrt, "oClosed")
    cluster = file_and_cluster(wrt, db, talking, silent, closed_meanwhile)
    make_tip(db, wrt.settings, RUMOR, reporter="8.8.8.8")  # a form reporter: the status page tells them
    fake.state.user_interaction("oTalking")  # WeChat's window is open for this one only
    fake.state.add_follower("oSilent")
    fake.state.add_follower("oClosed")
    silent.identity(db).last_user_message_at = utcnow() - timedelta(days=3)
    db.commit()

    assert decide_rumor(wrt, db, cluster) == 3
    assert deliver_all(wrt) == 3

    custom = fake.state.delivered("custom", "oTalking")
    assert len(custom) == 1
    text = custom[0].payload["text"]["content"]
    assert "谣言" in text and DEBUNK in text and TICKET.search(text)
    for openid in ("oSilent", "oClosed"):  # closed as we knew it, or closed before delivery (45015)
        (card,) = fake.state.delivered("template", openid)
        assert card.payload["template_id"] == VERDICT_TEMPLATE
        assert card.payload["data"]["keyword2"]["value"] == "经核实，这是谣言。"
        assert "/report/status/T" in card.payload["url"]
    assert fake.state.delivered("custom", "oSilent") == fake.state.delivered("custom", "oClosed") == []
    statuses = db.scalars(select(OutboxMessage.status)).all()
    assert set(statuses) == {OutboxStatus.SENT}


def test_a_decision_messages_each_reporter_once(wrt: Runtime, db: Session, fake: FakeWeChatServer) -> None:
    twice = Chat(wrt, "oTwice")
    fake.state.user_interaction("oTwice")
    cluster = file_and_cluster(wrt, db, twice, twice)
    decide_rumor(wrt, db, cluster)
    assert (
        tip_replies.reply_to_reporters(db, wrt.settings, cluster, utcnow()) == 0
    )  # asked again: nothing new
    deliver_all(wrt)
    (message,) = fake.state.delivered("custom", "oTwice")
    assert len(TICKET.findall(message.payload["text"]["content"])) == 2  # both tickets in one message
    keys = db.scalars(select(OutboxMessage.idempotency_key)).all()
    first_tip = min(t.id for t in db.scalars(select(Tip)))
    assert keys == [f"tip:{first_tip}:verdict"]


def test_a_tip_joining_a_decided_cluster_gets_the_verdict_at_once(
    wrt: Runtime, db: Session, fake: FakeWeChatServer
) -> None:
    cluster = file_and_cluster(wrt, db, Chat(wrt, "oEarly"))
    decide_rumor(wrt, db, cluster)
    late = Chat(wrt, "oLate")
    fake.state.user_interaction("oLate")
    closing = late.file(RUMOR + "，速转！")
    assert TICKET.search(closing)
    deliver_all(wrt)
    (message,) = fake.state.delivered("custom", "oLate")
    assert DEBUNK in message.payload["text"]["content"]
    assert "经核实，这是谣言" in late.send(f"查询 {TICKET.search(closing)[0]}")  # type: ignore[index]


def test_a_corrected_verdict_reaches_the_reporters_again(
    wrt: Runtime, db: Session, fake: FakeWeChatServer
) -> None:
    fake.state.user_interaction("oCorrected")
    cluster = file_and_cluster(wrt, db, Chat(wrt, "oCorrected"))
    decide_rumor(wrt, db, cluster)
    admin = reviewer(db, "复核")
    tip_review.reopen(db, wrt.settings, admin, cluster, reason="有新证据", now=utcnow())
    tip_review.decide(
        db, wrt.settings, admin, cluster, verdict=ClusterStatus.TRUE, reason="属实", now=utcnow()
    )
    db.commit()
    deliver_all(wrt)
    texts = [d.payload["text"]["content"] for d in fake.state.delivered("custom", "oCorrected")]
    assert len(texts) == 2 and "情况属实" in texts[1] and DEBUNK not in texts[1]


def test_unsubscribed_reporters_are_not_messaged(wrt: Runtime, db: Session) -> None:
    gone = Chat(wrt, "oGone")
    cluster = file_and_cluster(wrt, db, gone)
    gone.identity(db).subscribed = False
    assert decide_rumor(wrt, db, cluster) == 0
