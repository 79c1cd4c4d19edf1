"""Typed reading of a parsed TOML table, with errors that name the file and key, and no typo unnoticed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class DefinitionError(ValueError):
    """A flow definition is malformed; the message names the file and the key."""


class Table:
    """One TOML table. Read keys with the typed getters, then ``done()`` rejects keys never read."""

    def __init__(self, raw: object, where: str) -> None:
        if not isinstance(raw, Mapping):
            raise DefinitionError(f"{where}: expected a table")
        self.raw: Mapping[str, Any] = raw
        self.where = where
        self._read: set[str] = set()

    def error(self, key: str, message: str) -> DefinitionError:
        return DefinitionError(f"{self.where}.{key}: {message}")

    def has(self, key: str) -> bool:
        return key in self.raw

    def value(self, key: str) -> object:
        self._read.add(key)
        if key not in self.raw:
            raise self.error(key, "missing")
        return self.raw[key]

    def text(self, key: str, default: str | None = None) -> str:
        if default is not None and key not in self.raw:
            self._read.add(key)
            return default
        found = self.value(key)
        if not isinstance(found, str) or not found:
            raise self.error(key, "expected a non-empty string")
        return found

    def optional_text(self, key: str) -> str | None:
        if key in self.raw:
            return self.text(key)
        self._skip(key)
        return None

    def number(self, key: str, default: int | None = None) -> int:
        if default is not None and key not in self.raw:
            self._read.add(key)
            return default
        found = self.value(key)
        if not isinstance(found, int) or isinstance(found, bool) or found < 1:
            raise self.error(key, "expected a whole number of at least 1")
        return found

    def texts(self, key: str) -> tuple[str, ...]:
        if key not in self.raw:
            self._skip(key)
            return ()
        found = self.value(key)
        if not isinstance(found, list) or not all(isinstance(item, str) and item for item in found):
            raise self.error(key, "expected a list of non-empty strings")
        return tuple(found)

    def table(self, key: str) -> Table:
        return Table(self.value(key), f"{self.where}.{key}")

    def tables(self, key: str) -> list[Table]:
        if key not in self.raw:
            self._skip(key)
            return []
        found = self.value(key)
        if not isinstance(found, list):
            raise self.error(key, "expected a list of tables")
        return [Table(item, f"{self.where}.{key}[{i}]") for i, item in enumerate(found)]

    def done(self) -> None:
        unknown = sorted(set(self.raw) - self._read)
        if unknown:
            raise DefinitionError(f"{self.where}: unknown key(s) {', '.join(unknown)}")

    def _skip(self, key: str) -> None:
        self._read.add(key)
