"""The one HTTP layer under every WeChat call: a shared session, timeouts, errors as DeliveryError.

Every outcome is turned into a ``DeliveryError`` here, so channels never see ``requests`` exceptions:
transport failures (timeout, refused connection, reset) and HTTP 5xx are transient, HTTP 4xx is
permanent, a JSON answer with a non-zero errcode goes through ``base.classify``.

Access tokens, secrets, OAuth codes and robot keys travel in query strings, so they would leak
through exception texts and urllib3's debug log. Errors here name only the method and path, are
raised ``from None`` (no chained exception carrying the URL), and ``scrub`` masks the values in
anything that is logged, including urllib3's own records.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.sessions import merge_setting

from bot.channels.base import DeliveryError, classify

if TYPE_CHECKING:
    from requests.sessions import _Settings

log = logging.getLogger(__name__)

# Query parameters whose values are credentials: masked wherever a URL may be logged.
_SECRET_RE = re.compile(r"((?<![A-Za-z0-9_])(?:access_token|corpsecret|secret|key|code)=)[^&#\s'\"]+")
# urllib3 logs full request URLs at DEBUG level; these are the loggers that do.
_URLLIB3_LOGGERS = ("urllib3.connectionpool", "urllib3.connection", "urllib3.util.retry")
# An error answer read in full when a download turns out to be JSON; larger is not an error answer.
_ERROR_BODY_CAP = 64 * 1024
_CHUNK = 64 * 1024


def scrub(text: str) -> str:
    """``text`` with the value of every credential query parameter replaced by ``***``."""
    return _SECRET_RE.sub(r"\1***", text)


class ScrubFilter(logging.Filter):
    """Rewrites a record's message with credentials masked (installed on urllib3's loggers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_SCRUB_FILTER = ScrubFilter()


def install_log_scrubber() -> None:
    """Idempotent: adds the one ScrubFilter to each urllib3 logger that prints URLs."""
    for name in _URLLIB3_LOGGERS:
        logger = logging.getLogger(name)
        if _SCRUB_FILTER not in logger.filters:
            logger.addFilter(_SCRUB_FILTER)


class EnvironmentOnceSession(requests.Session):
    """Reads proxy and CA-bundle settings from the environment once per host, not on every request.

    requests walks ``os.environ`` for ``*_proxy`` variables on every call: a third of its CPU time per
    WeChat call (profiled with ``bench.delivery_profile``). A running process's environment is fixed;
    proxies or certificates passed to a call are merged the usual way, uncached."""

    def __init__(self) -> None:
        super().__init__()
        self._environment: dict[tuple[str, str], _Settings] = {}

    def merge_environment_settings(
        self,
        url: str | bytes | None,
        proxies: MutableMapping[str, str] | None,
        stream: bool | None,
        verify: bool | str | None,
        cert: str | tuple[str, str] | None,
    ) -> _Settings:
        if proxies or verify is not None or cert is not None or not isinstance(url, str):
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        parts = urlsplit(url)
        origin = (parts.scheme, parts.netloc)
        settings = self._environment.get(origin)
        if settings is None:
            base = f"{parts.scheme}://{parts.netloc}/"
            settings = self._environment[origin] = super().merge_environment_settings(
                base, {}, None, None, None
            )
        return {
            **settings,
            "proxies": dict(settings["proxies"]),
            "stream": merge_setting(stream, self.stream),
        }


def make_session(pool_size: int = 10) -> requests.Session:
    """A session for WeChat traffic: a pool sized for the delivery threads, no silent urllib3 retries."""
    install_log_scrubber()
    session = EnvironmentOnceSession()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(pool_size, 4), max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _where(method: str, url: str) -> str:
    return f"{method} {urlsplit(url).path}"


@contextmanager
def _transport_errors(method: str, url: str) -> Iterator[None]:
    """``requests`` failures as transient DeliveryErrors whose text holds no URL query."""
    where = _where(method, url)
    try:
        yield
    except requests.Timeout:
        log.debug("WeChat %s timed out", where)
        raise DeliveryError(f"微信接口超时：{where}", transient=True) from None
    except requests.ConnectionError:
        log.debug("WeChat %s: connection failed", where)
        raise DeliveryError(f"无法连接微信接口：{where}", transient=True) from None
    except requests.RequestException as exc:
        log.debug("WeChat %s failed: %s", where, type(exc).__name__)
        raise DeliveryError(f"请求微信接口失败（{type(exc).__name__}）：{where}", transient=True) from None


def _check_status(response: requests.Response, where: str) -> None:
    status = response.status_code
    if status >= 500:
        raise DeliveryError(f"微信接口服务器错误 HTTP {status}：{where}", http_status=status, transient=True)
    if status >= 400:
        raise DeliveryError(f"微信接口拒绝请求 HTTP {status}：{where}", http_status=status, transient=False)


def parse_answer(content: bytes, where: str) -> dict[str, Any]:
    """WeChat's JSON answer, or the DeliveryError it stands for."""
    try:
        answer = json.loads(content)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        # A proxy or gateway page instead of WeChat's JSON: nothing says the request itself was wrong.
        raise DeliveryError(f"微信接口返回了无法解析的应答：{where}", transient=True)
    errcode = answer.get("errcode", 0)
    if errcode not in (0, "0", None):
        try:
            code = int(errcode)
        except (TypeError, ValueError):
            code = -1
        raise classify(code, scrub(str(answer.get("errmsg", ""))))
    return answer


def _looks_like_json(content_type: str) -> bool:
    # WeChat answers errors from media endpoints as JSON, sometimes labelled text/plain.
    return "json" in content_type or content_type.startswith("text/plain")


class WeChatHttp:
    """JSON calls and capped downloads over one session, each with the configured timeout."""

    def __init__(self, timeout: float, session: requests.Session | None = None) -> None:
        self.timeout = timeout
        self.session = session or make_session()

    def close(self) -> None:
        self.session.close()

    def call(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Sends ``body`` as UTF-8 JSON (WeChat shows ``\\u`` escapes literally) and returns the answer."""
        where = _where(method, url)
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"} if data is not None else None
        with _transport_errors(method, url):
            response = self.session.request(
                method, url, params=dict(params or {}), data=data, headers=headers, timeout=self.timeout
            )
            _check_status(response, where)
            return parse_answer(response.content, where)

    def download(self, url: str, *, params: Mapping[str, str], max_bytes: int) -> tuple[bytes, str]:
        """A file's bytes and Content-Type, read in chunks and refused once over ``max_bytes``."""
        where = _where("GET", url)
        with _transport_errors("GET", url):
            response = self.session.get(url, params=dict(params), timeout=self.timeout, stream=True)
            with response:
                _check_status(response, where)
                content_type = response.headers.get("Content-Type", "application/octet-stream")
                if _looks_like_json(content_type):
                    parse_answer(_read_capped(response, _ERROR_BODY_CAP, where), where)
                    raise DeliveryError(f"微信接口返回了 JSON 而不是文件：{where}", transient=False)
                return _read_capped(response, max_bytes, where), content_type


def _too_large(max_bytes: int, where: str) -> DeliveryError:
    return DeliveryError(f"文件超过 {max_bytes} 字节上限：{where}", transient=False)


def _read_capped(response: requests.Response, max_bytes: int, where: str) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes, where)
    chunks: list[bytes] = []
    total = 0
    for chunk in response.iter_content(_CHUNK):
        total += len(chunk)
        if total > max_bytes:
            raise _too_large(max_bytes, where)
        chunks.append(chunk)
    return b"".join(chunks)
