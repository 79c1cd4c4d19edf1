"""Importing registry files into the database: upsert by ID number, audit, all-or-nothing, hostile files."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bot import privacy
from bot.importing import ImportFileError
from bot.models import AuditEvent, Jurisdiction, JurisdictionKind, Resident
from bot.services import jurisdiction_import, resident_import
from bot.services.audit import CLI
from bot.services.resident_import import ImportRefused
from tests.factories import make_station
from tests.importing.files import HEADERS, TODAY, csv_bytes, make_id, resident, xlsx_bytes

PLACES = {"兰江街道": "兰江派出所", "云山街道": "云山派出所", "赤溪街道": "赤溪派出所"}


@pytest.fixture()
def places(db: Session) -> dict[str, Jurisdiction]:
    return {station: make_station(db, station, township) for township, station in PLACES.items()}


def run_import(
    db: Session, data: bytes, name: str = "名单.xlsx", **kw: object
) -> resident_import.ImportSummary:
    result = resident_import.validate_file(db, data, name, today=TODAY)
    return resident_import.apply(db, CLI, result, source=name, **kw)  # type: ignore[arg-type]


def count(db: Session) -> int:
    return db.scalar(select(func.count(Resident.id))) or 0


def test_a_good_file_creates_residents_with_encrypted_identifiers(db: Session, places: dict) -> None:
    rows = [
        HEADERS,
        resident(),
        resident(
            姓名="李四",
            身份证号=make_id(seq=124),
            手机号="13900001111",
            所属派出所="云山",
            乡镇街道="云山街道",
        ),
    ]
    summary = run_import(db, xlsx_bytes({"名单": rows}))
    assert (summary.created, summary.updated, summary.skipped) == (2, 0, 0)
    zhang = resident_import_find(db, make_id())
    assert zhang.name == "张三" and zhang.phone == "13912345678"
    assert zhang.station_id == places["兰江派出所"].id and zhang.township.name == "兰江街道"
    assert zhang.current_city == "杭州" and zhang.birth_year == 1990 and zhang.gender == "男"
    assert zhang.phone_hash == privacy.vault().blind_index("13912345678", kind="phone")
    stored = db.execute(text("SELECT id_number FROM residents WHERE id = :id"), {"id": zhang.id}).scalar_one()
    assert make_id().encode() not in bytes(stored)  # encrypted at rest
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "residents.import")).one()
    assert event.detail["created"] == 2 and event.detail["source"] == "名单.xlsx"


def resident_import_find(db: Session, id_number: str) -> Resident:
    digest = privacy.vault().blind_index(id_number, kind="id")
    found = db.scalar(select(Resident).where(Resident.id_number_hash == digest))
    assert found is not None
    return found


def test_the_same_person_imported_again_is_updated_not_duplicated_and_audited(
    db: Session, places: dict
) -> None:
    run_import(db, xlsx_bytes({"名单": [HEADERS, resident()]}))
    again = [HEADERS, resident(手机号="13800002222", 所属派出所="赤溪派出所", 乡镇街道="赤溪街道")]
    summary = run_import(db, csv_bytes(again), "第二批.csv")
    assert (summary.created, summary.updated) == (0, 1) and count(db) == 1
    zhang = resident_import_find(db, make_id())
    assert zhang.phone == "13800002222" and zhang.station.name == "赤溪派出所"
    assert zhang.phone_hash == privacy.vault().blind_index("13800002222", kind="phone")
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "resident.import")).one()
    changes = event.detail["changes"]
    assert changes["phone"] == ["139****5678", "138****2222"]
    assert changes["station_id"] == ["兰江派出所", "赤溪派出所"]
    assert "13800002222" not in str(event.detail) and event.record_id == str(zhang.id)
    third = run_import(db, csv_bytes(again), "第二批.csv")
    assert (third.created, third.updated, third.unchanged) == (0, 0, 1)


def test_a_bad_row_refuses_the_whole_file_unless_skipping(db: Session, places: dict) -> None:
    rows = [HEADERS, resident(), resident(身份证号=make_id(seq=200)[:17] + "0", 姓名="王五")]
    data = xlsx_bytes({"名单": rows})
    with pytest.raises(ImportRefused) as refused:
        run_import(db, data)
    assert count(db) == 0
    assert [str(e) for e in refused.value.result.errors] == ["第 3 行「身份证号」：校验位不正确"]
    summary = run_import(db, data, skip_invalid=True)
    assert (summary.created, summary.skipped) == (1, 1) and count(db) == 1


def test_an_unknown_station_names_the_known_ones(db: Session, places: dict) -> None:
    result = resident_import.validate_file(
        db, xlsx_bytes({"名单": [HEADERS, resident(所属派出所="火星派出所")]}), "x.xlsx", today=TODAY
    )
    [error] = result.errors
    assert (
        error.column_zh == "所属派出所"
        and "兰江派出所" in error.message_zh
        and "云山派出所" in error.message_zh
    )


def test_hostile_cells_empty_rows_and_a_wrong_first_sheet(db: Session, places: dict) -> None:
    rows = [
        ["外出人员登记表"],
        HEADERS,
        [],
        resident(姓名='=HYPERLINK("http://evil","张三")'),
        ["", "", ""],
        resident(身份证号=make_id(seq=125)),
    ]
    data = xlsx_bytes({"说明": [["请在第二个工作表填写"]], "名单": rows})
    result = resident_import.validate_file(db, data, "x.xlsx", today=TODAY)
    assert result.total_rows == 2
    assert [(e.row_number, e.column_zh) for e in result.errors] == [(4, "姓名")]
    assert result.warnings and "公式" in result.warnings[0].message_zh
    summary = resident_import.apply(db, CLI, result, skip_invalid=True)
    assert summary.created == 1
    with pytest.raises(ImportFileError):
        resident_import.validate_file(db, xlsx_bytes({"说明": [["没有表头"]]}), "x.xlsx", today=TODAY)


def test_twenty_thousand_rows_import_quickly_with_progress(db: Session, places: dict) -> None:
    if db.get_bind().dialect.name != "sqlite":
        pytest.skip("one backend is enough for volume here; bench/checkin_dispatch.py measures both")

    def row(n: int) -> list[str]:
        return resident(
            姓名="赵钱孙"[n % 3] + "某",
            身份证号=make_id(f"19{50 + n // 1000 % 50:02d}0101", n % 1000),
            手机号=f"139{n:08d}",
        )

    data = csv_bytes([HEADERS, *(row(n) for n in range(20_000))])
    steps: list[int] = []
    started = time.perf_counter()
    result = resident_import.validate_file(db, data, "big.csv", today=TODAY)
    summary = resident_import.apply(db, CLI, result, progress=steps.append)
    elapsed = time.perf_counter() - started
    assert summary.created == 20_000 and sum(steps) == 20_000 and len(steps) > 10
    assert count(db) == 20_000
    assert elapsed < 60, f"20,000 rows took {elapsed:.1f}s"


def test_jurisdictions_import_creates_the_tree_once(db: Session) -> None:
    data = csv_bytes(
        [
            ["乡镇街道", "派出所", "代码"],
            ["兰西镇", "城关派出所", "231222100"],
            ["兰西镇", "城东派出所", ""],
            ["榆林镇", "榆林派出所", ""],
            ["临江镇", "城东派出所", ""],
        ]
    )
    result = jurisdiction_import.validate_file(data, "辖区.csv")
    first = jurisdiction_import.apply(db, CLI, result)
    assert (first.townships_created, first.stations_created) == (3, 3)
    second = jurisdiction_import.apply(db, CLI, result)
    assert (second.townships_created, second.stations_created, second.stations_kept) == (0, 0, 4)
    stations = db.scalars(select(Jurisdiction).where(Jurisdiction.kind == JurisdictionKind.STATION)).all()
    assert sorted(s.name for s in stations) == ["城东派出所", "城关派出所", "榆林派出所"]
    town = db.scalar(select(Jurisdiction).where(Jurisdiction.code == "231222100"))
    assert town is not None and town.name == "兰西镇"


def test_a_bad_jurisdiction_file_is_refused(db: Session) -> None:
    result = jurisdiction_import.validate_file(csv_bytes([["乡镇街道", "派出所"], ["兰西镇", "1"]]), "x.csv")
    with pytest.raises(jurisdiction_import.JurisdictionImportRefused):
        jurisdiction_import.apply(db, CLI, result)
