"""Settings: TOML file + environment overrides, validated into frozen dataclasses.

The file is chosen by ``--config``, else ``$LANXI_CONFIG``, else ``./config.toml``,
else the built-in embedded defaults (SQLite under ./var/, the local WeChat stand-in).
Every problem is reported as one ``ConfigError`` naming the key, never a traceback.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Embedded-mode placeholders: fine for the demo, refused when [web] production = true.
DEMO_SECRET = "lanxi-demo-secret-not-for-production"
DEMO_ENCRYPTION_KEY = "bGFueGktZGVtby1lbmNyeXB0aW9uLWtleS0zMmJ5dGU="  # base64 of a fixed 32 bytes
# The API base URL meaning "the local WeChat stand-in served by this process under /fake-wechat".
EMBEDDED = "embedded"
FAKE_WECHAT_PATH = "/fake-wechat"


class ConfigError(Exception):
    """A configuration problem, phrased for an operator and naming the key."""


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = "sqlite:///var/lanxi.db"
    # Connections in the pool per process (PostgreSQL only).
    pool_size: int = 10


@dataclass(frozen=True)
class WebSettings:
    secret_key: str = DEMO_SECRET
    host: str = "127.0.0.1"
    port: int = 8080
    public_base_url: str = "http://127.0.0.1:8080"
    # Production refuses the demo placeholders for secrets and keys.
    production: bool = False
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    # Requests one API token may make (moving window), in the `limits` notation.
    api_rate_limit: str = "120/minute"


@dataclass(frozen=True)
class WeChatSettings:
    app_id: str = "wxlanxidemo0000001"
    app_secret: str = "lanxi-demo-app-secret"
    token: str = "lanxidemotoken"
    encoding_aes_key: str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    api_base_url: str = EMBEDDED
    open_base_url: str = EMBEDDED
    checkin_template_id: str = "lanxi-checkin-template"
    # Seconds a callback timestamp may differ from our clock before it is refused as a replay.
    max_clock_skew: int = 300
    http_timeout: float = 5.0


@dataclass(frozen=True)
class WeComSettings:
    corp_id: str = "wwlanxidemo000001"
    agent_id: int = 1000002
    secret: str = "lanxi-demo-wecom-secret"
    token: str = "lanxidemowecomtoken"
    encoding_aes_key: str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
    api_base_url: str = EMBEDDED


@dataclass(frozen=True)
class DeliverySettings:
    backend: Literal["inline", "celery"] = "inline"
    broker_url: str = "redis://127.0.0.1:6379/0"
    concurrency: int = 4
    # A row left "sending" this long by a worker that died is delivered again (at most those rows twice).
    sending_lease_seconds: int = 300


@dataclass(frozen=True)
class CheckinSettings:
    timezone: str = "Asia/Shanghai"
    time: str = "09:00"
    reminder_time: str = "15:00"
    close_time: str = "20:00"
    monitoring_days: int = 14


@dataclass(frozen=True)
class PrivacySettings:
    encryption_key: str = DEMO_ENCRYPTION_KEY
    retention_days: int = 180


@dataclass(frozen=True)
class AdvisorySettings:
    # Roles whose approval an advisory needs, in order; nothing is sent without the whole chain.
    approval_chain: tuple[str, ...] = ("propaganda", "leader")
    # Words that block submission until removed (in addition to the built-in list).
    sensitive_words: tuple[str, ...] = ()
    hotline: str = "0455-5623110"


@dataclass(frozen=True)
class TipSettings:
    # A cluster waiting longer than this for review is highlighted in the queue.
    review_overdue_hours: int = 4
    # Tips one reporter (WeChat user or form client) may file per day.
    per_reporter_daily_limit: int = 10
    # Public form submissions per client address per hour.
    form_hourly_limit: int = 5
    # Largest media file fetched from WeChat for a tip.
    max_media_bytes: int = 10 * 1024 * 1024
    # A reviewer's hold on a cluster lapses after this long without an action, so work never stalls.
    claim_stale_minutes: int = 120
    # The template message carrying a verdict when the reporter's 48 h window is closed.
    verdict_template_id: str = "lanxi-tip-verdict-template"


@dataclass(frozen=True)
class ReportSettings:
    # Titles of the level-by-level approvals of the daily report, in order (each by a leader).
    approval_chain: tuple[str, ...] = ("所长", "政委", "分管局领导")
    time: str = "20:30"


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    web: WebSettings = field(default_factory=WebSettings)
    wechat: WeChatSettings = field(default_factory=WeChatSettings)
    wecom: WeComSettings = field(default_factory=WeComSettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    checkin: CheckinSettings = field(default_factory=CheckinSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    advisories: AdvisorySettings = field(default_factory=AdvisorySettings)
    tips: TipSettings = field(default_factory=TipSettings)
    reports: ReportSettings = field(default_factory=ReportSettings)
    # Where the settings came from, for `lanxi` to say so; not a TOML key.
    source: str = field(default="built-in defaults", compare=False)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.checkin.timezone)

    @property
    def uses_embedded_fake(self) -> bool:
        return EMBEDDED in (self.wechat.api_base_url, self.wechat.open_base_url, self.wecom.api_base_url)

    def resolved(self) -> Settings:
        """The settings with "embedded" base URLs replaced by the in-process stand-in's address."""
        fake = self.web.public_base_url.rstrip("/") + FAKE_WECHAT_PATH

        def pick(value: str) -> str:
            return fake if value == EMBEDDED else value.rstrip("/")

        return replace(
            self,
            wechat={
                "api_base_url": pick(self.wechat.api_base_url),
                "open_base_url": pick(self.wechat.open_base_url),
            },
            wecom={"api_base_url": pick(self.wecom.api_base_url)},
        )


ENV_OVERRIDES: dict[str, tuple[str, str]] = {
    "LANXI_DATABASE_URL": ("database", "url"),
    "LANXI_SECRET_KEY": ("web", "secret_key"),
    "LANXI_ENCRYPTION_KEY": ("privacy", "encryption_key"),
    "LANXI_WECHAT_APP_SECRET": ("wechat", "app_secret"),
    "LANXI_WECOM_SECRET": ("wecom", "secret"),
}

_ROLES = frozenset({"admin", "leader", "data_clerk", "propaganda", "cyber_police", "station_officer"})
_TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def find_config_file(explicit: str | None, env: dict[str, str] | None = None) -> Path | None:
    env = dict(os.environ) if env is None else env
    if explicit:
        return Path(explicit)
    if env.get("LANXI_CONFIG"):
        return Path(env["LANXI_CONFIG"])
    local = Path("config.toml")
    return local if local.is_file() else None


def load_settings(path: str | Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Load settings from ``path`` (or the default search) and the environment."""
    env = dict(os.environ) if env is None else env
    chosen = find_config_file(str(path) if path else None, env)
    raw: dict[str, Any] = {}
    source = "built-in defaults"
    if chosen is not None:
        try:
            raw = tomllib.loads(chosen.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {chosen}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {chosen} is not valid TOML: {exc}") from None
        source = str(chosen)
    for var, (section, key) in ENV_OVERRIDES.items():
        if env.get(var):
            raw.setdefault(section, {})
            if not isinstance(raw[section], dict):
                raise ConfigError(f"[{section}] must be a table")
            raw[section][key] = env[var]
    settings = settings_from_dict(raw, source=source)
    validate(settings)
    return settings


def settings_from_dict(raw: dict[str, Any], *, source: str = "dict") -> Settings:
    sections: dict[str, Any] = {}
    hints = get_type_hints(Settings)
    for name, value in raw.items():
        if name not in hints or name == "source":
            raise ConfigError(f"unknown configuration section [{name}]")
        if not isinstance(value, dict):
            raise ConfigError(f"[{name}] must be a table")
        sections[name] = _build_section(name, hints[name], value)
    return Settings(**sections, source=source)


def _build_section(section: str, cls: type[Any], values: dict[str, Any]) -> Any:
    hints = get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in hints:
            raise ConfigError(f"unknown configuration key {section}.{key}")
        kwargs[key] = _coerce(f"{section}.{key}", hints[key], value)
    return cls(**kwargs)


def _coerce(name: str, hint: Any, value: Any) -> Any:
    if get_origin(hint) is Literal:
        if value in get_args(hint):
            return value
        allowed = ", ".join(map(repr, get_args(hint)))
        raise ConfigError(f"{name} must be one of {allowed}, got {value!r}")
    if get_origin(hint) is tuple:
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return tuple(value)
        if isinstance(value, str):  # environment variables: comma-separated
            return tuple(item.strip() for item in value.split(",") if item.strip())
        raise ConfigError(f"{name} must be a list of strings, got {value!r}")
    coerced = _COERCERS[hint](value)
    if coerced is None:
        raise ConfigError(f"{name} must be of type {hint.__name__}, got {value!r}")
    return coerced


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    return None


def _as_int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)  # environment variables arrive as strings
    return None


def _as_float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


_COERCERS: dict[type, Callable[[Any], Any]] = {bool: _as_bool, int: _as_int, float: _as_float, str: _as_str}


def validate(settings: Settings) -> None:
    """Checks that need more than a type: formats, ranges, production secrets."""
    _validate_times(settings)
    unknown_roles = set(settings.advisories.approval_chain) - _ROLES
    if unknown_roles or not settings.advisories.approval_chain:
        raise ConfigError(f"advisories.approval_chain must list roles among {sorted(_ROLES)}")
    for key, value in (
        ("checkin.monitoring_days", settings.checkin.monitoring_days),
        ("privacy.retention_days", settings.privacy.retention_days),
        ("delivery.concurrency", settings.delivery.concurrency),
        ("delivery.sending_lease_seconds", settings.delivery.sending_lease_seconds),
    ):
        if value < 1:
            raise ConfigError(f"{key} must be at least 1")
    for section in ("wechat", "wecom"):
        aes = getattr(settings, section).encoding_aes_key
        if aes and len(aes) != 43:
            raise ConfigError(f"{section}.encoding_aes_key must be 43 characters")
    _validate_encryption_key(settings.privacy.encryption_key)
    _validate_rate_limit("web.api_rate_limit", settings.web.api_rate_limit)
    if settings.web.production:
        _validate_production(settings)


def _validate_times(settings: Settings) -> None:
    c = settings.checkin
    for key, value in (
        ("checkin.time", c.time),
        ("checkin.reminder_time", c.reminder_time),
        ("checkin.close_time", c.close_time),
        ("reports.time", settings.reports.time),
    ):
        if not _TIME_RE.match(value):
            raise ConfigError(f"{key} must be HH:MM (24-hour), got {value!r}")
    if not c.time < c.reminder_time < c.close_time:
        raise ConfigError("checkin.time < checkin.reminder_time < checkin.close_time must hold")
    try:
        ZoneInfo(c.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"checkin.timezone is not a known time zone: {c.timezone!r}") from None


def _validate_rate_limit(key: str, value: str) -> None:
    from limits import parse

    try:
        allowed = parse(value).amount
    except ValueError:
        allowed = 0
    if allowed < 1:
        raise ConfigError(f'{key} must be a rate such as "120/minute" or "10/second", got {value!r}')


def _validate_encryption_key(key: str) -> None:
    import base64
    import binascii

    try:
        raw = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError("privacy.encryption_key must be base64 of 32 random bytes") from None
    if len(raw) != 32:
        raise ConfigError("privacy.encryption_key must be base64 of 32 random bytes")


def _validate_production(settings: Settings) -> None:
    demo_defaults = {
        "web.secret_key": (settings.web.secret_key, DEMO_SECRET),
        "privacy.encryption_key": (settings.privacy.encryption_key, DEMO_ENCRYPTION_KEY),
        "wechat.app_secret": (settings.wechat.app_secret, WeChatSettings.app_secret),
        "wecom.secret": (settings.wecom.secret, WeComSettings.secret),
    }
    for key, (value, demo) in demo_defaults.items():
        if not value or value == demo:
            raise ConfigError(f"{key} is missing: production mode needs a real secret (file or environment)")


def replace(settings: Settings, **sections: dict[str, Any]) -> Settings:
    """A copy with some keys changed, e.g. ``replace(s, database={"url": ...})``; for tests and the CLI."""
    changed: dict[str, Any] = {}
    for name, values in sections.items():
        changed[name] = dataclasses.replace(getattr(settings, name), **values)
    return dataclasses.replace(settings, **changed)
