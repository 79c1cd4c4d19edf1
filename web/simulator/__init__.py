"""The chat simulator: play a resident against the real callback, watch groups receive advisories."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from bot import privacy
from bot.models import QrScene, Resident, WeChatIdentity
from bot.services.permissions import Permission
from bot.simulator import Simulator, SimulatorError
from web.db import get_db, runtime
from web.roles import require

bp = Blueprint("simulator", __name__, url_prefix="/simulator")
# The Official Account's menu: keys the flows declare (bot/flows/definitions) plus HELP.
MENU = (("CHECKIN", "每日报平安"), ("TIP", "举报谣言"), ("BIND", "绑定身份"), ("HELP", "使用帮助"))
SAMPLE_IDENTITIES = 12


def _simulator() -> Simulator:
    return Simulator(runtime().settings)


@bp.route("/")
@require(Permission.USE_SIMULATOR)
def index() -> ResponseReturnValue:
    db = get_db()
    rows = db.execute(
        select(WeChatIdentity.openid, Resident.name, Resident.current_city)
        .join(Resident, WeChatIdentity.resident_id == Resident.id)
        .order_by(WeChatIdentity.id)
        .limit(SAMPLE_IDENTITIES)
    ).all()
    identities = [{"openid": o, "label": f"{privacy.mask_name(n)}（{c}）"} for o, n, c in rows]
    scenes = db.scalars(select(QrScene).where(QrScene.station_id.is_not(None)).limit(30)).all()
    return render_template(
        "simulator/index.html",
        identities=identities,
        scenes=scenes,
        menu=MENU,
        available=_simulator().available(),
    )


@bp.route("/groups")
@require(Permission.USE_SIMULATOR)
def groups() -> ResponseReturnValue:
    return render_template("simulator/groups.html")


def _json_body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400)
    return data


def _field(data: dict[str, Any], name: str, limit: int = 2000) -> str:
    value = data.get(name, "")
    if not isinstance(value, str | int | float):
        abort(400)
    return str(value)[:limit]


@bp.post("/api/send")
@require(Permission.USE_SIMULATOR)
def send() -> ResponseReturnValue:
    data = _json_body()
    sim, openid, kind = _simulator(), _field(data, "openid", 64), _field(data, "kind", 16)
    if not openid:
        abort(400)
    actions = {
        "text": lambda: sim.text(openid, _field(data, "text")),
        "voice": lambda: sim.voice(openid, _field(data, "text")),
        "location": lambda: sim.location(openid, _field(data, "text", 100)),
        "image": lambda: sim.image(openid),
        "link": lambda: sim.link(openid, _field(data, "text", 200) or "转发的文章", _field(data, "url", 500)),
        "click": lambda: sim.click(openid, _field(data, "key", 64)),
        "follow": lambda: sim.follow(openid, _field(data, "scene", 64) or None),
        "unfollow": lambda: sim.unfollow(openid),
    }
    if kind not in actions:
        abort(400)
    try:
        reply = actions[kind]()
    except SimulatorError as exc:
        return jsonify(error={"code": "simulator", "message": str(exc)}), 502
    return jsonify(reply=reply)


@bp.post("/api/followers")
@require(Permission.USE_SIMULATOR)
def new_follower() -> ResponseReturnValue:
    try:
        return jsonify(openid=_simulator().new_follower("模拟用户"))
    except SimulatorError as exc:
        return jsonify(error={"code": "simulator", "message": str(exc)}), 502


@bp.get("/api/messages")
@require(Permission.USE_SIMULATOR)
def later_messages() -> ResponseReturnValue:
    openid = request.args.get("openid", "")[:64]
    try:
        messages = _simulator().later_messages(openid) if openid else []
    except SimulatorError as exc:
        return jsonify(error={"code": "simulator", "message": str(exc)}), 502
    return jsonify(items=[m.__dict__ for m in messages])


@bp.get("/api/groups")
@require(Permission.USE_SIMULATOR)
def group_messages() -> ResponseReturnValue:
    try:
        return jsonify(items=_simulator().group_messages()[:200])
    except SimulatorError as exc:
        return jsonify(error={"code": "simulator", "message": str(exc)}), 502


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
