"""Registry import: an .xlsx of residents read, validated and written, as `lanxi residents import` does.

    .venv/bin/python -m bench.resident_import --rows 13000 --database sqlite
    .venv/bin/python -m bench.resident_import --rows 13000 --database postgresql

A township's file (the canonical headers, valid ID numbers and phones, the demo county's
stations) is imported into an empty registry (every row created), then the same file again
(every row found by its blind index and unchanged). The reference, in the same run, is reading
the workbook alone (``bot.importing.read_table``): the floor any import pays.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import time
from datetime import date, timedelta

import openpyxl
from faker import Faker

from bench.common import figure, machine, note, peak_rss_mb, postgres_available, scratch_database
from bot import demo
from bot.clock import local_today
from bot.config import settings_from_dict
from bot.importing import read_table
from bot.importing.headers import RESIDENT_COLUMNS
from bot.models import Base, JurisdictionKind
from bot.runtime import Runtime
from bot.services import jurisdictions, resident_import
from bot.services.audit import CLI


def workbook(rows: int, seed: int = 5) -> bytes:
    """A registry file of ``rows`` distinct residents in the demo county (write-only, streamed)."""
    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    places = [(town, station) for town, stations in demo.TOWNSHIPS.items() for station in stations]
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("在外人员")
    sheet.append(list(RESIDENT_COLUMNS))
    seen: set[str] = set()
    for n in range(rows):
        town, station = places[n % len(places)]
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 50 * 365))
        id_number = demo.make_id_number(rng, born, n % 2 == 0)
        while id_number in seen:
            id_number = demo.make_id_number(rng, born, n % 2 == 0)
        seen.add(id_number)
        away = date(2020, 1, 5) + timedelta(days=rng.randrange(0, 40))
        sheet.append(
            [
                fake.name(),
                id_number,
                demo.make_phone(rng),
                f"黑龙江省绥化市兰西县{town}第{n % 90}街{n % 300}号",
                "黑龙江省哈尔滨市南岗区学府路" if n % 3 else "北京市朝阳区建国路",
                away.isoformat(),
                "务工",
                (away + timedelta(days=60)).isoformat(),
                station,
                town,
                "",
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def county(rt: Runtime) -> None:
    with rt.session() as db:
        top = jurisdictions.county(db)
        for town_name, stations in demo.TOWNSHIPS.items():
            town, _ = jurisdictions.upsert_child(db, top, JurisdictionKind.TOWNSHIP, town_name)
            for station in stations:
                jurisdictions.upsert_child(db, town, JurisdictionKind.STATION, station)


def import_once(rt: Runtime, data: bytes) -> tuple[float, resident_import.ImportSummary]:
    started = time.perf_counter()
    with rt.session() as db:
        result = resident_import.validate_file(db, data, "bench.xlsx", today=local_today(rt.settings.tz))
        if not result.ok:
            raise RuntimeError(f"the generated file has errors: {result.errors[:3]}")
        summary = resident_import.apply(db, CLI, result, source="bench.xlsx")
    return time.perf_counter() - started, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=13_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args(argv)
    if args.database == "postgresql" and not postgres_available():
        print("PostgreSQL does not answer (set LANXI_BENCH_PG_URL)", file=sys.stderr)
        return 2
    print(machine())
    print(f"\n== registry import: {args.rows:,} rows into {args.database} ==")
    data = workbook(args.rows)
    started = time.perf_counter()
    read_table(data, "bench.xlsx")
    read_seconds = time.perf_counter() - started
    note(f"workbook: {len(data) / 2**20:.1f} MiB")
    with scratch_database(args.database) as url:
        rt = Runtime.from_settings(settings_from_dict({"database": {"url": url}}))
        Base.metadata.create_all(rt.engine)
        county(rt)
        first, created = import_once(rt, data)
        again, unchanged = import_once(rt, data)
        rt.engine.dispose()
    figure(
        f"import_seconds_{args.rows}_{args.database}",
        first,
        "s",
        reference="read_workbook_seconds",
        ref_value=read_seconds,
    )
    note(f"first import: {created.created:,} created ({args.rows / first:,.0f} rows/s)")
    figure(
        f"reimport_seconds_{args.rows}_{args.database}",
        again,
        "s",
        reference="read_workbook_seconds",
        ref_value=read_seconds,
    )
    note(f"same file again: {unchanged.unchanged:,} unchanged, {unchanged.updated:,} updated")
    note(f"peak RSS of this process: {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
