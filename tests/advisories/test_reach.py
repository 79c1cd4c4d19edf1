"""Reach: the public page's counters (bots and repeat visits do not inflate them), acknowledgements."""

from __future__ import annotations

from datetime import timedelta
from types import MappingProxyType

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.clock import now_utc
from bot.conversations import handlers
from bot.models import OutboxMessage, ReachEvent, Role
from bot.models.enums import OutboxStatus, ReachKind
from bot.runtime import Runtime
from bot.services import advisories, advisory_reach, advisory_sending, identities
from bot.services.audit import SYSTEM, Actor
from bot.wechat.messages import InboundMessage
from tests.advisories.support import approved_advisory, make_team
from tests.factories import make_group, make_user

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 13_3 like Mac OS X) MicroMessenger/7.0.10"
OTHER_PHONE = "Mozilla/5.0 (Linux; Android 10; HMA-AL00) MicroMessenger/7.0.12"


def published(db: Session, rt: Runtime, *groups, **kw):  # type: ignore[no-untyped-def]
    advisory = approved_advisory(db, rt, make_team(db), groups or [make_group(db)], **kw)
    advisory_sending.start(db, rt.settings, SYSTEM, advisory, now_utc())
    db.commit()
    return advisory


def tokens(db: Session, advisory) -> dict[int, str]:  # type: ignore[no-untyped-def]
    return {row.group_id: row.share_token for row in advisory_sending.targets(db, advisory)}


def count(db: Session, kind: ReachKind) -> int:
    return db.scalar(select(func.count(ReachEvent.id)).where(ReachEvent.kind == kind)) or 0


def visit(client: FlaskClient, path: str, agent: str = PHONE, ip: str = "10.1.2.3"):  # type: ignore[no-untyped-def]
    return client.get(path, headers={"User-Agent": agent}, environ_base={"REMOTE_ADDR": ip})


def test_opens_count_once_per_client_and_day_and_bots_not_at_all(
    db: Session, rt: Runtime, client: FlaskClient
) -> None:
    group = make_group(db)
    advisory = published(db, rt, group, title="致{{ county }}居民的倡议书")
    path = f"/a/{tokens(db, advisory)[group.id]}"
    first = visit(client, path)
    page = first.get_data(as_text=True)
    assert first.status_code == 200 and "致兰西县居民的倡议书" in page and "0455-5623110" in page
    assert first.headers["Cache-Control"] == "no-store"
    for _ in range(3):
        visit(client, path)
    for bot in ("Googlebot/2.1", "curl/8.0", "python-requests/2.31", "", "Mozilla/5.0 HeadlessChrome/120"):
        assert visit(client, path, agent=bot).status_code == 200  # served, not counted
    visit(client, path, agent=OTHER_PHONE)
    visit(client, path, ip="10.9.9.9")
    assert count(db, ReachKind.OPEN) == 3
    row = db.scalar(select(ReachEvent).where(ReachEvent.kind == ReachKind.OPEN))
    assert row is not None and "10.1.2.3" not in row.client_hash and row.delivery_id is not None


def test_the_next_day_the_same_client_counts_again(db: Session, rt: Runtime) -> None:
    advisory = published(db, rt)
    page = advisory_reach.find_page(db, advisory.public_token)
    assert page is not None and page.delivery is None
    now = now_utc()
    opens = [
        advisory_reach.record_visit(
            db, rt.settings, page, ReachKind.OPEN, ip="1.1.1.1", user_agent=PHONE, now=at
        )
        for at in (now, now + timedelta(minutes=5), now + timedelta(days=1))
    ]
    assert opens == [True, False, True]


def test_shares_are_posted_counted_once_and_redirect_with_instructions(
    db: Session, rt: Runtime, client: FlaskClient
) -> None:
    group = make_group(db)
    advisory = published(db, rt, group)
    token = tokens(db, advisory)[group.id]
    for _ in range(3):
        response = client.post(f"/a/{token}/share", headers={"User-Agent": PHONE})
        assert response.status_code == 303 and response.headers["Location"].endswith(f"/a/{token}?shared=1")
    client.post(f"/a/{token}/share", headers={"User-Agent": "Baiduspider"})
    assert count(db, ReachKind.SHARE) == 1
    assert "右上角" in visit(client, f"/a/{token}?shared=1").get_data(as_text=True)
    assert client.get(f"/a/{token}/share").status_code == 405  # no counting on GET
    reach = advisory_reach.reach_table(db, advisory)
    assert reach.totals.forwarded == 1 and reach.totals.opened == 1
    assert advisory_reach.total_forwards(db) == 1


def test_unpublished_and_unknown_pages_are_not_found_and_withdrawn_ones_say_so(
    db: Session, rt: Runtime, client: FlaskClient
) -> None:
    team = make_team(db)
    draft = approved_advisory(db, rt, team, [make_group(db)])
    db.commit()
    assert client.get(f"/a/{draft.public_token}").status_code == 404
    assert client.get("/a/no-such-token").status_code == 404
    advisory = published(db, rt)
    advisories.cancel(db, Actor.staff(team.composer), advisory, now_utc())
    db.commit()
    withdrawn = client.get(f"/a/{advisory.public_token}")
    assert withdrawn.status_code == 410 and "已撤回" in withdrawn.get_data(as_text=True)
    assert count(db, ReachKind.OPEN) == 0


@pytest.mark.parametrize("body_format", ["text", "markdown"])
def test_hostile_html_is_shown_as_text(
    db: Session, rt: Runtime, client: FlaskClient, body_format: str
) -> None:
    advisory = published(
        db,
        rt,
        title="<script>alert(1)</script>倡议",
        body="<img src=x onerror=alert(2)>\n\n[点我](javascript:alert(3))",
        body_format=body_format,
    )
    page = client.get(f"/a/{advisory.public_token}", headers={"User-Agent": PHONE}).get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert "<img src=x" not in page and "javascript:" not in page.replace("[点我](javascript:alert(3))", "")
    assert 'href="javascript' not in page


def test_cover_images_are_served_for_published_pages_only(
    db: Session, rt: Runtime, client: FlaskClient
) -> None:
    from bot.services.advisory_cover import prepare_cover
    from tests.advisories.test_cover import png

    cover = prepare_cover(png())
    advisory = published(db, rt, cover=cover)
    response = client.get(f"/a/{advisory.public_token}/cover")
    assert response.status_code == 200 and response.mimetype == "image/png" and response.data == cover[0]
    assert f"/a/{advisory.public_token}/cover" in client.get(f"/a/{advisory.public_token}").get_data(
        as_text=True
    )


# -- acknowledgements -----------------------------------------------------------------------------------


def _sent(db: Session, advisory) -> None:  # type: ignore[no-untyped-def]
    """Mark every target's message as accepted by WeChat now (as delivery would)."""
    for row in advisory_sending.targets(db, advisory):
        if row.outbox_id:
            message = db.get(OutboxMessage, row.outbox_id)
            assert message is not None
            message.status, message.sent_at = OutboxStatus.SENT, now_utc()
    db.commit()


def _message(sender: str, text: str, account: str, n: int, **raw: str) -> InboundMessage:
    return InboundMessage(
        account=account,
        sender=sender,
        create_time=1581724800 + n,
        msg_type="text",
        msg_id=str(9000 + n),
        content=text,
        raw=MappingProxyType(raw),
    )


def _wecom(db: Session, rt: Runtime, sender: str, text: str, n: int, **raw: str) -> str:
    msg = _message(sender, text, rt.settings.wecom.corp_id, n, **raw)
    identity = identities.get_or_create(db, msg.account, sender)
    replies = handlers(rt.settings)["wecom"](db, msg, identity, now_utc())
    return "".join(replies.texts)


def _oa(db: Session, rt: Runtime, sender: str, text: str, n: int) -> str:
    msg = _message(sender, text, rt.settings.wechat.app_id, n)
    identity = identities.get_or_create(db, msg.account, sender)
    return "".join(handlers(rt.settings)["official_account"](db, msg, identity, now_utc()).texts)


def test_wecom_acknowledgements_from_an_app_chat_count_once_per_person(db: Session, rt: Runtime) -> None:
    chat = make_group(db, "wecom_appchat", chat_id="townchat01")
    other_chat = make_group(db, "wecom_appchat", chat_id="townchat02")
    advisory = published(db, rt, chat, other_chat)
    _sent(db, advisory)
    assert _wecom(db, rt, "lisi", "收到！", 1, ChatId="townchat01") == ""  # silent in group chats
    _wecom(db, rt, "lisi", "已收到", 2, ChatId="townchat01")
    _wecom(db, rt, "wangwu", "👌", 3, ChatId="townchat01")
    _wecom(db, rt, "zhaoliu", "收到，明天开会", 4, ChatId="townchat01")  # not an acknowledgement
    _wecom(db, rt, "zhaoliu", "收到", 5, ChatId="nochat")  # a chat that got nothing
    rows = {r.label: r.reach.acknowledged for r in advisory_reach.reach_table(db, advisory).rows}
    assert rows == {chat.name: 2, other_chat.name: 0}


def test_wecom_acknowledgement_of_a_customer_group_owner_and_the_window(db: Session, rt: Runtime) -> None:
    customers = make_group(db, "wecom_customer_group", owner_userid="owner77")
    advisory = published(db, rt, customers)
    _sent(db, advisory)
    _wecom(db, rt, "owner77", "好的，收到", 1)
    assert advisory_reach.reach_table(db, advisory).totals.acknowledged == 1
    late = now_utc() + advisory_reach.ACK_WINDOW + timedelta(hours=1)
    assert advisory_reach.ack_target_wecom(db, "owner77", "", late) is None


def test_official_account_followers_acknowledge_the_latest_mass_send(db: Session, rt: Runtime) -> None:
    followers = make_group(db, "oa_tag", tag_id=0)
    assert "感谢支持" not in _oa(db, rt, "oFollower1", "收到", 1)  # nothing to acknowledge yet
    assert count(db, ReachKind.ACK) == 0
    advisory = published(db, rt, followers)
    _sent(db, advisory)
    assert _oa(db, rt, "oFollower1", "收到", 2) == ""  # counted, silently
    _oa(db, rt, "oFollower1", "已收到", 3)
    _oa(db, rt, "oFollower2", "收到了", 4)
    assert advisory_reach.reach_table(db, advisory).totals.acknowledged == 2
    assert "感谢支持" not in _oa(db, rt, "oFollower3", "👍", 5)  # a "yes" in a check-in, not taken here


def test_timeline_buckets_by_local_hour(db: Session, rt: Runtime) -> None:
    group = make_group(db)
    advisory = published(db, rt, group)
    _sent(db, advisory)
    page = advisory_reach.find_page(db, tokens(db, advisory)[group.id])
    assert page is not None
    now = now_utc()
    for n, at in enumerate((now, now + timedelta(hours=2))):
        advisory_reach.record_visit(
            db, rt.settings, page, ReachKind.OPEN, ip=f"9.9.9.{n}", user_agent=PHONE, now=at
        )
    data = advisory_reach.timeline(db, rt.settings, advisory)
    assert data["bucket"] == "hour" and len(data["labels"]) == 3
    assert data["series"]["opened"] == [1, 0, 1] and sum(data["series"]["delivered"]) == 1


def test_totals_across_advisories(db: Session, rt: Runtime) -> None:
    cadre = make_user(db, Role.STATION_OFFICER)
    manual = make_group(db, "manual", owner_staff_id=cadre.id)
    robot = make_group(db)
    first, second = published(db, rt, manual), published(db, rt, robot)
    _sent(db, second)
    [task] = advisory_sending.tasks_for(db, rt.settings, cadre)
    advisory_sending.mark_forwarded(db, cadre, SYSTEM, task.delivery_id, now_utc())
    page = advisory_reach.find_page(db, tokens(db, second)[robot.id])
    assert page is not None
    advisory_reach.record_visit(
        db, rt.settings, page, ReachKind.SHARE, ip="2.2.2.2", user_agent=PHONE, now=now_utc()
    )
    totals = advisory_reach.totals_by_advisory(db, [first, second])
    assert (totals[first.id].delivered, totals[first.id].forwarded) == (1, 1)
    assert (totals[second.id].delivered, totals[second.id].forwarded) == (1, 1)
    assert advisory_reach.total_forwards(db) == 2
