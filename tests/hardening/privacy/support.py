"""Shared by the privacy hardening tests: the demo loaded into a database, and its secrets listed."""

from __future__ import annotations

import itertools
import secrets
import time
from datetime import UTC, datetime

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import demo
from bot.config import Settings
from bot.fake_wechat import FakeWeChatServer
from bot.models import Resident, TipChannel
from bot.runtime import Runtime
from bot.services import tips
from bot.webhook import oa_credentials
from bot.wechat.client import build_oa_callback, open_reply
from bot.wechat.messages import render_inbound_xml
from bot.wechat.xmlsafe import parse_fields

DEMO_RESIDENTS = 300
_msgids = itertools.count(int(time.time() * 1000))
REPORTER_CONTACT = "举报人微信 tipster_lanxi_7731，电话 13700137731"


def seed_demo(db: Session, settings: Settings) -> None:
    """The small demo, plus a tip whose reporter left a contact (the demo's tips have none)."""
    assert demo.seed(db, settings, residents=DEMO_RESIDENTS)
    tips.submit(
        db,
        settings,
        tips.NewTip(
            channel=TipChannel.FORM,
            reporter_hash=tips.reporter_hash_of_client("198.51.100.7"),
            text="群里说县医院封了，不知真假",
            contact=REPORTER_CONTACT,
        ),
        now=datetime.now(UTC),
    )


def resident_identifiers(db: Session) -> set[str]:
    """Every ID number and phone of the residents, read (decrypted) through the ORM."""
    found: set[str] = set()
    for person in db.scalars(select(Resident)):
        found.update(v for v in (person.id_number, person.phone) if v)
    return found


def hits(haystack: bytes | str, needles: set[str]) -> list[str]:
    text = haystack if isinstance(haystack, str) else haystack.decode("utf-8", errors="replace")
    return sorted(n for n in needles if n in text)


class WeChatUser:
    """A follower writing to the Official Account the way WeChat posts it: signed, AES-encrypted XML."""

    def __init__(self, client: FlaskClient, rt: Runtime, fake: FakeWeChatServer, openid: str) -> None:
        self.client, self.creds, self.fake, self.openid = client, oa_credentials(rt), fake, openid
        self.account = rt.settings.wechat.app_id

    def send(self, text: str) -> str:
        self.fake.state.user_interaction(self.openid)  # WeChat opens the customer-service window
        now = int(time.time())
        xml = render_inbound_xml(
            ToUserName=self.account,
            FromUserName=self.openid,
            CreateTime=now,
            MsgType="text",
            Content=text,
            MsgId=next(_msgids),
        )
        args, body = build_oa_callback(
            self.creds, xml, mode="safe", timestamp=now, nonce=secrets.token_hex(8)
        )
        response = self.client.post("/wechat/callback", query_string=args, data=body, content_type="text/xml")
        assert response.status_code == 200, response.get_data(as_text=True)
        if response.data == b"success":
            return ""
        return parse_fields(open_reply(self.creds, response.data))["Content"]
