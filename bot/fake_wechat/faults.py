"""Injected failures and latency, matched by endpoint path."""

from __future__ import annotations

from dataclasses import replace

from .records import Fault

ANY = "*"
_ROOTS = ("cgi-bin/", "sns/", "connect/")


def normalize_endpoint(name: str) -> str:
    """'message/custom/send', 'cgi-bin/message/custom/send' and '/cgi-bin/message/custom/send' are one."""
    if name == ANY:
        return ANY
    path = name.split("?", 1)[0].strip("/")
    if not path.startswith(_ROOTS):
        path = "cgi-bin/" + path
    return "/" + path


class FaultBook:
    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._latency_ms: dict[str, int] = {}

    def inject(self, fault: Fault) -> Fault:
        fault = replace(fault, endpoint=normalize_endpoint(fault.endpoint))
        self._faults.append(fault)
        return fault

    def take(self, endpoint: str, touser: str | None = None) -> Fault | None:
        """The first fault matching `endpoint` (and the call's `touser`), counting one use of it."""
        for index, fault in enumerate(self._faults):
            if fault.endpoint not in (endpoint, ANY) or fault.touser not in (None, touser):
                continue
            if fault.times is not None:
                if fault.times <= 1:
                    del self._faults[index]
                else:
                    self._faults[index] = replace(fault, times=fault.times - 1)
            return fault
        return None

    def pending(self) -> list[Fault]:
        return list(self._faults)

    def set_latency(self, endpoint: str, ms: int) -> None:
        key = normalize_endpoint(endpoint)
        if ms > 0:
            self._latency_ms[key] = ms
        else:
            self._latency_ms.pop(key, None)

    def latency_ms(self, endpoint: str) -> int:
        return self._latency_ms.get(endpoint, self._latency_ms.get(ANY, 0))

    def clear(self) -> None:
        self._faults.clear()
        self._latency_ms.clear()
