"""Everything the fake WeChat remembers, behind one lock."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from .faults import FaultBook, normalize_endpoint
from .limits import Limits, PeriodCounter, SlidingWindow, shanghai_day, shanghai_month
from .records import (
    AppChat,
    Call,
    Corp,
    Delivery,
    Fault,
    Follower,
    Media,
    OAuthCode,
    QrCode,
    ServiceWindow,
)
from .tokens import TokenBook

DEFAULT_AGENT_ID = 1000002


@dataclass
class _Quotas:
    """Rate and quota counters; rebuilt on reset."""

    limits: Limits
    token: PeriodCounter = field(init=False)
    stable_force: PeriodCounter = field(init=False)
    template: PeriodCounter = field(init=False)
    mass: PeriodCounter = field(init=False)
    group_task: PeriodCounter = field(init=False)
    robot: SlidingWindow = field(init=False)

    def __post_init__(self) -> None:
        lim = self.limits
        self.token = PeriodCounter(lambda: lim.token_daily, shanghai_day)
        self.stable_force = PeriodCounter(lambda: lim.stable_force_refresh_daily, shanghai_day)
        self.template = PeriodCounter(lambda: lim.template_daily, shanghai_day)
        self.mass = PeriodCounter(lambda: lim.mass_per_follower_month, shanghai_month)
        self.group_task = PeriodCounter(lambda: lim.group_task_per_sender_month, shanghai_month)
        self.robot = SlidingWindow(lambda: lim.robot_per_minute, 60.0)


class FakeWeChatState:
    """Thread-safe, in-memory WeChat. Request handlers run while holding `lock`; so do the public methods.

    `clock` is injectable; `advance()` adds an offset on top of it (also reachable through `/_fake/clock`).
    `robot_registry`, when given, answers for robot keys nobody registered here: whether WeCom would
    know them (the embedded stand-in asks the panel's groups, so a robot added later works at once).
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        limits: Limits | None = None,
        robot_registry: Callable[[str], bool] | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.limits = limits or Limits()
        # Configuration: kept by reset().
        self.apps: dict[str, str] = {}
        self.corps: dict[str, Corp] = {}
        self.robot_keys: set[str] = set()
        self.robot_registry = robot_registry
        self.templates: set[str] = set()
        self._release = threading.Event()
        self._clear_runtime()

    def _clear_runtime(self) -> None:
        self._offset = 0.0
        self.tokens = TokenBook(self.limits.token_ttl, self.limits.token_grace)
        self.faults = FaultBook()
        self.quotas = _Quotas(self.limits)
        self.followers: dict[str, Follower] = {}
        self.windows: dict[str, ServiceWindow] = {}
        self.media: dict[str, Media] = {}
        self.qrcodes: dict[str, QrCode] = {}
        self.oauth_codes: dict[str, OAuthCode] = {}
        self.chats: dict[str, AppChat] = {}
        self._calls: list[Call] = []
        self._deliveries: list[Delivery] = []
        self._fetches: Counter[tuple[str, str]] = Counter()
        self._ids = itertools.count(1000)

    # -- time ---------------------------------------------------------------------------------------------
    def now(self) -> float:
        return self.clock() + self._offset

    def advance(self, seconds: float) -> float:
        with self.lock:
            self._offset += seconds
            return self.now()

    # -- configuration ------------------------------------------------------------------------------------
    def register_app(self, appid: str, secret: str) -> None:
        with self.lock:
            self.apps[appid] = secret

    def register_corp(self, corpid: str, secret: str, agentid: int = DEFAULT_AGENT_ID) -> None:
        with self.lock:
            self.corps.setdefault(corpid, Corp(corpid)).secrets[secret] = agentid

    def register_robot(self, key: str) -> None:
        with self.lock:
            self.robot_keys.add(key)

    def robot_exists(self, key: str) -> bool:
        """A registered key, or one the registry knows (remembered from then on, as WeCom would)."""
        with self.lock:
            if key in self.robot_keys:
                return True
            if not key or self.robot_registry is None or not self.robot_registry(key):
                return False
            self.robot_keys.add(key)
            return True

    def register_template(self, template_id: str) -> None:
        """Once any template is registered, only registered ids are accepted (40037 otherwise)."""
        with self.lock:
            self.templates.add(template_id)

    # -- people -------------------------------------------------------------------------------------------
    def add_follower(
        self, openid: str, nickname: str = "", subscribed: bool = True, tags: Iterable[int] = ()
    ) -> Follower:
        """Adds or updates a follower; `subscribed=False` models an unfollow."""
        with self.lock:
            follower = Follower(openid, nickname, subscribed, tuple(tags), self.now())
            self.followers[openid] = follower
            if not subscribed:
                self.windows.pop(openid, None)
            return follower

    def user_interaction(self, openid: str) -> ServiceWindow:
        """The user wrote to the account: opens (or renews) the 48 h, 5-message customer-service window.
        An unknown openid becomes a follower, since only followers can write."""
        with self.lock:
            follower = self.followers.get(openid)
            if follower is None:
                self.add_follower(openid)
            elif not follower.subscribed:
                self.add_follower(openid, follower.nickname, tags=follower.tags)
            window = ServiceWindow(self.now() + self.limits.window_seconds)
            self.windows[openid] = window
            return window

    # -- faults -------------------------------------------------------------------------------------------
    def inject_fault(
        self,
        endpoint: str,
        *,
        errcode: int | None = None,
        http_status: int | None = None,
        latency_ms: int = 0,
        times: int | None = 1,
        timeout: bool = False,
        late: bool = False,
        touser: str | None = None,
    ) -> Fault:
        fault = Fault(endpoint, errcode, http_status, latency_ms, times, timeout, late, touser)
        with self.lock:
            return self.faults.inject(fault)

    def clear_faults(self) -> None:
        """Removes faults and latency, and lets go of requests held by a timeout fault."""
        with self.lock:
            self.faults.clear()
        self.release_hung()

    def set_latency(self, endpoint: str, ms: int) -> None:
        with self.lock:
            self.faults.set_latency(endpoint, ms)

    def hang(self) -> None:
        """Holds the calling request thread (timeout, late) until released or `hang_seconds` pass."""
        with self.lock:
            event = self._release
        event.wait(self.limits.hang_seconds)

    def release_hung(self) -> None:
        with self.lock:
            self._release.set()
            self._release = threading.Event()

    # -- tokens -------------------------------------------------------------------------------------------
    def invalidate_tokens(self) -> None:
        with self.lock:
            self.tokens.invalidate_all()

    def count_fetch(self, endpoint: str, owner: str) -> None:
        self._fetches[(endpoint, owner)] += 1

    def token_fetches(self, owner: str | None = None, endpoint: str | None = None) -> int:
        """Successful calls to /cgi-bin/token, /cgi-bin/stable_token and /cgi-bin/gettoken."""
        path = normalize_endpoint(endpoint) if endpoint else None
        with self.lock:
            return sum(
                n
                for (ep, who), n in self._fetches.items()
                if (owner is None or who == owner) and (path is None or ep == path)
            )

    # -- records ------------------------------------------------------------------------------------------
    def next_id(self) -> int:
        return next(self._ids)

    def record_call(self, call: Call) -> None:
        with self.lock:
            self._calls.append(call)

    def deliver(self, kind: str, target: str, payload: dict[str, Any], recipients: Iterable[str] = ()) -> str:
        msgid = str(self.next_id())
        with self.lock:
            self._deliveries.append(Delivery(kind, target, payload, self.now(), msgid, tuple(recipients)))
        return msgid

    def calls(self, endpoint: str | None = None) -> list[Call]:
        path = normalize_endpoint(endpoint) if endpoint else None
        with self.lock:
            return [c for c in self._calls if path is None or c.endpoint == path]

    def delivered(self, kind: str | None = None, target: str | None = None) -> list[Delivery]:
        """Accepted messages of `kind`; `target` matches the addressed target or any recipient."""
        with self.lock:
            return [
                d
                for d in self._deliveries
                if (kind is None or d.kind == kind)
                and (target is None or d.target == target or target in d.recipients)
            ]

    def qr_code(self, ticket: str) -> QrCode | None:
        with self.lock:
            return self.qrcodes.get(ticket)

    def reset(self) -> None:
        """Back to a fresh server with the same registered apps, corps, robots and templates."""
        self.release_hung()
        with self.lock:
            self._clear_runtime()

    def stats(self) -> dict[str, Any]:
        with self.lock:
            fetches_by_endpoint: Counter[str] = Counter()
            for (endpoint, _), count in self._fetches.items():
                fetches_by_endpoint[endpoint] += count
            return {
                "now": self.now(),
                "calls": len(self._calls),
                "calls_by_endpoint": dict(Counter(c.endpoint for c in self._calls)),
                "errors": sum(1 for c in self._calls if c.errcode not in (0, None) or c.http_status >= 500),
                "delivered": dict(Counter(d.kind for d in self._deliveries)),
                "token_fetches": sum(self._fetches.values()),
                "token_fetches_by_endpoint": dict(fetches_by_endpoint),
                "followers": len(self.followers),
                "open_windows": sum(1 for w in self.windows.values() if w.expires_at > self.now()),
                "faults": [asdict(f) for f in self.faults.pending()],
            }
