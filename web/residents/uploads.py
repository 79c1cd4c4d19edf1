"""Uploaded files kept on the server between an import's preview and its confirmation.

The browser's session holds only a random token; the bytes live in a private temporary
directory, named by that token, and are deleted after the import or after ``TTL``.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
import time
from datetime import timedelta
from pathlib import Path

TTL = timedelta(hours=1)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")


class UploadStore:
    def __init__(self, directory: Path | None = None, ttl: timedelta = TTL) -> None:
        self.directory = directory or Path(tempfile.gettempdir()) / f"lanxi-uploads-{os.getuid()}"
        self.ttl = ttl

    def _path(self, token: str) -> Path | None:
        # Only tokens we could have made: nothing in a cookie can name another file.
        return self.directory / f"{token}.bin" if _TOKEN.fullmatch(token) else None

    def put(self, data: bytes) -> str:
        self.sweep()
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        token = secrets.token_urlsafe(24)
        path = self._path(token)
        assert path is not None
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        return token

    def get(self, token: object) -> bytes | None:
        """The stored bytes; None when the token is malformed, unknown or expired."""
        path = self._path(token) if isinstance(token, str) else None
        if path is None or not path.is_file():
            return None
        if time.time() - path.stat().st_mtime > self.ttl.total_seconds():
            path.unlink(missing_ok=True)
            return None
        return path.read_bytes()

    def delete(self, token: object) -> None:
        path = self._path(token) if isinstance(token, str) else None
        if path is not None:
            path.unlink(missing_ok=True)

    def sweep(self) -> int:
        """Delete files older than the TTL (abandoned previews); how many went."""
        if not self.directory.is_dir():
            return 0
        cutoff = time.time() - self.ttl.total_seconds()
        gone = 0
        for path in self.directory.glob("*.bin"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    gone += 1
            except FileNotFoundError:
                continue  # another worker swept it first
        return gone
