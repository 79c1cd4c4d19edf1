"""A check-in's answers, as the chat flow, the mobile page and a staff call give them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from bot.flows.understanding.temperature import FEVER_FROM
from bot.models import Health

RETURN_PLANS = ("date", "returned", "undecided")
CITY_MAX = 64
# Anything outside this is a typo, not a body temperature.
_PLAUSIBLE = (Decimal("34"), Decimal("43"))


@dataclass(frozen=True)
class Answers:
    """What a resident said (any field may be missing when the check-in stopped half-way)."""

    health: Health | None = None
    temperature: Decimal | None = None
    whereabouts_unchanged: bool | None = None
    city: str = ""
    return_plan: str = ""  # date | returned | undecided
    return_date: date | None = None

    @property
    def effective_health(self) -> Health | None:
        """A temperature of 37.3 ℃ or more is a fever, whatever box was ticked."""
        feverish = self.temperature is not None and self.temperature >= FEVER_FROM
        if feverish and self.health in (None, Health.NORMAL):
            return Health.FEVER
        return self.health

    @property
    def abnormal(self) -> bool:
        health = self.effective_health
        return health is not None and health != Health.NORMAL

    @property
    def returned(self) -> bool:
        return self.return_plan == "returned"

    @classmethod
    def from_data(cls, data: Mapping[str, object]) -> Answers:
        """From a flow effect's data (JSON values); anything malformed is left out, never guessed."""
        health = data.get("health")
        plan = data.get("return_plan")
        unchanged = data.get("whereabouts_unchanged")
        return cls(
            health=Health(health) if isinstance(health, str) and health in set(Health) else None,
            temperature=temperature(data.get("temperature")),
            whereabouts_unchanged=unchanged if isinstance(unchanged, bool) else None,
            city=str(data.get("city") or "").strip()[:CITY_MAX],
            return_plan=plan if isinstance(plan, str) and plan in RETURN_PLANS else "",
            return_date=_date(data.get("return_date")),
        )


def temperature(value: object) -> Decimal | None:
    """A plausible body temperature with one decimal, or None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    low, high = _PLAUSIBLE
    return number.quantize(Decimal("0.1")) if low <= number <= high else None


def _date(value: object) -> date | None:
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
