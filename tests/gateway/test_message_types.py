"""Every message type through the real callback and the real router (bound resident, no flow open)."""

from __future__ import annotations

import secrets
import time
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import ConversationState, Resident, WeChatIdentity, utcnow
from bot.runtime import Runtime
from bot.webhook import oa_credentials
from bot.wechat import protocol
from tests.factories import make_resident

OPENID = "oTypesResident0001"


@pytest.fixture()
def bound(db: Session, rt: Runtime) -> Resident:
    resident = make_resident(db, name="王大山")
    db.add(
        WeChatIdentity(
            account=rt.settings.wechat.app_id, openid=OPENID, resident_id=resident.id, bound_at=utcnow()
        )
    )
    db.commit()
    return resident


def say(client: FlaskClient, rt: Runtime, **fields: Any) -> str:
    now = int(time.time())
    fields.setdefault("MsgId", secrets.randbelow(10**12)) if fields.get("MsgType") != "event" else None
    xml = protocol.render_inbound_xml(ToUserName="gh_lanxi", FromUserName=OPENID, CreateTime=now, **fields)
    args, body = protocol.build_oa_callback(
        oa_credentials(rt), xml, mode="safe", timestamp=now, nonce="nonce1"
    )
    response = client.post("/wechat/callback", query_string=args, data=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    if response.get_data() in (b"", b"success"):
        return ""
    return protocol.parse_message(protocol.open_reply(oa_credentials(rt), response.get_data())).content or ""


GENERAL_HELP = "疫情防控服务号"


@pytest.mark.usefixtures("bound")
@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"MsgType": "text", "Content": "随便说点什么"}, GENERAL_HELP),
        ({"MsgType": "image", "PicUrl": "http://x.invalid/p.jpg", "MediaId": "m1"}, GENERAL_HELP),
        ({"MsgType": "link", "Title": "文章", "Description": "d", "Url": "http://x.invalid/a"}, GENERAL_HELP),
        (
            {"MsgType": "location", "Location_X": 46.2, "Location_Y": 126.3, "Scale": 15, "Label": "兰西"},
            GENERAL_HELP,
        ),
        ({"MsgType": "voice", "MediaId": "v1", "Format": "amr"}, "没有听清"),
        ({"MsgType": "voice", "MediaId": "v2", "Format": "amr", "Recognition": "我要举报。"}, "辟谣"),
        ({"MsgType": "text", "Content": "举报"}, "辟谣"),
        ({"MsgType": "event", "Event": "CLICK", "EventKey": "TIP"}, "辟谣"),
        ({"MsgType": "event", "Event": "CLICK", "EventKey": "HELP"}, GENERAL_HELP),
        ({"MsgType": "event", "Event": "VIEW", "EventKey": "https://x.invalid/"}, ""),
        ({"MsgType": "event", "Event": "TEMPLATESENDJOBFINISH", "Status": "success"}, ""),
        (
            {"MsgType": "event", "Event": "LOCATION", "Latitude": 46.2, "Longitude": 126.3, "Precision": 10},
            "",
        ),
        ({"MsgType": "shortvideo", "MediaId": "s1", "ThumbMediaId": "t1"}, GENERAL_HELP),
        ({"MsgType": "miniprogrampage", "Title": "小程序"}, GENERAL_HELP),
    ],
)
def test_message_types(client: FlaskClient, rt: Runtime, fields: dict[str, Any], expected: str) -> None:
    reply = say(client, rt, **fields)
    if expected:
        assert expected in reply
    else:
        assert reply == ""


def test_a_flow_continues_across_messages_and_cancels(
    client: FlaskClient, rt: Runtime, db: Session, bound: Resident
) -> None:
    assert "辟谣" in say(client, rt, MsgType="text", Content="举报")
    state = db.scalar(select(ConversationState))
    assert state is not None and state.flow == "rumor_tip"
    assert say(client, rt, MsgType="text", Content="取消")
    db.expire_all()
    assert db.scalar(select(ConversationState)) is None


def test_unsubscribe_ends_the_conversation(
    client: FlaskClient, rt: Runtime, db: Session, bound: Resident
) -> None:
    say(client, rt, MsgType="text", Content="举报")
    assert say(client, rt, MsgType="event", Event="unsubscribe") == ""
    db.expire_all()
    identity = db.scalar(select(WeChatIdentity).where(WeChatIdentity.openid == OPENID))
    assert identity is not None and not identity.subscribed and identity.resident_id == bound.id
    assert db.scalar(select(ConversationState)) is None
