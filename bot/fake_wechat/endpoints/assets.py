"""Official Account QR codes, user info and temporary media (media paths are shared with WeCom)."""

from __future__ import annotations

import secrets
from typing import Any

from ..errors import WeChatError, ok
from ..png import placeholder_qr
from ..protocol import Endpoint, Raw, Req, param
from ..records import Media, QrCode
from ..state import FakeWeChatState

_OA = ("oa",)
_ANY = ("oa", "wecom")
_QR_MAX_EXPIRE = 2_592_000  # 30 days
_QR_DEFAULT_EXPIRE = 60
_MB = 1024 * 1024
MEDIA_LIMITS = {"image": 10 * _MB, "voice": 2 * _MB, "video": 10 * _MB, "thumb": 64 * 1024, "file": 20 * _MB}


def _scene(action: str, scene: dict[str, Any]) -> int | str:
    if action in ("QR_SCENE", "QR_LIMIT_SCENE"):
        scene_id = scene.get("scene_id")
        top = 100_000 if action == "QR_LIMIT_SCENE" else 2**32 - 1
        if not isinstance(scene_id, int) or isinstance(scene_id, bool) or not 0 < scene_id <= top:
            raise WeChatError(40097, "invalid args: scene_id")
        return scene_id
    if action in ("QR_STR_SCENE", "QR_LIMIT_STR_SCENE"):
        scene_str = scene.get("scene_str")
        if not isinstance(scene_str, str) or not 0 < len(scene_str) <= 64:
            raise WeChatError(40097, "invalid args: scene_str")
        return scene_str
    raise WeChatError(40097, "invalid args: action_name")


def create_qrcode(state: FakeWeChatState, req: Req) -> dict[str, Any]:
    body = req.body()
    action = str(body.get("action_name", ""))
    info = body.get("action_info")
    scene = info.get("scene") if isinstance(info, dict) else None
    if not isinstance(scene, dict):
        raise WeChatError(40097, "invalid args: action_info.scene")
    value = _scene(action, scene)
    now = state.now()
    ticket = secrets.token_urlsafe(72)
    url = f"http://weixin.qq.com/q/{secrets.token_urlsafe(16)}"
    answer: dict[str, Any] = {"ticket": ticket, "url": url}
    expires_at = None
    if not action.startswith("QR_LIMIT"):
        expire = int(body.get("expire_seconds") or _QR_DEFAULT_EXPIRE)
        answer["expire_seconds"] = min(max(expire, 1), _QR_MAX_EXPIRE)
        expires_at = now + answer["expire_seconds"]
    state.qrcodes[ticket] = QrCode(ticket, action, value, url, now, expires_at)
    return answer


def show_qrcode(state: FakeWeChatState, req: Req) -> Raw:
    code = state.qrcodes.get(req.params.get("ticket", ""))
    if code is None or (code.expires_at is not None and code.expires_at <= state.now()):
        return Raw(b"<html><body>invalid ticket</body></html>", "text/html; charset=utf-8", 404)
    return Raw(placeholder_qr(code.ticket), "image/jpg")  # WeChat labels its PNG bytes image/jpg


def user_info(state: FakeWeChatState, req: Req) -> dict[str, Any]:
    openid = param(req, "openid", 41009)
    follower = state.followers.get(openid)
    if follower is None:
        raise WeChatError(40003)
    if not follower.subscribed:
        return {"subscribe": 0, "openid": openid, "tagid_list": []}
    return {
        "subscribe": 1,
        "openid": openid,
        "nickname": follower.nickname,  # WeChat stopped returning nicknames; kept here for the simulator
        "language": req.params.get("lang", "zh_CN"),
        "subscribe_time": int(follower.subscribe_time),
        "remark": "",
        "groupid": 0,
        "tagid_list": list(follower.tags),
        "subscribe_scene": "ADD_SCENE_QR_CODE",
        "qr_scene": 0,
        "qr_scene_str": "",
    }


def store_upload(state: FakeWeChatState, req: Req, kind: str) -> Media:
    """Validates and stores the multipart field `media` (shared with the robot's upload_media)."""
    if kind not in MEDIA_LIMITS:
        raise WeChatError(40004)
    upload = req.files.get("media")
    if upload is None or not upload.data:
        raise WeChatError(41005)
    if len(upload.data) > MEDIA_LIMITS[kind]:
        raise WeChatError(40006)
    media_id = secrets.token_urlsafe(48)
    media = Media(media_id, kind, upload.data, upload.content_type, upload.filename, state.now())
    state.media[media.media_id] = media
    return media


def upload_media(state: FakeWeChatState, req: Req) -> dict[str, Any]:
    media = store_upload(state, req, req.params.get("type", ""))
    answer = {"type": media.type, "media_id": media.media_id}
    if req.need_caller().kind == "wecom":
        return ok(**answer, created_at=str(int(media.created_at)))
    return {**answer, "created_at": int(media.created_at)}


def get_media(state: FakeWeChatState, req: Req) -> Raw:
    media = state.media.get(req.params.get("media_id", ""))
    if media is None or media.created_at + state.limits.media_ttl <= state.now():
        raise WeChatError(40007)
    return Raw(media.data, media.content_type or "application/octet-stream")


ENDPOINTS = (
    Endpoint("/cgi-bin/qrcode/create", ("POST",), create_qrcode, _OA),
    Endpoint("/cgi-bin/showqrcode", ("GET",), show_qrcode),
    Endpoint("/cgi-bin/user/info", ("GET",), user_info, _OA),
    Endpoint("/cgi-bin/media/upload", ("POST",), upload_media, _ANY),
    Endpoint("/cgi-bin/media/get", ("GET",), get_media, _ANY),
)
