"""No plaintext ID number, phone or tip reporter contact in the raw SQLite file or a PostgreSQL dump."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.runtime import Runtime
from tests.hardening.privacy.support import REPORTER_CONTACT, hits, resident_identifiers, seed_demo


def _raw_bytes(rt: Runtime) -> bytes:
    url = make_url(rt.settings.database.url)
    if url.get_backend_name() == "sqlite":
        assert url.database
        files = [Path(url.database), Path(f"{url.database}-wal")]
        return b"".join(f.read_bytes() for f in files if f.exists())
    dump = subprocess.run(
        [
            "/usr/bin/pg_dump",
            "--no-owner",
            "--dbname",
            url.set(drivername="postgresql").render_as_string(False),
        ],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return dump.stdout


def test_demo_identifiers_never_stored_in_plaintext(committing_rt: Runtime) -> None:
    with committing_rt.session() as db:
        seed_demo(db, committing_rt.settings)
    with committing_rt.session() as db:
        identifiers = resident_identifiers(db)
    assert len(identifiers) >= 2 * 300 - 5  # every resident has both (collisions are vanishingly rare)
    raw = _raw_bytes(committing_rt)
    assert len(raw) > 100_000  # the scan really saw the data
    assert "县医院".encode() in raw  # ...and plaintext columns are visible to it
    assert hits(raw, identifiers) == []
    assert REPORTER_CONTACT.encode() not in raw
    assert b"tipster_lanxi_7731" not in raw and b"13700137731" not in raw
