"""Hostile registry files: 100,000 rows within time and memory, and `lanxi residents import` errors.

Corrupt workbooks, zip bombs and formulas are covered by tests/importing; this adds the size
bound with tracemalloc and the command line's answer to corrupt and mixed-encoding files.
"""

from __future__ import annotations

import datetime as dt
import time
import tracemalloc
from pathlib import Path

from bot.importing.reader import read_table
from bot.importing.residents import validate_resident_rows
from tests.checkins.test_cli import config, invoke, residents_in, with_jurisdictions
from tests.importing.files import HEADERS, STATIONS, TODAY, TOWNSHIPS, csv_bytes, make_id, resident

__all__ = ["config", "with_jurisdictions"]  # fixtures used by name

ROWS = 100_000
MEMORY_SAMPLE_ROWS = 20_000  # tracemalloc slows parsing several-fold: memory is measured on a slice


def gbk_file(count: int) -> bytes:
    first = dt.date(1950, 1, 1)
    births = [(first + dt.timedelta(days=i // 1000)).strftime("%Y%m%d") for i in range(count)]
    rows = [resident(身份证号=make_id(birth=births[i], seq=i % 1000)) for i in range(count)]
    return csv_bytes([HEADERS, *rows], encoding="gbk")


def read_and_validate(data: bytes) -> int:
    table = read_table(data, "名单.csv")
    result = validate_resident_rows(table, known_stations=STATIONS, known_townships=TOWNSHIPS, today=TODAY)
    assert result.total_rows == len(result.rows)
    return result.total_rows


def test_100000_rows_are_read_and_validated_in_bounded_time() -> None:
    data = gbk_file(ROWS)
    started = time.process_time()
    assert read_and_validate(data) == ROWS
    elapsed = time.process_time() - started
    assert elapsed < 30.0, f"{elapsed:.1f}s"


def test_reading_a_large_file_takes_memory_bounded_by_its_size() -> None:
    data = gbk_file(MEMORY_SAMPLE_ROWS)
    tracemalloc.start()
    try:
        assert read_and_validate(data) == MEMORY_SAMPLE_ROWS
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 40 * len(data), f"peak {peak / 2**20:.0f} MiB for a {len(data) / 2**20:.0f} MiB file"


def test_cli_refuses_a_corrupt_workbook_in_chinese(with_jurisdictions: Path, tmp_path: Path) -> None:
    path = tmp_path / "名单.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    result = invoke(with_jurisdictions, "residents", "import", str(path))
    assert result.exit_code != 0
    assert "Excel 文件已损坏" in result.output and "Traceback" not in result.output
    assert residents_in(tmp_path) == 0


def test_cli_imports_a_gbk_csv(with_jurisdictions: Path, tmp_path: Path) -> None:
    path = tmp_path / "名单.csv"
    path.write_bytes(
        csv_bytes([HEADERS, resident(所属派出所="兰江派出所", 乡镇街道="兰江街道")], encoding="gbk")
    )
    result = invoke(with_jurisdictions, "residents", "import", str(path))
    assert result.exit_code == 0, result.output
    assert residents_in(tmp_path) == 1


def test_cli_refuses_undecodable_bytes_in_chinese(with_jurisdictions: Path, tmp_path: Path) -> None:
    path = tmp_path / "名单.csv"
    path.write_bytes(csv_bytes([HEADERS]) + b"\x81\x30\xff\xff\n")
    result = invoke(with_jurisdictions, "residents", "import", str(path))
    assert result.exit_code != 0
    assert "编码" in result.output and "Traceback" not in result.output
    assert residents_in(tmp_path) == 0
