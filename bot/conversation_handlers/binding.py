"""Binding a WeChat identity to a resident: QR scenes on follow or scan, the bind flow's effects,
starting binding for an unbound user, and the unbind flow's effect."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot import privacy
from bot.conversations import Turn, effect, event, starter
from bot.flows.model import Effect, Reply
from bot.services import binding, identities


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


@effect("bind_attempt")
def bind_attempt(turn: Turn, eff: Effect) -> Mapping[str, Any]:
    result = binding.attempt(
        turn.db,
        turn.identity,
        name=_text(eff.data.get("name")) or "",
        id_suffix=_text(eff.data.get("id_suffix")),
        phone=_text(eff.data.get("phone")),
        now=turn.now,
    )
    return {"outcome": "ok" if result.ok else "failed"}


@effect("bind_locked")
def bind_locked(turn: Turn, _eff: Effect) -> Mapping[str, Any]:
    return {"retry_after_minutes": binding.lock(turn.identity, turn.now)}


@effect("unbind")
def unbind(turn: Turn, _eff: Effect) -> Mapping[str, Any]:
    binding.unbind(turn.db, turn.identity)
    return {}


@starter
def bind_unbound(turn: Turn) -> str | None:
    identity = turn.identity
    return "bind" if identity.resident_id is None and not binding.locked(identity, turn.now) else None


def _scene(turn: Turn) -> list[Reply] | None:
    """A resident's QR code binds at once; a station's narrows binding, which then starts as usual."""
    scene = binding.find_scene(turn.db, turn.msg.qr_scene)
    if scene is None:
        return None
    if scene.resident_id is None:
        binding.narrow_to_station(turn.identity, scene)
        return None
    result = binding.bind_by_scene(turn.db, turn.identity, scene, turn.now)
    name = privacy.mask_name(result.resident.name) if result.resident else ""
    if result.ok:
        return [Reply("bind_privacy_notice"), Reply("bind_success", {"name": name})]
    if result.outcome == "taken":
        return [Reply("checkins/bind_taken")]
    if result.outcome == "already_bound":
        return [Reply("checkins/bind_already", {"name": name})]
    return None


@event("subscribe")
def on_subscribe(turn: Turn) -> list[Reply] | None:
    identities.subscribed(turn.identity, turn.now)
    return _scene(turn)


@event("scan")
def on_scan(turn: Turn) -> list[Reply] | None:
    return _scene(turn)
