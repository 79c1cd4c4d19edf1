"""Check-ins at county scale: import 13,000 residents, then one day's prompts enqueued and delivered.

    .venv/bin/python -m bench.checkin_dispatch                      # SQLite, 13,000 residents
    .venv/bin/python -m bench.checkin_dispatch --database postgresql --residents 13000

1. Import: a 13,000-row .xlsx read, validated and written by the same service as
   `lanxi residents import` (all rows new), then the same file again (all rows found, unchanged).
   Reference: reading and validating the workbook alone.
2. Enqueue: every resident is bound and following (``--window-percent`` wrote within 48 h, so
   their prompt goes as a chat message, the others' as a template message); the real
   ``daily_checkin`` job runs, timed. Reference: the same number of outbox rows by bare executemany.
3. Delivery: the inline backend's delivery threads (``--concurrency``) deliver the day's prompts
   to a FakeWeChatServer at its default latency (no added delay), through the real channels.
   The rate limits are lifted for this run (``--rate-limited`` keeps the configured ones); the
   time the configured limits alone would impose is printed beside it.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from datetime import date, timedelta

from openpyxl import Workbook
from sqlalchemy import delete, func, insert, select

from bench import seeding
from bench.common import figure, machine, note, postgres_available, scratch_database
from bot.channels import build_channels
from bot.config import settings_from_dict
from bot.delivery.inline import InlineDelivery
from bot.delivery.rate import DEFAULT_LIMITS, RateGate
from bot.fake_wechat import FakeWeChatServer, FakeWeChatState
from bot.importing.headers import RESIDENT_COLUMNS
from bot.importing.validators import id_check_digit
from bot.jobs import run_job
from bot.models import Base, JurisdictionKind, OutboxMessage, OutboxStatus, utcnow
from bot.runtime import Runtime
from bot.services import jurisdictions, resident_import
from bot.services.audit import CLI

TODAY = date(2020, 2, 15)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
CITIES = (
    "黑龙江省哈尔滨市南岗区",
    "北京市朝阳区",
    "辽宁省大连市中山区",
    "浙江省杭州市西湖区",
    "广东省深圳市南山区",
)


def workbook(rows: int, stations: list[tuple[str, str]]) -> bytes:
    """A township's file of ``rows`` distinct residents (valid ID numbers and phones), streamed."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("外出人员")
    sheet.append(list(RESIDENT_COLUMNS))
    for n in range(rows):
        born = date(1950, 1, 1) + timedelta(days=n % 18_000)  # distinct ID numbers up to 18 million rows
        first17 = f"231222{born:%Y%m%d}{n // 18_000 % 1000:03d}"
        township, station = stations[n % len(stations)]
        name = SURNAMES[n % 20] + GIVEN[n // 20 % 20] + GIVEN[n // 400 % 20]
        sheet.append(
            [
                name,
                first17 + id_check_digit(first17),
                f"139{n:08d}",
                "黑龙江省兰西县",
                CITIES[n % 5],
                "2020-01-20",
                "务工",
                "2020-03-01",
                station,
                township,
                "",
            ]
        )
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


def run_import(rt: Runtime, data: bytes) -> tuple[float, float, float]:
    """(validate-only seconds, first import seconds, re-import seconds)."""
    with rt.session() as db:
        started = time.perf_counter()
        resident_import.validate_file(db, data, "bench.xlsx", today=TODAY)
        validate_only = time.perf_counter() - started
    timings = []
    for _ in range(2):
        started = time.perf_counter()
        with rt.session() as db:
            result = resident_import.validate_file(db, data, "bench.xlsx", today=TODAY)
            resident_import.apply(db, CLI, result, source="bench.xlsx")
        timings.append(time.perf_counter() - started)
    return validate_only, timings[0], timings[1]


def reference_enqueue(rt: Runtime, count: int) -> float:
    """Bare Core executemany of ``count`` outbox rows (then removed): the floor of enqueueing."""
    now = utcnow()
    rows = [
        seeding.outbox_row(f"ref:{n}", f"o{n}", {"template_id": "t", "data": {}}, now) for n in range(count)
    ]
    started = time.perf_counter()
    with rt.engine.begin() as conn:
        for start in range(0, count, 5000):
            conn.execute(insert(OutboxMessage), rows[start : start + 5000])
    elapsed = time.perf_counter() - started
    with rt.engine.begin() as conn:
        conn.execute(delete(OutboxMessage).where(OutboxMessage.idempotency_key.startswith("ref:")))
    return elapsed


def deliver(rt: Runtime, concurrency: int, rate_limited: bool, timeout: float) -> tuple[int, float]:
    """Deliver every queued row; (rows sent, seconds)."""
    limits = None if rate_limited else {prefix: "1000000/second" for prefix in DEFAULT_LIMITS}
    with rt.session() as db:
        queued = db.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.status == OutboxStatus.QUEUED)
        )
    delivery = InlineDelivery(rt, build_channels(rt), RateGate(limits=limits), concurrency)
    started = time.perf_counter()
    delivery.start()
    sent = 0
    try:
        while time.perf_counter() - started < timeout:
            time.sleep(0.5)
            with rt.session() as db:
                sent = (
                    db.scalar(
                        select(func.count(OutboxMessage.id)).where(OutboxMessage.status == OutboxStatus.SENT)
                    )
                    or 0
                )
            if sent >= (queued or 0):
                break
    finally:
        elapsed = time.perf_counter() - started
        delivery.stop()
    return sent, elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--residents", type=int, default=13_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--window-percent", type=int, default=30)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rate-limited", action="store_true", help="keep the configured per-channel limits")
    parser.add_argument(
        "--timeout", type=float, default=240.0, help="give up delivering after this many seconds"
    )
    args = parser.parse_args(argv)
    if args.database == "postgresql" and not postgres_available():
        print("PostgreSQL is not reachable; run with --database sqlite", file=sys.stderr)
        return 2
    print(machine())
    print(
        f"checkin_dispatch: {args.residents} residents, {args.database},"
        f" {args.window_percent}% in the chat window"
    )
    state = FakeWeChatState()
    with scratch_database(args.database) as url, FakeWeChatServer(state) as fake:
        settings = settings_from_dict(
            {
                "database": {"url": url},
                "wechat": {"api_base_url": fake.url, "open_base_url": fake.url},
                "wecom": {"api_base_url": fake.url},
            },
            source="bench",
        )
        rt = Runtime.from_settings(settings)
        state.register_app(settings.wechat.app_id, settings.wechat.app_secret)
        state.register_template(settings.wechat.checkin_template_id)
        Base.metadata.create_all(rt.engine)
        with rt.session() as db:
            towns = [(f"基准镇{n}", f"基准镇{n}派出所") for n in range(1, 9)]
            county = jurisdictions.county(db)
            for township, station in towns:
                town, _ = jurisdictions.upsert_child(db, county, JurisdictionKind.TOWNSHIP, township)
                jurisdictions.upsert_child(db, town, JurisdictionKind.STATION, station)

        data = workbook(args.residents, towns)
        validate_only, first, again = run_import(rt, data)
        figure(
            "import, all rows new",
            first,
            "s",
            reference="read + validate only",
            ref_value=validate_only,
            target="well under 60 s",
            met=first < 60,
        )
        figure(
            "import again, all rows known",
            again,
            "s",
            reference="read + validate only",
            ref_value=validate_only,
        )

        seeding.bind_everyone(rt.engine, settings.wechat.app_id, args.window_percent)
        for openid, window in seeding.openids(rt.engine, settings.wechat.app_id):
            state.add_follower(openid)
            if window:
                state.user_interaction(openid)
        reference = reference_enqueue(rt, args.residents)
        started = time.perf_counter()
        summary = run_job(rt, "daily_checkin")
        enqueue = time.perf_counter() - started
        note(f"daily_checkin: {summary}")
        figure(
            "enqueue one day's prompts (daily_checkin job)",
            enqueue,
            "s",
            reference="bare executemany of as many outbox rows",
            ref_value=reference,
        )

        sent, seconds = deliver(rt, args.concurrency, args.rate_limited, args.timeout)
        custom, template = len(state.delivered("custom")), len(state.delivered("template"))
        note(f"delivered to the local WeChat: {custom} chat messages, {template} template messages")
        figure(
            f"deliver one day's prompts ({args.concurrency} threads)",
            seconds,
            "s",
            reference="enqueue",
            ref_value=enqueue,
        )
        note(f"throughput {sent / seconds:.0f} messages/s; {sent} of {args.residents} sent")
        per_minute = {k: int(DEFAULT_LIMITS[k].split("/")[0]) for k in ("oa_custom", "oa_template")}
        floor = max(custom / per_minute["oa_custom"], template / per_minute["oa_template"]) * 60
        note(
            f"the configured limits alone (1200/min per channel, channels in parallel) need >= {floor:.0f} s"
        )
        rt.engine.dispose()
    return 0 if sent >= args.residents else 1


if __name__ == "__main__":
    sys.exit(main())
