"""Tencent's official callback vectors (/work/shared/wechat/vectors.json), replayed through our layer
and cross-checked against wechatpy 1.8.18's own WeChatCrypto."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from wechatpy.crypto import PrpCrypto
from wechatpy.crypto import WeChatCrypto as OfficialAccountCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto

from bot.wechat import crypto
from bot.wechat.protocol import (
    BadSignature,
    CallbackCredentials,
    StaleTimestamp,
    open_oa_request,
    open_reply,
    open_wecom_request,
    parse_message,
    seal_reply,
    verify_oa_url,
    verify_wecom_url,
)

VECTORS: dict[str, Any] = json.loads(Path("/work/shared/wechat/vectors.json").read_text(encoding="utf-8"))
OA = VECTORS["official_account_decrypt"]
FIXED = VECTORS["official_account_encrypt_fixed_random"]
WECOM_CASES = [VECTORS["wecom_verify_and_decrypt"], VECTORS["wecom_legacy"]]
NOW = 1_700_000_000  # long after the vectors' 2014/2016 timestamps


def oa_creds() -> CallbackCredentials:
    return CallbackCredentials(OA["token"], OA["encoding_aes_key"], OA["app_id"])


def wecom_creds(case: dict[str, Any]) -> CallbackCredentials:
    return CallbackCredentials(case["token"], case["encoding_aes_key"], case["corp_id"])


def oa_args(**extra: str) -> dict[str, str]:
    return {"timestamp": OA["timestamp"], "nonce": OA["nonce"], **extra}


def test_oa_plain_get_signature_verifies() -> None:
    args = oa_args(signature=OA["plain_get_signature"], echostr="8374512")
    assert verify_oa_url(oa_creds(), args, now=NOW, max_skew=0) == "8374512"


def test_oa_plain_get_signature_is_stale_with_replay_window() -> None:
    args = oa_args(signature=OA["plain_get_signature"], echostr="8374512")
    with pytest.raises(StaleTimestamp):
        verify_oa_url(oa_creds(), args, now=NOW, max_skew=300)


@pytest.mark.parametrize("with_plain_signature", [True, False])
def test_oa_encrypted_message_decrypts(with_plain_signature: bool) -> None:
    args = oa_args(encrypt_type="aes", msg_signature=OA["msg_signature"])
    if with_plain_signature:
        args["signature"] = OA["plain_get_signature"]
    opened = open_oa_request(oa_creds(), args, OA["body"].encode(), now=NOW, max_skew=0)
    assert opened.encrypted
    msg = parse_message(opened.xml)
    expected = OA["expected"]
    assert (msg.sender, msg.account, msg.msg_type) == (
        expected["FromUserName"],
        expected["ToUserName"],
        expected["MsgType"],
    )
    assert (msg.content, msg.msg_id, msg.create_time) == (
        expected["Content"],
        expected["MsgId"],
        int(expected["CreateTime"]),
    )


def test_oa_vector_agrees_with_wechatpy() -> None:
    ours = open_oa_request(
        oa_creds(),
        oa_args(encrypt_type="aes", msg_signature=OA["msg_signature"]),
        OA["body"].encode(),
        now=NOW,
        max_skew=0,
    ).xml
    theirs = OfficialAccountCrypto(OA["token"], OA["encoding_aes_key"], OA["app_id"]).decrypt_message(
        OA["body"], OA["msg_signature"], OA["timestamp"], OA["nonce"]
    )
    assert ours == theirs


def test_oa_vector_with_tampered_signature_is_rejected() -> None:
    forged = OA["msg_signature"][:-1] + ("0" if OA["msg_signature"][-1] != "0" else "1")
    with pytest.raises(BadSignature):
        open_oa_request(
            oa_creds(),
            oa_args(encrypt_type="aes", msg_signature=forged),
            OA["body"].encode(),
            now=NOW,
            max_skew=0,
        )


def test_fixed_random_encryption_reproduces_tencent_ciphertext() -> None:
    creds = CallbackCredentials("unused", FIXED["encoding_aes_key"], FIXED["app_id"])
    ciphertext = crypto.encrypt(creds, FIXED["plaintext"], random16=FIXED["random16"].encode())
    assert ciphertext == FIXED["expected_ciphertext_b64"]
    assert crypto.decrypt(creds, ciphertext) == FIXED["plaintext"]
    # ... and wechatpy reads it the same way.
    key = base64.b64decode(FIXED["encoding_aes_key"] + "=")
    assert PrpCrypto(key).decrypt(ciphertext, FIXED["app_id"]) == FIXED["plaintext"]


@pytest.mark.parametrize("case", WECOM_CASES, ids=["wecom", "wecom_legacy"])
def test_wecom_url_verification(case: dict[str, Any]) -> None:
    verify = case["verify"]
    args = {key: verify[key] for key in ("msg_signature", "timestamp", "nonce", "echostr")}
    assert verify_wecom_url(wecom_creds(case), args, now=NOW, max_skew=0) == verify["expected_plain"]


@pytest.mark.parametrize("case", WECOM_CASES, ids=["wecom", "wecom_legacy"])
def test_wecom_message_decrypts(case: dict[str, Any]) -> None:
    vector = case["message"]
    args = {key: vector[key] for key in ("msg_signature", "timestamp", "nonce")}
    opened = open_wecom_request(wecom_creds(case), args, vector["body"].encode(), now=NOW, max_skew=0)
    msg = parse_message(opened.xml)
    expected = vector["expected"]
    assert opened.encrypted
    assert (msg.sender, msg.msg_type, msg.content) == (
        expected["FromUserName"],
        expected["MsgType"],
        expected["Content"],
    )
    assert (msg.msg_id, msg.agent_id, msg.account) == (
        expected["MsgId"],
        expected["AgentID"],
        case["corp_id"],
    )
    theirs = WeComCrypto(case["token"], case["encoding_aes_key"], case["corp_id"]).decrypt_message(
        vector["body"], vector["msg_signature"], vector["timestamp"], vector["nonce"]
    )
    assert opened.xml == theirs


@pytest.mark.parametrize("case", WECOM_CASES, ids=["wecom", "wecom_legacy"])
def test_wecom_verify_rejects_other_token(case: dict[str, Any]) -> None:
    creds = CallbackCredentials("not-the-token", case["encoding_aes_key"], case["corp_id"])
    verify = case["verify"]
    args = {key: verify[key] for key in ("msg_signature", "timestamp", "nonce", "echostr")}
    with pytest.raises(BadSignature):
        verify_wecom_url(creds, args, now=NOW, max_skew=0)


def test_our_sealed_reply_opens_in_wechatpy() -> None:
    reply = "<xml><Content><![CDATA[收到]]></Content></xml>"
    sealed = seal_reply(oa_creds(), reply, encrypted=True, nonce="n0nce", timestamp=1409735670)
    wechatpy = OfficialAccountCrypto(OA["token"], OA["encoding_aes_key"], OA["app_id"])
    signature = sealed.split("<MsgSignature><![CDATA[")[1].split("]]>")[0]
    assert wechatpy.decrypt_message(sealed, signature, "1409735670", "n0nce") == reply


@pytest.mark.parametrize("case", WECOM_CASES, ids=["wecom", "wecom_legacy"])
def test_wechatpy_sealed_reply_opens_in_ours(case: dict[str, Any]) -> None:
    reply = "<xml><Content><![CDATA[hello]]></Content></xml>"
    sealed = WeComCrypto(case["token"], case["encoding_aes_key"], case["corp_id"]).encrypt_message(
        reply, "nonce1", "1476422779"
    )
    assert open_reply(wecom_creds(case), sealed.encode()) == reply
