"""Declared request parameters: each knows its JSON Schema (for OpenAPI) and parses strictly.

A value outside what the schema allows is a 400, never silently clamped, so the document
and the behaviour cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Literal

# The largest id the API accepts: beyond it SQLite and PostgreSQL integers overflow.
MAX_ID = 2**31 - 1
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class BadParameter(Exception):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


@dataclass(frozen=True, kw_only=True)
class Param:
    name: str
    description: str
    location: Literal["query", "path"] = "query"
    required: bool = False

    def schema(self) -> dict[str, Any]:
        raise NotImplementedError

    def parse(self, raw: str) -> Any:
        raise NotImplementedError

    def default(self) -> Any:
        return None

    def openapi(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "in": self.location,
            "required": self.required or self.location == "path",
            "description": self.description,
            "schema": self.schema(),
        }


@dataclass(frozen=True, kw_only=True)
class IntParam(Param):
    minimum: int = 1
    maximum: int = MAX_ID
    fallback: int | None = None

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}
        if self.fallback is not None:
            out["default"] = self.fallback
        return out

    def parse(self, raw: str) -> int:
        if not re.fullmatch(r"[+-]?\d{1,12}", raw.strip()):
            raise BadParameter(self.name, "须为整数")
        value = int(raw)
        if not self.minimum <= value <= self.maximum:
            raise BadParameter(self.name, f"须在 {self.minimum} 到 {self.maximum} 之间")
        return value

    def default(self) -> int | None:
        return self.fallback


@dataclass(frozen=True, kw_only=True)
class DateParam(Param):
    def schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "date"}

    def parse(self, raw: str) -> date:
        try:
            if not _DATE.match(raw):
                raise ValueError(raw)
            return date.fromisoformat(raw)
        except ValueError:
            raise BadParameter(self.name, "须为 YYYY-MM-DD 格式的日期") from None


@dataclass(frozen=True, kw_only=True)
class EnumParam(Param):
    enum: type[StrEnum]

    @property
    def values(self) -> list[str]:
        return [member.value for member in self.enum]

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": self.values}

    def parse(self, raw: str) -> StrEnum:
        if raw not in self.values:
            raise BadParameter(self.name, f"须为 {'、'.join(self.values)} 之一")
        return self.enum(raw)


@dataclass(frozen=True, kw_only=True)
class StrParam(Param):
    max_length: int = 32

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "maxLength": self.max_length}

    def parse(self, raw: str) -> str:
        if len(raw) > self.max_length:
            raise BadParameter(self.name, f"不能超过 {self.max_length} 个字符")
        return raw.strip()


PAGE = IntParam(name="page", description="页码，从 1 开始", maximum=100_000, fallback=1)
PER_PAGE = IntParam(name="per_page", description="每页条数（1–200）", maximum=200, fallback=50)
