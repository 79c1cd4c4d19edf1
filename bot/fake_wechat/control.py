"""`/_fake/...`: the state's methods as JSON, so a separate process can be driven (simulator, benchmarks)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, jsonify, request

from .records import DELIVERY_KINDS
from .state import DEFAULT_AGENT_ID, FakeWeChatState


class BadInput(ValueError):
    pass


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadInput("expected a JSON object")
    return data


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise BadInput(f"{name}: non-empty string required")
    return value


def _int_or_none(data: dict[str, Any], name: str) -> int | None:
    value = data.get(name)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise BadInput(f"{name}: integer or null required")
    return value


def _done(**extra: Any) -> Response:
    return jsonify({"ok": True, **extra})


def create_control_blueprint(state: FakeWeChatState) -> Blueprint:
    bp = Blueprint("fake_control", __name__, url_prefix="/_fake")

    @bp.errorhandler(BadInput)
    def bad_input(error: BadInput) -> tuple[Response, int]:
        return jsonify({"ok": False, "error": str(error)}), 400

    _add_setup_routes(bp, state)
    _add_fault_routes(bp, state)
    _add_query_routes(bp, state)
    return bp


def _add_setup_routes(bp: Blueprint, state: FakeWeChatState) -> None:
    """Registrations and the people in the scenario."""

    @bp.post("/apps")
    def apps() -> Response:
        data = _body()
        state.register_app(_text(data, "appid"), _text(data, "secret"))
        return _done()

    @bp.post("/corps")
    def corps() -> Response:
        data = _body()
        state.register_corp(
            _text(data, "corpid"), _text(data, "secret"), _int_or_none(data, "agentid") or DEFAULT_AGENT_ID
        )
        return _done()

    @bp.post("/robots")
    def robots() -> Response:
        state.register_robot(_text(_body(), "key"))
        return _done()

    @bp.post("/templates")
    def templates() -> Response:
        state.register_template(_text(_body(), "template_id"))
        return _done()

    @bp.post("/followers")
    def followers() -> Response:
        data = _body()
        tags = data.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, int) for t in tags):
            raise BadInput("tags: list of integers required")
        follower = state.add_follower(
            _text(data, "openid"), str(data.get("nickname", "")), bool(data.get("subscribed", True)), tags
        )
        return _done(follower=asdict(follower))

    @bp.post("/interactions")
    def interactions() -> Response:
        window = state.user_interaction(_text(_body(), "openid"))
        return _done(window=asdict(window))


def _add_fault_routes(bp: Blueprint, state: FakeWeChatState) -> None:
    """Failures, latency, token loss and time."""

    @bp.route("/faults", methods=["GET", "POST", "DELETE"])
    def faults() -> Response:
        if request.method == "DELETE":
            state.clear_faults()
            return _done()
        if request.method == "GET":
            return _done(faults=[asdict(f) for f in state.faults.pending()])
        data = _body()
        times = data.get("times", 1)
        if times is not None and (not isinstance(times, int) or times < 1):
            raise BadInput("times: positive integer or null (always) required")
        fault = state.inject_fault(
            _text(data, "endpoint"),
            errcode=_int_or_none(data, "errcode"),
            http_status=_int_or_none(data, "http_status"),
            latency_ms=_int_or_none(data, "latency_ms") or 0,
            times=times,
            timeout=bool(data.get("timeout", False)),
            late=bool(data.get("late", False)),
            touser=_text(data, "touser") if data.get("touser") is not None else None,
        )
        return _done(fault=asdict(fault))

    @bp.post("/latency")
    def latency() -> Response:
        data = _body()
        state.set_latency(_text(data, "endpoint"), _int_or_none(data, "ms") or 0)
        return _done()

    @bp.post("/invalidate-tokens")
    def invalidate_tokens() -> Response:
        state.invalidate_tokens()
        return _done()

    @bp.post("/clock")
    def clock() -> Response:
        advance = _body().get("advance")
        if not isinstance(advance, int | float) or isinstance(advance, bool):
            raise BadInput("advance: seconds required")
        return _done(now=state.advance(float(advance)))


def _add_query_routes(bp: Blueprint, state: FakeWeChatState) -> None:
    """What happened, and starting over."""

    @bp.get("/calls")
    def calls() -> Response:
        return _done(calls=[asdict(c) for c in state.calls(request.args.get("endpoint") or None)])

    @bp.get("/delivered")
    def delivered() -> Response:
        kind = request.args.get("kind") or None
        if kind is not None and kind not in DELIVERY_KINDS:
            raise BadInput(f"kind: one of {', '.join(DELIVERY_KINDS)}")
        items = state.delivered(kind, request.args.get("target") or None)
        return _done(delivered=[asdict(d) for d in items])

    @bp.post("/reset")
    def reset() -> Response:
        state.reset()
        return _done()

    @bp.get("/stats")
    def stats() -> Response:
        return _done(**state.stats())
