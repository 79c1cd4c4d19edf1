"""The one Flask view every WeChat endpoint goes through: faults, latency, token check, handler, record."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from flask import Response, request

from .errors import WeChatError
from .protocol import Endpoint, Raw, Redirect, Req, Result, Upload
from .records import Call, Fault
from .state import FakeWeChatState

JSON_TYPE = "application/json; encoding=utf-8"  # sic: WeChat's own Content-Type


def _json_response(body: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, content_type=JSON_TYPE)


def _to_response(result: Result) -> Response:
    if isinstance(result, Raw):
        return Response(result.data, status=result.status, content_type=result.content_type)
    if isinstance(result, Redirect):
        return Response(status=302, headers={"Location": result.location})
    return _json_response(result)


def _build_req() -> Req:
    files = {
        name: Upload(f.filename or name, f.read(), f.mimetype or "application/octet-stream")
        for name, f in request.files.items()
    }
    raw = b"" if files else request.get_data(cache=True)
    return Req(params=request.args.to_dict(), raw=raw, files=files, cookies=request.cookies.to_dict())


def _handle(state: FakeWeChatState, endpoint: Endpoint, req: Req) -> Result:
    with state.lock:
        try:
            if endpoint.auth:
                caller = state.tokens.check(req.params.get("access_token"), endpoint.auth, state.now())
                req = Req(req.params, req.raw, req.files, req.cookies, caller)
            return endpoint.handler(state, req)
        except WeChatError as error:
            return error.body()


def _posted_json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw.strip() else None
    except ValueError:
        return None


def _record(
    state: FakeWeChatState, endpoint: Endpoint, req: Req, errcode: int | None, status: int, held: bool = False
) -> None:
    body = _posted_json(req.raw)
    call = Call(endpoint.path, request.method, dict(req.params), body, errcode, state.now(), status, held)
    state.record_call(call)


def _touser(req: Req) -> str | None:
    body = _posted_json(req.raw)
    touser = body.get("touser") if isinstance(body, dict) else None
    return touser if isinstance(touser, str) else None


def _take_fault(state: FakeWeChatState, endpoint: Endpoint, req: Req) -> Fault | None:
    """Consumes the matching fault, then waits out the configured plus injected latency (outside the lock)."""
    with state.lock:
        fault = state.faults.take(endpoint.path, _touser(req))
        delay_ms = state.faults.latency_ms(endpoint.path) + (fault.latency_ms if fault else 0)
    if delay_ms:
        time.sleep(delay_ms / 1000)
    return fault


def make_view(state: FakeWeChatState, endpoint: Endpoint) -> Callable[[], Response]:
    def view() -> Response:
        req = _build_req()
        fault = _take_fault(state, endpoint, req)
        if fault is not None and fault.timeout:
            _record(state, endpoint, req, None, 504, held=True)
            state.hang()
            return Response("gateway timeout", status=504)
        if fault is not None and fault.http_status is not None:
            _record(state, endpoint, req, None, fault.http_status)
            page = f"<html><body>{fault.http_status}</body></html>"
            return Response(page, status=fault.http_status, content_type="text/html")
        if fault is not None and fault.errcode is not None:
            result: Result = WeChatError(fault.errcode).body()
        else:
            result = _handle(state, endpoint, req)
        response = _to_response(result)
        late = fault is not None and fault.late
        errcode = result.get("errcode", 0) if isinstance(result, dict) else None
        _record(state, endpoint, req, errcode, response.status_code, held=late)
        if late:
            state.hang()  # done, but the answer comes only after the client has given up
        return response

    view.__name__ = "wechat" + endpoint.path.replace("/", "_")
    return view
