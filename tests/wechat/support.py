"""A follower talking to our callback the way WeChat posts it, for tests that go end to end."""

from __future__ import annotations

import itertools
import secrets
import time

from flask.testing import FlaskClient

from bot.fake_wechat import FakeWeChatServer
from bot.runtime import Runtime
from bot.webhook import oa_credentials
from bot.wechat.client import build_oa_callback, open_reply
from bot.wechat.messages import render_inbound_xml
from bot.wechat.xmlsafe import parse_fields

_msgids = itertools.count(int(time.time() * 1000))


class WeChatUser:
    """A follower writing to the Official Account the way WeChat posts it: signed, AES-encrypted XML."""

    def __init__(self, client: FlaskClient, rt: Runtime, fake: FakeWeChatServer, openid: str) -> None:
        self.client, self.creds, self.fake, self.openid = client, oa_credentials(rt), fake, openid
        self.account = rt.settings.wechat.app_id

    def send(self, text: str) -> str:
        """Our passive reply's text ("" when we answered "success" and reply later, if at all)."""
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
