"""`lanxi jurisdictions import` and `lanxi residents import` through CliRunner, on a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.db import make_engine
from bot.models import Base, Resident
from tests.importing.files import HEADERS, csv_bytes, make_id, resident, xlsx_bytes
from web.cli import cli


@pytest.fixture()
def config(tmp_path: Path) -> Path:
    engine = make_engine(f"sqlite:///{tmp_path}/cli.db")
    Base.metadata.create_all(engine)
    engine.dispose()
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/cli.db"\n', encoding="utf-8")
    return path


def invoke(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), *args])


def residents_in(tmp_path: Path) -> int:
    engine = make_engine(f"sqlite:///{tmp_path}/cli.db")
    with engine.connect() as conn:
        count = conn.execute(select(func.count(Resident.id))).scalar_one()
    engine.dispose()
    return count


@pytest.fixture()
def with_jurisdictions(config: Path, tmp_path: Path) -> Path:
    path = tmp_path / "辖区.csv"
    path.write_bytes(
        csv_bytes([["乡镇街道", "派出所"], ["兰江街道", "兰江派出所"], ["云山街道", "云山派出所"]])
    )
    result = invoke(config, "jurisdictions", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "乡镇街道：新增 2 个" in result.output and "派出所：新增 2 个" in result.output
    return config


def test_jurisdictions_import_reports_row_errors(config: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes([["乡镇街道", "派出所"], ["兰江街道", ""]]))
    result = invoke(config, "jurisdictions", "import", str(path))
    assert result.exit_code == 1
    assert "第 2 行「所属派出所」：不能为空" in result.output and "未导入任何数据" in result.output


def test_residents_import_all_or_nothing_then_skip_invalid(with_jurisdictions: Path, tmp_path: Path) -> None:
    path = tmp_path / "名单.xlsx"
    bad_id = make_id(seq=300)[:17] + ("0" if make_id(seq=300)[17] != "0" else "1")
    path.write_bytes(xlsx_bytes({"名单": [HEADERS, resident(), resident(姓名="李四", 身份证号=bad_id)]}))
    refused = invoke(with_jurisdictions, "residents", "import", str(path))
    assert refused.exit_code == 1
    assert "第 3 行「身份证号」：校验位不正确" in refused.output and "未导入任何数据" in refused.output
    assert bad_id not in refused.output  # shown masked
    assert residents_in(tmp_path) == 0

    done = invoke(with_jurisdictions, "residents", "import", str(path), "--skip-invalid")
    assert done.exit_code == 0, done.output
    assert "已新增 1 人" in done.output and "跳过 1 行" in done.output
    report = Path(f"{path}.errors.xlsx")
    assert str(report) in done.output and report.exists()
    sheet = load_workbook(report).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == "李四" and "校验位不正确" in str(rows[1][-1])
    assert residents_in(tmp_path) == 1


def test_residents_dry_run_writes_nothing(with_jurisdictions: Path, tmp_path: Path) -> None:
    path = tmp_path / "名单.csv"
    path.write_bytes(csv_bytes([HEADERS, resident(), resident(身份证号=make_id(seq=301), 姓名="王五")]))
    result = invoke(with_jurisdictions, "residents", "import", str(path), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "试运行" in result.output and "新增 2 人" in result.output
    assert residents_in(tmp_path) == 0
    real = invoke(with_jurisdictions, "residents", "import", str(path))
    assert "已新增 2 人" in real.output and residents_in(tmp_path) == 2
    again = invoke(with_jurisdictions, "residents", "import", str(path))
    assert "2 人无变化" in again.output and residents_in(tmp_path) == 2


def test_an_unreadable_file_is_explained(with_jurisdictions: Path, tmp_path: Path) -> None:
    path = tmp_path / "旧表.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    result = invoke(with_jurisdictions, "residents", "import", str(path))
    assert result.exit_code == 1 and ".xls" in result.output
