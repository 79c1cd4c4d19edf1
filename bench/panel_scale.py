"""Panel at scale: dashboard, line lists and the resident page over a county's worth of history.

    .venv/bin/python -m bench.panel_scale                        # SQLite and PostgreSQL, full size
    .venv/bin/python -m bench.panel_scale --databases sqlite --residents 500 --days 5 --tips 1000

Data: ``bot.demo.seed`` (13,000 residents, their identities, 90 days of check-ins and visits,
about 1.2 M check-in rows), then 100,000 tips in 5,000 clusters and 10,000 leads, bulk-inserted
with Core executemany. PostgreSQL is ANALYZEd after the load, as autovacuum would; SQLite is not
(nothing runs ANALYZE there in production).

Each page is fetched through the Flask test client by a signed-in admin (county scope) and a
station officer (one station), once to warm up and then ``--repeat`` times: p50 and p95 are
printed per page against /healthz in the same run, then the query plan (EXPLAIN) of the slowest
statement each page ran.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import Engine, event, select, text
from sqlalchemy.orm import Session

from bench import seeding
from bench.common import figure, machine, note, percentile, postgres_available, scratch_database
from bot import demo
from bot.config import settings_from_dict
from bot.models import (
    Base,
    ClusterStatus,
    Jurisdiction,
    JurisdictionKind,
    Lead,
    LeadPriority,
    LeadSource,
    LeadStatus,
    Resident,
    Role,
    Tip,
    TipChannel,
    TipCluster,
)
from bot.runtime import Runtime
from bot.services import linelists, staff
from bot.services.audit import SYSTEM
from web import create_app
from web.linelists import PLACES

PASSWORD = "bench-password-0123456789"
TARGET_MS = 200.0
TIPS_PER_CLUSTER = 20


@dataclass(frozen=True)
class Options:
    residents: int
    days: int
    tips: int
    leads: int
    repeat: int


@dataclass
class Recorder:
    """The statements a request ran, with their durations (to EXPLAIN the slowest)."""

    active: bool = False
    statements: list[tuple[float, str, Any]] = field(default_factory=list)
    _started: float = 0.0

    def attach(self, engine: Engine) -> None:
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, *_args: Any) -> None:
        self._started = time.perf_counter()

    def _after(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        if self.active:
            self.statements.append((time.perf_counter() - self._started, statement, parameters))


# -- data -----------------------------------------------------------------------------------------------
def load(rt: Runtime, opts: Options) -> None:
    started = time.perf_counter()
    with rt.session() as db:
        demo.seed(db, rt.settings, residents=opts.residents, history_days=opts.days - 1)
    seconds = time.perf_counter() - started
    note(f"residents, identities, {opts.days} days of check-ins and visits: {seconds:.0f} s")
    started = time.perf_counter()
    clusters = max(1, opts.tips // TIPS_PER_CLUSTER)
    seeding.insert_chunks(rt.engine, TipCluster, cluster_rows(clusters))
    seeding.insert_chunks(rt.engine, Tip, tip_rows(opts.tips, clusters))
    with rt.engine.connect() as conn:
        residents = [(rid, sid) for rid, sid in conn.execute(select(Resident.id, Resident.station_id))]
    seeding.insert_chunks(rt.engine, Lead, lead_rows(opts.leads, residents, clusters))
    seconds = time.perf_counter() - started
    note(f"{opts.tips:,} tips in {clusters:,} clusters, {opts.leads:,} leads: {seconds:.0f} s")
    if rt.engine.dialect.name == "postgresql":
        with rt.engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def cluster_rows(count: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(7)
    now = datetime.now(UTC)
    statuses = list(ClusterStatus)
    for n in range(count):
        seen = now - timedelta(minutes=rng.randrange(0, 60 * 24 * 30))
        yield {
            "summary": f"传言{n}：某地出现疫情",
            "status": rng.choices(statuses, weights=[20, 10, 40, 5, 15, 10])[0],
            "reason": "",
            "debunk_text": "",
            "tip_count": TIPS_PER_CLUSTER,
            "reporter_count": TIPS_PER_CLUSTER,
            "media_count": 0,
            "seen_places": [],
            "first_seen": seen - timedelta(hours=6),
            "last_seen": seen,
            "decision_round": 0,
            "created_at": seen,
            "updated_at": seen,
        }


def tip_rows(count: int, clusters: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(8)
    now = datetime.now(UTC)
    for n in range(count):
        at = now - timedelta(minutes=rng.randrange(0, 60 * 24 * 30))
        yield {
            "ticket": f"T{at:%Y%m%d}-B{n:06d}",
            "cluster_id": 1 + n % clusters,
            "channel": TipChannel.WECHAT if n % 3 else TipChannel.FORM,
            "kind": "text",
            "reporter_hash": f"{n % 40_000:064x}",
            "text": f"群里有人说第{n % 997}号小区封了，还说有人发烧{n}",
            "url": "",
            "normalized_url": "",
            "seen_where": "微信群",
            "seen_when": "今天",
            "image_phash": "",
            "media_ref": "",
            "media_state": "",
            "media_attempts": 0,
            "media_error": "",
            "created_at": at,
        }


def lead_rows(count: int, residents: list[tuple[int, int]], clusters: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(9)
    now = datetime.now(UTC)
    for n in range(count):
        resident_id, station_id = residents[rng.randrange(len(residents))]
        from_tip = n % 5 == 0
        created = now - timedelta(hours=rng.randrange(0, 24 * 60))
        status = rng.choices(list(LeadStatus), weights=[30, 20, 50])[0]
        yield {
            "source": LeadSource.TIP if from_tip else LeadSource.CHECKIN,
            "cause_key": f"bench:{n}",
            "priority": LeadPriority.HIGH if n % 7 == 0 else LeadPriority.NORMAL,
            "station_id": station_id,
            "resident_id": None if from_tip else resident_id,
            "cluster_id": 1 + n % clusters if from_tip else None,
            "title": "核查谣言线索" if from_tip else "体温异常，需上门核实",
            "detail": "",
            "status": status,
            "due_date": (created + timedelta(days=2)).date(),
            "outcome": "",
            "outcome_note": "",
            "closed_at": created + timedelta(days=1) if status == LeadStatus.DONE else None,
            "created_at": created,
            "updated_at": created,
        }


# -- pages ----------------------------------------------------------------------------------------------
def signed_in(app: Flask, rt: Runtime, role: Role, where: Jurisdiction) -> FlaskClient:
    username = f"bench_{role.value}"
    with rt.session() as db:
        staff.create_user(db, SYSTEM, username=username, role=role, jurisdiction=where, password=PASSWORD)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token, "the login form carries a CSRF token"
    response = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token[1]}
    )
    assert response.status_code == 302, f"login as {username} failed"
    return client


def pages(app: Flask, residents: int) -> list[tuple[str, str]]:
    """(label, URL) of the pages measured: every line list where its area serves it."""
    rng = random.Random(11)
    named = [("dashboard", "/"), ("residents", "/residents/"), ("tips_queue", "/tips/"), ("leads", "/leads/")]
    with app.test_request_context():
        for name in linelists.LISTS:
            endpoint = f"{PLACES.get(name)}.line_list"
            if endpoint in app.view_functions:
                named.append((f"list_{name}", url_for(endpoint, name=name)))
                if name == "checkins":
                    named.append(("list_checkins_page_50", url_for(endpoint, name=name, page=50)))
        if "checkins.phone_list" in app.view_functions:
            named.append(("phone_list_page", url_for("checkins.phone_list")))
    named += [(f"resident_{n}", f"/residents/{1 + rng.randrange(residents)}") for n in range(3)]
    return named


def timed(client: FlaskClient, url: str, repeat: int) -> list[float] | None:
    """``repeat`` timings in ms, sorted; None when this user may not see the page (403)."""
    response = client.get(url)  # warm-up, and a check that the page works
    if response.status_code == 403:
        return None
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
    return sorted(samples)


def measure(rt: Runtime, opts: Options, recorder: Recorder) -> None:
    app = create_app(runtime=rt)
    with rt.session() as db:
        county = db.scalar(select(Jurisdiction).where(Jurisdiction.kind == JurisdictionKind.COUNTY))
        station = db.scalar(select(Jurisdiction).where(Jurisdiction.kind == JurisdictionKind.STATION))
        assert county is not None and station is not None
    clients = {
        "admin": signed_in(app, rt, Role.ADMIN, county),
        "station": signed_in(app, rt, Role.STATION_OFFICER, station),
    }
    kind = rt.engine.dialect.name
    health = timed(clients["admin"], "/healthz", opts.repeat) or []
    plans: list[tuple[str, float, str, Any]] = []
    for who, client in clients.items():
        for label, url in pages(app, opts.residents):
            if who == "station" and label.startswith("resident_"):
                continue  # another station's resident answers 404 to a station officer
            samples = timed(client, url, opts.repeat)
            if samples is None:
                continue  # not this role's page (a station officer does not review tips)
            p95 = percentile(samples, 95)
            figure(
                f"page_p95_ms_{kind}_{who}_{label}",
                p95,
                "ms",
                reference="healthz_p95_ms",
                ref_value=percentile(health, 95),
                target=f"< {TARGET_MS:.0f} ms",
                met=p95 < TARGET_MS,
            )
            note(f"p50 {percentile(samples, 50):.1f} ms over {opts.repeat} requests of {url}")
            recorder.statements.clear()
            recorder.active = True
            client.get(url)
            recorder.active = False
            if recorder.statements and who == "admin":
                seconds, statement, params = max(recorder.statements, key=lambda s: s[0])
                plans.append((label, seconds, statement, params))
    explain(rt.engine, plans)


def explain(engine: Engine, plans: list[tuple[str, float, str, Any]]) -> None:
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    print(f"\n-- query plans ({engine.dialect.name}): the slowest statement of each admin page --")
    with engine.connect() as conn:
        for label, seconds, statement, params in plans:
            print(f"\n[{label}] {seconds * 1000:.1f} ms: {' '.join(statement.split())[:300]}")
            for row in conn.exec_driver_sql(prefix + statement, params):
                print("   ", " | ".join(str(v) for v in row))


def run(kind: str, opts: Options) -> None:
    print(f"\n== panel at scale on {kind}: {opts.residents:,} residents, {opts.days} days ==")
    with scratch_database(kind) as url:
        rt = Runtime.from_settings(settings_from_dict({"database": {"url": url}}))
        Base.metadata.create_all(rt.engine)
        load(rt, opts)
        with Session(rt.engine) as db:
            note(f"check-in rows: {db.scalar(text('SELECT count(*) FROM checkins')):,}")
        recorder = Recorder()
        recorder.attach(rt.engine)
        measure(rt, opts, recorder)
        rt.engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--residents", type=int, default=13_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--tips", type=int, default=100_000)
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    opts = Options(args.residents, args.days, args.tips, args.leads, args.repeat)
    print(machine())
    for kind in args.databases.split(","):
        if kind == "postgresql" and not postgres_available():
            print("postgresql: skipped, the server does not answer (set LANXI_BENCH_PG_URL)")
            continue
        run(kind, opts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
