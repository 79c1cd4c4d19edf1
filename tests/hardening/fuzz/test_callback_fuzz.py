"""Fuzzing both callback endpoints: 10,500 generated requests, never a 500, never a hang.

The app runs over its own SQLite file with the real conversation handlers, so a message that
survives every check is dispatched for real. Example counts add up to 10,500 (see EXAMPLES).
"""

from __future__ import annotations

import base64
import secrets
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import Settings, replace
from bot.db import make_engine
from bot.models import Base
from bot.runtime import Runtime
from bot.webhook import oa_credentials, wecom_credentials
from bot.wechat.crypto import CallbackCredentials
from tests.hardening.fuzz.callbacks import (
    ENDPOINTS,
    HOSTILE_XML,
    SPECIMENS,
    Sent,
    envelope,
    frame,
    raw_encrypt,
    send,
    signed_encrypted,
    signed_plain,
)
from web import create_app

EXAMPLES = {"bytes": 2500, "xml": 1800, "cipher": 4200, "query": 2000}
MEMORY_PEAK_BYTES = 4 * 1024 * 1024


def _fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


@pytest.fixture(scope="module")
def runtime(base_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('fuzz')) / 'fuzz.db'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    yield Runtime.from_settings(replace(base_settings, database={"url": url}), engine)
    engine.dispose()


@pytest.fixture(scope="module")
def fuzz_client(runtime: Runtime) -> FlaskClient:
    app = create_app(runtime=runtime)
    # Not TESTING: an escaped exception must show as the 500 a real server would answer.
    app.config.update(TESTING=False)
    return app.test_client()


def _creds(runtime: Runtime, path: str) -> CallbackCredentials:
    return oa_credentials(runtime) if path == "/wechat/callback" else wecom_credentials(runtime)


_NONCE = st.text(alphabet="0123456789abcdef", min_size=1, max_size=16)


@_fuzz(EXAMPLES["bytes"])
@given(path=st.sampled_from(ENDPOINTS), body=st.binary(max_size=4096), signed=st.booleans(), nonce=_NONCE)
def test_random_bytes(
    fuzz_client: FlaskClient, runtime: Runtime, path: str, body: bytes, signed: bool, nonce: str
) -> None:
    request = signed_plain(oa_credentials(runtime), body, nonce) if signed else Sent(path, "POST", {}, body)
    if signed and path == "/wecom/callback":
        request = Sent(path, "POST", request.args, body)
    send(fuzz_client, request)


@_fuzz(EXAMPLES["xml"])
@given(path=st.sampled_from(ENDPOINTS), xml=HOSTILE_XML, plain=st.booleans(), nonce=_NONCE)
def test_hostile_xml_signed_and_encrypted(
    fuzz_client: FlaskClient, runtime: Runtime, path: str, xml: str, plain: bool, nonce: str
) -> None:
    if plain and path == "/wechat/callback":
        request = signed_plain(oa_credentials(runtime), xml.encode("utf-8", "surrogatepass"), nonce)
    else:
        request = signed_encrypted(path, _creds(runtime, path), xml, nonce)
    send(fuzz_client, request)


_MUTATIONS = (
    "flip",
    "truncate",
    "extend",
    "no_padding",
    "bad_padding",
    "wrong_appid",
    "long_length",
    "bad_utf8",
    "junk",
)


@_fuzz(EXAMPLES["cipher"])
@given(
    path=st.sampled_from(ENDPOINTS),
    mutation=st.sampled_from(_MUTATIONS),
    where=st.integers(min_value=0, max_value=10_000),
    noise=st.binary(min_size=1, max_size=64),
    resign=st.booleans(),
    nonce=_NONCE,
)
def test_mutated_ciphertext(
    fuzz_client: FlaskClient,
    runtime: Runtime,
    path: str,
    mutation: str,
    where: int,
    noise: bytes,
    resign: bool,
    nonce: str,
) -> None:
    creds = _creds(runtime, path)
    encrypted = _mutate(creds, mutation, where, noise)
    status = send(fuzz_client, envelope(path, creds, encrypted, nonce, resign=resign))
    assert status in (400, 403), status  # a tampered ciphertext is never accepted


def _mutate(creds: CallbackCredentials, mutation: str, where: int, noise: bytes) -> str:
    xml = b"<xml><ToUserName>gh</ToUserName><FromUserName>oX</FromUserName><CreateTime>1</CreateTime></xml>"
    app_id = creds.app_id.encode()
    if mutation == "no_padding":
        body = frame(xml, app_id)
        return raw_encrypt(creds, body + b"\x00" * (-len(body) % 32 or 32), pad=False)
    if mutation == "bad_padding":
        body = frame(xml, app_id)
        body += b"\x00" * (-len(body) % 32)
        return raw_encrypt(creds, body[:-1] + bytes([33 + where % 200]), pad=False)
    if mutation == "wrong_appid":
        return raw_encrypt(creds, frame(xml, noise), pad=True)
    if mutation == "long_length":
        return raw_encrypt(creds, frame(xml, app_id, length=len(xml) + 1 + where), pad=True)
    if mutation == "bad_utf8":
        return raw_encrypt(creds, frame(b"\xff\xfe" + noise + b"\xc3", app_id), pad=True)
    if mutation == "junk":
        return base64.b64encode(noise).decode()
    raw = bytearray(base64.b64decode(raw_encrypt(creds, frame(xml, app_id), pad=True)))
    if mutation == "flip":
        raw[where % len(raw)] ^= noise[0] or 1
    elif mutation == "truncate":
        del raw[len(raw) - 1 - where % (len(raw) - 1) :]
    else:
        raw += noise
    return base64.b64encode(bytes(raw)).decode()


_KEYS = st.one_of(
    st.sampled_from(
        ["signature", "msg_signature", "timestamp", "nonce", "echostr", "encrypt_type", "openid"]
    ),
    st.text(max_size=10),
)
_VALUES = st.one_of(
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=60),
    st.sampled_from(["aes", "AES", "raw", "", "-1", "9" * 40, "1e9", "０１２", "%00", "' OR 1=1 --"]),
    st.integers().map(str),
)


@_fuzz(EXAMPLES["query"])
@given(
    path=st.sampled_from(ENDPOINTS),
    method=st.sampled_from(["GET", "POST"]),
    args=st.dictionaries(_KEYS, _VALUES, max_size=8),
    body=st.binary(max_size=256),
)
def test_random_query_strings(
    fuzz_client: FlaskClient, path: str, method: str, args: dict[str, str], body: bytes
) -> None:
    send(fuzz_client, Sent(path, method, args, body if method == "POST" else b""))


def _memory_sample(runtime: Runtime) -> list[Sent]:
    oa = oa_credentials(runtime)
    sample = [signed_plain(oa, xml.encode("utf-8", "surrogatepass"), "n1") for xml in SPECIMENS]
    for path in ENDPOINTS:
        sample += [signed_encrypted(path, _creds(runtime, path), xml, "n2") for xml in SPECIMENS]
    huge = b"<xml><Content>" + b"A" * 300_000 + b"</Content></xml>"
    sample += [signed_plain(oa, huge, "n3"), Sent("/wecom/callback", "POST", {"nonce": "x" * 50_000}, huge)]
    return sample


def test_memory_per_request_is_bounded(fuzz_client: FlaskClient, runtime: Runtime) -> None:
    sample = _memory_sample(runtime)
    send(fuzz_client, sample[0])  # warm imports and caches outside the measurement
    peaks = []
    for request in sample:
        tracemalloc.start()
        try:
            send(fuzz_client, request)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    assert max(peaks) < MEMORY_PEAK_BYTES, sorted(peaks)[-3:]


def test_entity_bomb_is_refused_quickly(fuzz_client: FlaskClient, runtime: Runtime) -> None:
    started = time.perf_counter()
    status = send(
        fuzz_client, signed_encrypted("/wechat/callback", oa_credentials(runtime), SPECIMENS[0], "n")
    )
    assert status == 400 and time.perf_counter() - started < 0.5


def test_valid_message_still_works_among_the_garbage(fuzz_client: FlaskClient, runtime: Runtime) -> None:
    # The fuzzers above assert "never 5xx"; this guards against a fuzz app that refuses everything.
    xml = (
        "<xml><ToUserName>gh_lanxi</ToUserName><FromUserName>oFuzzOk</FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType>text</MsgType><Content>你好</Content>"
        f"<MsgId>{secrets.randbelow(2**62)}</MsgId></xml>"
    )
    assert send(fuzz_client, signed_encrypted("/wechat/callback", oa_credentials(runtime), xml, "ok")) == 200
