"""The callback protocol layer: round trips, every refusal path, parsing and reply rendering."""

from __future__ import annotations

import base64
import contextlib
import struct
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wechatpy.crypto import PrpCrypto
from wechatpy.crypto.base import WeChatCipher

from bot.wechat import crypto
from bot.wechat.protocol import (
    MAX_BODY_BYTES,
    BadSignature,
    BodyTooLarge,
    CallbackCredentials,
    CallbackError,
    DecryptError,
    MalformedMessage,
    Mode,
    StaleTimestamp,
    build_oa_callback,
    build_oa_url_check,
    build_wecom_callback,
    build_wecom_url_check,
    open_oa_request,
    open_reply,
    open_wecom_request,
    parse_message,
    render_inbound_xml,
    render_news_reply,
    render_text_reply,
    scene_from_event_key,
    seal_reply,
    verify_oa_url,
    verify_wecom_url,
)
from bot.wechat.xmlsafe import MAX_DEPTH, MAX_FIELD_CHARS, parse_fields

KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
OA = CallbackCredentials(token="lanxi-token", encoding_aes_key=KEY, app_id="wx1234567890abcdef")
WECOM = CallbackCredentials(token="wecom-token", encoding_aes_key=KEY, app_id="ww1436e0e65a779aee")
NOW = 1_700_000_000
SKEW = 300
MODES: tuple[Mode, ...] = ("plain", "compat", "safe")

# Tencent's documented samples (as reproduced in wechatpy's tests/test_parser.py and FACTS.md).
TEXT = (
    "<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName>"
    "<CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType>"
    "<Content><![CDATA[this is a test]]></Content><MsgId>1234567890123456</MsgId></xml>"
)
VOICE = (
    "<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName>"
    "<CreateTime>1357290913</CreateTime><MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[media_id]]>"
    "</MediaId><Format><![CDATA[Format]]></Format><Recognition><![CDATA[腾讯微信团队]]></Recognition>"
    "<MsgId>1234567890123456</MsgId></xml>"
)
HEAD: dict[str, str | int | float] = {
    "ToUserName": "toUser",
    "FromUserName": "fromUser",
    "CreateTime": 1351776360,
}


def text_xml(content: str = "你好，我已到家", msg_id: int = 6054768590064713728) -> str:
    return render_inbound_xml(**HEAD, MsgType="text", Content=content, MsgId=msg_id)


def raw_ciphertext(creds: CallbackCredentials, frame: bytes) -> str:
    """Encrypt an arbitrary, already padded frame, to forge broken ciphertexts."""
    assert creds.encoding_aes_key is not None
    cipher = WeChatCipher(crypto.aes_key(creds.encoding_aes_key))
    return base64.b64encode(cipher.encrypt(frame)).decode()


def signed_encrypted(
    creds: CallbackCredentials, encrypted: str, **extra: str
) -> tuple[dict[str, str], bytes]:
    args = {
        "timestamp": str(NOW),
        "nonce": "77",
        "msg_signature": crypto.sign(creds.token, str(NOW), "77", encrypted),
    }
    body = f"<xml><ToUserName><![CDATA[gh_x]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    return {**args, **extra}, body.encode()


# --- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_oa_round_trip_in_every_mode(mode: Mode) -> None:
    args, body = build_oa_callback(OA, text_xml(), mode=mode, timestamp=NOW, nonce="1320562132")
    opened = open_oa_request(OA, args, body, now=NOW + 10, max_skew=SKEW)
    assert opened.encrypted is (mode != "plain")
    msg = parse_message(opened.xml)
    assert (msg.content, msg.sender, msg.account) == ("你好，我已到家", "fromUser", "toUser")
    assert ("我已到家".encode() in body) is (mode != "safe")

    reply = render_text_reply(msg, "收到，谢谢配合", now=NOW)
    sealed = seal_reply(OA, reply, encrypted=opened.encrypted, nonce="abc", timestamp=NOW)
    assert ("收到" in sealed) is (mode == "plain")
    assert open_reply(OA, sealed.encode()) == reply


def test_compat_mode_trusts_only_the_encrypted_copy() -> None:
    args, body = build_oa_callback(OA, text_xml("真的内容"), mode="compat", timestamp=NOW, nonce="1")
    tampered = body.replace("真的内容".encode(), "伪造内容".encode(), 1)
    assert tampered != body
    msg = parse_message(open_oa_request(OA, args, tampered, now=NOW, max_skew=SKEW).xml)
    assert msg.content == "真的内容"


def test_wecom_round_trip() -> None:
    xml = render_inbound_xml(
        ToUserName=WECOM.app_id,
        FromUserName="ChenJiaShun",
        CreateTime=NOW,
        MsgType="text",
        Content="新线索",
        MsgId=1456453720,
        AgentID=1000002,
    )
    args, body = build_wecom_callback(WECOM, xml, timestamp=NOW, nonce="5")
    assert b"<AgentID><![CDATA[1000002]]></AgentID>" in body
    opened = open_wecom_request(WECOM, args, body, now=NOW, max_skew=SKEW)
    msg = parse_message(opened.xml)
    assert (msg.agent_id, msg.content, opened.encrypted) == ("1000002", "新线索", True)


def test_url_checks_round_trip() -> None:
    assert (
        verify_oa_url(
            OA, build_oa_url_check(OA, echostr="e1", timestamp=NOW, nonce="n"), now=NOW, max_skew=SKEW
        )
        == "e1"
    )
    args = build_wecom_url_check(WECOM, echostr="1288432023552776189", timestamp=NOW, nonce="n")
    assert args["echostr"] != "1288432023552776189"
    assert verify_wecom_url(WECOM, args, now=NOW, max_skew=SKEW) == "1288432023552776189"


def test_full_32_byte_padding_block() -> None:
    # 16 random + 4 length + 26 message + 18 appid = 64 bytes: PKCS#7 adds a whole 32-byte block.
    message = "x" * 26
    ciphertext = crypto.encrypt(OA, message)
    raw = base64.b64decode(ciphertext)
    assert len(raw) == 96
    assert WeChatCipher(crypto.aes_key(KEY)).decrypt(raw)[-32:] == bytes([32]) * 32
    assert crypto.decrypt(OA, ciphertext) == message
    assert PrpCrypto(crypto.aes_key(KEY)).decrypt(ciphertext, OA.app_id) == message


def test_encryption_uses_fresh_randomness() -> None:
    assert crypto.encrypt(OA, "same") != crypto.encrypt(OA, "same")


@pytest.mark.parametrize("reply", ["", "success"])
def test_bare_replies_stay_unencrypted(reply: str) -> None:
    assert seal_reply(OA, reply, encrypted=True, nonce="n", timestamp=NOW) == reply


# --- signatures and timestamps -----------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("change", ["wrong", "missing", "uppercase"])
def test_bad_or_missing_signature(mode: Mode, change: str) -> None:
    args, body = build_oa_callback(OA, text_xml(), mode=mode, timestamp=NOW, nonce="1")
    name = "signature" if mode == "plain" else "msg_signature"
    if change == "missing":
        del args[name]
    elif change == "wrong":
        args[name] = "0" * 40
    else:
        args[name] = args[name].upper()
    with pytest.raises(BadSignature) as caught:
        open_oa_request(OA, args, body, now=NOW, max_skew=SKEW)
    assert caught.value.status == 403


@pytest.mark.parametrize("missing", ["timestamp", "nonce"])
def test_missing_signed_parameter(missing: str) -> None:
    args, body = build_oa_callback(OA, text_xml(), mode="plain", timestamp=NOW, nonce="1")
    del args[missing]
    with pytest.raises(BadSignature):
        open_oa_request(OA, args, body, now=NOW, max_skew=SKEW)


def test_other_token_is_rejected() -> None:
    args, body = build_oa_callback(OA, text_xml(), mode="safe", timestamp=NOW, nonce="1")
    other = CallbackCredentials("other-token", KEY, OA.app_id)
    with pytest.raises(BadSignature):
        open_oa_request(other, args, body, now=NOW, max_skew=SKEW)


def test_non_ascii_signature_is_rejected_not_crashing() -> None:
    args = build_oa_url_check(OA, echostr="e", timestamp=NOW, nonce="n") | {"signature": "签名\ud800"}
    with pytest.raises(BadSignature):
        verify_oa_url(OA, args, now=NOW, max_skew=SKEW)


@pytest.mark.parametrize("offset", [-SKEW - 1, SKEW + 1, -86400 * 365])
def test_stale_timestamp(offset: int) -> None:
    args, body = build_oa_callback(OA, text_xml(), mode="safe", timestamp=NOW + offset, nonce="1")
    with pytest.raises(StaleTimestamp) as caught:
        open_oa_request(OA, args, body, now=NOW, max_skew=SKEW)
    assert caught.value.status == 403
    wargs = build_wecom_url_check(WECOM, echostr="x", timestamp=NOW + offset, nonce="n")
    with pytest.raises(StaleTimestamp):
        verify_wecom_url(WECOM, wargs, now=NOW, max_skew=SKEW)


@pytest.mark.parametrize("offset", [-SKEW, SKEW])
def test_timestamp_at_the_edge_of_the_window_passes(offset: int) -> None:
    args, body = build_oa_callback(OA, text_xml(), mode="plain", timestamp=NOW + offset, nonce="1")
    assert open_oa_request(OA, args, body, now=NOW, max_skew=SKEW).xml == text_xml()


def test_signed_non_numeric_timestamp_is_malformed() -> None:
    args = {
        "timestamp": "soon",
        "nonce": "n",
        "echostr": "e",
        "signature": crypto.sign(OA.token, "soon", "n"),
    }
    with pytest.raises(MalformedMessage):
        verify_oa_url(OA, args, now=NOW, max_skew=SKEW)
    assert verify_oa_url(OA, args, now=NOW, max_skew=0) == "e"


def test_missing_echostr() -> None:
    args = build_oa_url_check(OA, echostr="e", timestamp=NOW, nonce="n")
    del args["echostr"]
    with pytest.raises(MalformedMessage):
        verify_oa_url(OA, args, now=NOW, max_skew=SKEW)


# --- size, encoding, envelope ------------------------------------------------------------------


@pytest.mark.parametrize("opener", [open_oa_request, open_wecom_request])
def test_oversized_body(opener: Any) -> None:
    with pytest.raises(BodyTooLarge) as caught:
        opener(OA, {}, b"<xml>" + b" " * MAX_BODY_BYTES + b"</xml>", now=NOW, max_skew=SKEW)
    assert caught.value.status == 413


def test_body_at_the_limit_is_accepted() -> None:
    xml = text_xml()
    padded = xml[:-6] + " " * (MAX_BODY_BYTES - len(xml.encode())) + "</xml>"
    args, body = build_oa_callback(OA, padded, mode="plain", timestamp=NOW, nonce="1")
    assert len(body) == MAX_BODY_BYTES
    assert (
        parse_message(open_oa_request(OA, args, body, now=NOW, max_skew=SKEW).xml).content == "你好，我已到家"
    )


def test_invalid_utf8_plain_body() -> None:
    args, _ = build_oa_callback(OA, text_xml(), mode="plain", timestamp=NOW, nonce="1")
    with pytest.raises(MalformedMessage):
        open_oa_request(OA, args, b"<xml><Content>\xff\xfe</Content></xml>", now=NOW, max_skew=SKEW)


def test_unknown_encrypt_type() -> None:
    args, body = build_oa_callback(OA, text_xml(), mode="plain", timestamp=NOW, nonce="1")
    with pytest.raises(MalformedMessage):
        open_oa_request(OA, args | {"encrypt_type": "rot13"}, body, now=NOW, max_skew=SKEW)


@pytest.mark.parametrize(
    "body",
    [
        b"<xml><ToUserName>gh</ToUserName></xml>",
        b"<xml><Encrypt><![CDATA[not base64!]]></Encrypt></xml>",
        b"<xml><Encrypt>QUFB</Encrypt><Encrypt>QkJC</Encrypt></xml>",
    ],
)
def test_envelope_without_exactly_one_encrypt(body: bytes) -> None:
    with pytest.raises(MalformedMessage):
        open_wecom_request(
            WECOM, {"timestamp": "1", "nonce": "1", "msg_signature": "x"}, body, now=1, max_skew=0
        )


def test_encrypted_request_without_configured_key() -> None:
    args, body = build_oa_callback(OA, text_xml(), mode="safe", timestamp=NOW, nonce="1")
    plain_only = CallbackCredentials(OA.token, None, OA.app_id)
    with pytest.raises(DecryptError):
        open_oa_request(plain_only, args, body, now=NOW, max_skew=SKEW)


# --- decryption failures -----------------------------------------------------------------------


def frame(message: bytes, app_id: str = OA.app_id) -> bytes:
    return b"r" * 16 + struct.pack(">I", len(message)) + message + app_id.encode()


def pad(data: bytes) -> bytes:
    count = 32 - len(data) % 32
    return data + bytes([count]) * count


@pytest.mark.parametrize(
    "padded",
    [
        frame(b"<xml/>") + b"\x00" * 20,  # 44 + 20 bytes ending in a zero "padding" byte
        frame(b"<xml/>") + b"\x21" * 20,  # padding value 33, above the block size
        frame(b"<xml/>") + b"\x13" + b"\x14" * 19,  # right count, one wrong padding byte
    ],
    ids=["zero", "too-long", "inconsistent"],
)
def test_wrong_padding(padded: bytes) -> None:
    assert len(padded) % 32 == 0
    with pytest.raises(DecryptError, match="padding"):
        crypto.decrypt(OA, raw_ciphertext(OA, padded))


@pytest.mark.parametrize("cut", [16, 32, 1])
def test_truncated_ciphertext(cut: int) -> None:
    raw = base64.b64decode(crypto.encrypt(OA, text_xml(), random16=b"0123456789abcdef"))
    truncated = base64.b64encode(raw[:-cut]).decode()
    args, body = signed_encrypted(OA, truncated, encrypt_type="aes")
    with pytest.raises(DecryptError) as caught:
        open_oa_request(OA, args, body, now=NOW, max_skew=SKEW)
    assert caught.value.status == 400


def test_length_field_beyond_plaintext() -> None:
    lying = b"r" * 16 + struct.pack(">I", 10_000) + b"<xml/>" + OA.app_id.encode()
    with pytest.raises(DecryptError, match="length field"):
        crypto.decrypt(OA, raw_ciphertext(OA, pad(lying)))


def test_wrong_app_id_inside_ciphertext() -> None:
    other = CallbackCredentials(OA.token, KEY, "wxffffffffffffffff")
    args, body = build_oa_callback(other, text_xml(), mode="safe", timestamp=NOW, nonce="1")
    with pytest.raises(DecryptError, match="app id"):
        open_oa_request(OA, args, body, now=NOW, max_skew=SKEW)


def test_non_base64_ciphertext() -> None:
    args, body = signed_encrypted(WECOM, "AAAA")  # valid base64, but one 3-byte block
    with pytest.raises(DecryptError):
        open_wecom_request(WECOM, args, body, now=NOW, max_skew=SKEW)
    with pytest.raises(DecryptError):
        crypto.decrypt(WECOM, "%%%%")


def test_decrypted_invalid_utf8() -> None:
    with pytest.raises(MalformedMessage):
        crypto.decrypt(OA, raw_ciphertext(OA, pad(frame(b"<xml>\xff</xml>"))))


def test_credentials_validate_key_and_hide_secrets() -> None:
    with pytest.raises(ValueError, match="43"):
        CallbackCredentials("t", "short", "wx1")
    with pytest.raises(ValueError, match="base64"):
        CallbackCredentials("t", "!" * 43, "wx1")
    with pytest.raises(ValueError, match="token"):
        CallbackCredentials("", None, "wx1")
    assert "lanxi-token" not in repr(OA) and KEY not in repr(OA)


# --- safe parsing ------------------------------------------------------------------------------

BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
    "<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>&d;</Content></xml>"
)
XXE = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    "<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>&xxe;</Content></xml>"
)
EXTERNAL_DTD = '<!DOCTYPE xml SYSTEM "http://example.invalid/x.dtd"><xml><MsgType>text</MsgType></xml>'
PARAMETER_ENTITY = '<!DOCTYPE xml [<!ENTITY % p SYSTEM "http://example.invalid/p">%p;]><xml/>'


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, XXE, EXTERNAL_DTD, PARAMETER_ENTITY])
def test_doctype_and_entities_are_refused(xml: str) -> None:
    with pytest.raises(MalformedMessage):
        parse_message(xml)


def test_entity_bomb_through_the_whole_pipeline() -> None:
    args, body = build_oa_callback(OA, BILLION_LAUGHS, mode="safe", timestamp=NOW, nonce="1")
    opened = open_oa_request(OA, args, body, now=NOW, max_skew=SKEW)
    with pytest.raises(MalformedMessage):
        parse_message(opened.xml)


@pytest.mark.parametrize(
    "xml",
    [
        "",
        "not xml",
        "<xml><Content>x</xml>",
        "<xml/><xml/>",
        "<root><MsgType>text</MsgType></root>",
        "<xml>&nbsp;</xml>",
    ],
)
def test_malformed_xml(xml: str) -> None:
    with pytest.raises(MalformedMessage) as caught:
        parse_message(xml)
    assert caught.value.status == 400


def test_deep_nesting_is_refused() -> None:
    inner = "<a>" * (MAX_DEPTH) + "x" + "</a>" * (MAX_DEPTH)
    with pytest.raises(MalformedMessage, match="deep"):
        parse_fields(f"<xml>{inner}</xml>")
    huge = "<a>" * 5000 + "</a>" * 5000
    with pytest.raises(MalformedMessage, match="deep"):
        parse_fields(f"<xml>{huge}</xml>")


def test_nested_wechat_event_within_depth_limit() -> None:
    xml = (
        "<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>1408090816</CreateTime>"
        "<MsgType>event</MsgType><Event>pic_weixin</Event><EventKey>6</EventKey><SendPicsInfo><Count>1</Count>"
        "<PicList><item><PicMd5Sum>5a75aaca956d97be686719218f275c6b</PicMd5Sum></item></PicList>"
        "</SendPicsInfo></xml>"
    )
    msg = parse_message(xml)
    assert msg.raw["SendPicsInfo/PicList/item/PicMd5Sum"] == "5a75aaca956d97be686719218f275c6b"
    assert msg.event == "pic_weixin"


def test_overlong_field_and_too_many_elements() -> None:
    with pytest.raises(MalformedMessage, match="too long"):
        parse_message(text_xml("长" * (MAX_FIELD_CHARS + 1)))
    with pytest.raises(MalformedMessage, match="too many"):
        parse_fields("<xml>" + "<a/>" * 300 + "</xml>")


def test_lone_surrogate_is_malformed() -> None:
    with pytest.raises(MalformedMessage):
        parse_message(TEXT.replace("this is a test", "\ud800"))


@pytest.mark.parametrize("missing", ["ToUserName", "FromUserName", "CreateTime", "MsgType"])
def test_missing_required_field(missing: str) -> None:
    fields: dict[str, str | int | float] = {**HEAD, "MsgType": "text", "Content": "hi", "MsgId": 1}
    del fields[missing]
    with pytest.raises(MalformedMessage, match=missing):
        parse_message(render_inbound_xml(**fields))


@pytest.mark.parametrize("create_time", ["yesterday", "-5", "1" * 13, "１２３"])
def test_bad_create_time(create_time: str) -> None:
    with pytest.raises(MalformedMessage):
        parse_message(render_inbound_xml(**{**HEAD, "CreateTime": create_time}, MsgType="text"))


@pytest.mark.parametrize(("x", "y"), [("nan", "1"), ("91", "100"), ("23.1", "east"), ("", "")])
def test_bad_location(x: str, y: str) -> None:
    with pytest.raises(MalformedMessage):
        parse_message(render_inbound_xml(**HEAD, MsgType="location", Location_X=x, Location_Y=y, MsgId=1))


# --- message types -----------------------------------------------------------------------------


def test_text_sample() -> None:
    msg = parse_message(TEXT)
    assert (msg.msg_type, msg.content, msg.msg_id, msg.create_time) == (
        "text",
        "this is a test",
        "1234567890123456",
        1348831860,
    )
    assert msg.dedupe_key == "msg:1234567890123456"
    assert msg.raw["Content"] == "this is a test"


def test_voice_sample_with_recognition() -> None:
    msg = parse_message(VOICE)
    assert (msg.msg_type, msg.media_id, msg.recognition) == ("voice", "media_id", "腾讯微信团队")
    assert msg.raw["Format"] == "Format"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"MsgType": "image", "PicUrl": "this is a url", "MediaId": "media_id", "MsgId": 1},
            {"pic_url": "this is a url", "media_id": "media_id"},
        ),
        (
            {"MsgType": "video", "MediaId": "media_id", "ThumbMediaId": "thumb_media_id", "MsgId": 1},
            {"media_id": "media_id"},
        ),
        (
            {"MsgType": "shortvideo", "MediaId": "media_id", "ThumbMediaId": "thumb_media_id", "MsgId": 1},
            {"media_id": "media_id"},
        ),
        (
            {
                "MsgType": "location",
                "Location_X": 23.134521,
                "Location_Y": 113.358803,
                "Scale": 20,
                "Label": "位置信息",
                "MsgId": 1,
            },
            {"location": (23.134521, 113.358803), "label": "位置信息"},
        ),
        (
            {
                "MsgType": "link",
                "Title": "公众平台官网链接",
                "Description": "公众平台官网链接",
                "Url": "url",
                "MsgId": 1,
            },
            {"title": "公众平台官网链接", "description": "公众平台官网链接", "url": "url"},
        ),
        ({"MsgType": "event", "Event": "subscribe"}, {"event": "subscribe", "event_key": None}),
        ({"MsgType": "event", "Event": "unsubscribe"}, {"event": "unsubscribe"}),
        (
            {"MsgType": "event", "Event": "subscribe", "EventKey": "qrscene_123123", "Ticket": "TICKET"},
            {"event": "subscribe", "event_key": "qrscene_123123", "qr_scene": "123123"},
        ),
        (
            {"MsgType": "event", "Event": "SCAN", "EventKey": "123123", "Ticket": "TICKET"},
            {"event": "scan", "qr_scene": "123123"},
        ),
        (
            {
                "MsgType": "event",
                "Event": "LOCATION",
                "Latitude": 23.137466,
                "Longitude": 113.352425,
                "Precision": 119.385040,
            },
            {"event": "location", "location": (23.137466, 113.352425)},
        ),
        (
            {"MsgType": "event", "Event": "CLICK", "EventKey": "EVENTKEY"},
            {"event": "click", "event_key": "EVENTKEY", "qr_scene": None},
        ),
        (
            {"MsgType": "event", "Event": "VIEW", "EventKey": "www.qq.com"},
            {"event": "view", "event_key": "www.qq.com"},
        ),
        (
            {"MsgType": "event", "Event": "TEMPLATESENDJOBFINISH", "MsgID": 200163836, "Status": "success"},
            {"event": "templatesendjobfinish", "status": "success", "msg_id": None},
        ),
        ({"MsgType": "notsure", "MsgId": 1}, {"msg_type": "notsure"}),
    ],
    ids=[
        "image",
        "video",
        "shortvideo",
        "location",
        "link",
        "subscribe",
        "unsubscribe",
        "subscribe-qr",
        "scan",
        "location-event",
        "click",
        "view",
        "templatesendjobfinish",
        "unknown",
    ],
)
def test_message_types(fields: dict[str, Any], expected: dict[str, Any]) -> None:
    msg = parse_message(render_inbound_xml(**HEAD, **fields))
    assert msg.msg_type == str(fields["MsgType"]).lower()
    assert {name: getattr(msg, name) for name in expected} == expected


def test_dedupe_keys() -> None:
    event = parse_message(
        render_inbound_xml(**HEAD, MsgType="event", Event="CLICK", EventKey="CHECKIN", MsgId=0)
    )
    assert event.msg_id is None
    assert event.dedupe_key == "evt:fromUser:1351776360:click"
    assert parse_message(text_xml(msg_id=42)).dedupe_key == "msg:42"
    assert parse_message(render_inbound_xml(**HEAD, MsgType="text", Content="no id")).dedupe_key == (
        "evt:fromUser:1351776360:text"
    )


@pytest.mark.parametrize(
    ("key", "scene"),
    [
        ("qrscene_123123", "123123"),
        ("123123", "123123"),
        ("qrscene_", None),
        ("", None),
        (None, None),
        ("qrscene_bind:r-42", "bind:r-42"),
    ],
)
def test_scene_from_event_key(key: str | None, scene: str | None) -> None:
    assert scene_from_event_key(key) == scene


def test_repr_hides_what_residents_wrote() -> None:
    msg = parse_message(text_xml("我发烧了"))
    assert "发烧" not in repr(msg)
    assert "fromUser" in repr(msg)


# --- replies -----------------------------------------------------------------------------------


@pytest.mark.parametrize("content", ["普通回复", "a]]>b", "]]>]]>", "<b>&amp;</b>", "bell\x07 dropped"])
def test_text_reply_cdata_is_safe(content: str) -> None:
    msg = parse_message(TEXT)
    reply = parse_fields(render_text_reply(msg, content, now=NOW))
    assert reply == {
        "ToUserName": "fromUser",
        "FromUserName": "toUser",
        "CreateTime": str(NOW),
        "MsgType": "text",
        "Content": content.replace("\x07", ""),
    }


def test_news_reply() -> None:
    reply = render_news_reply(
        parse_message(TEXT),
        title="防疫通告]]>",
        description="请勿传谣",
        url="https://a.example/a/t1",
        pic_url="https://a.example/p.png",
        now=NOW,
    )
    fields = parse_fields(reply)
    assert (fields["MsgType"], fields["ArticleCount"], fields["ToUserName"]) == ("news", "1", "fromUser")
    assert fields["Articles/item/Title"] == "防疫通告]]>"
    assert fields["Articles/item/Url"] == "https://a.example/a/t1"
    assert fields["Articles/item/PicUrl"] == "https://a.example/p.png"


def test_open_reply_rejects_forged_envelope() -> None:
    sealed = seal_reply(OA, "<xml/>", encrypted=True, nonce="n", timestamp=NOW)
    forged = sealed.replace("<Nonce><![CDATA[n]]>", "<Nonce><![CDATA[m]]>")
    with pytest.raises(BadSignature):
        open_reply(OA, forged.encode())
    assert open_reply(OA, b"success") == "success"


def test_render_inbound_xml_rejects_bad_tag() -> None:
    with pytest.raises(ValueError, match="tag"):
        render_inbound_xml(**{"a b": "x"})


def test_error_statuses() -> None:
    assert [
        cls("r").status
        for cls in (BadSignature, StaleTimestamp, BodyTooLarge, MalformedMessage, DecryptError)
    ] == [
        403,
        403,
        413,
        400,
        400,
    ]
    assert issubclass(DecryptError, CallbackError)
    assert str(BadSignature("signature mismatch")) == BadSignature("signature mismatch").reason


# --- property: nothing but CallbackError escapes -----------------------------------------------

PROPERTY = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
text_args = st.dictionaries(
    st.sampled_from(["signature", "msg_signature", "timestamp", "nonce", "echostr", "encrypt_type"]),
    st.text(max_size=60),
)


@PROPERTY
@given(args=text_args, body=st.binary(max_size=2048))
def test_random_requests_only_raise_callback_errors(args: dict[str, str], body: bytes) -> None:
    for call in (
        lambda: open_oa_request(OA, args, body, now=NOW, max_skew=SKEW),
        lambda: open_wecom_request(WECOM, args, body, now=NOW, max_skew=SKEW),
        lambda: verify_oa_url(OA, args, now=NOW, max_skew=SKEW),
        lambda: verify_wecom_url(WECOM, args, now=NOW, max_skew=0),
        lambda: open_reply(OA, body),
    ):
        with contextlib.suppress(CallbackError):
            call()


@PROPERTY
@given(body=st.one_of(st.binary(max_size=2048), st.text(max_size=512).map(str.encode)))
def test_random_signed_plain_bodies_only_raise_callback_errors(body: bytes) -> None:
    args, _ = build_oa_callback(OA, "", mode="plain", timestamp=NOW, nonce="1")
    with contextlib.suppress(CallbackError):
        parse_message(open_oa_request(OA, args, body, now=NOW, max_skew=SKEW).xml)


@PROPERTY
@given(
    data=st.one_of(
        st.binary(max_size=256).map(lambda b: base64.b64encode(b).decode()),
        st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", max_size=200),
        st.binary(max_size=200).map(lambda plain: raw_ciphertext(WECOM, pad(plain))),
    )
)
def test_random_signed_ciphertexts_only_raise_callback_errors(data: str) -> None:
    args, body = signed_encrypted(WECOM, data)
    with contextlib.suppress(CallbackError):
        parse_message(open_wecom_request(WECOM, args, body, now=NOW, max_skew=SKEW).xml)
