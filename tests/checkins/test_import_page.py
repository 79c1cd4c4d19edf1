"""The panel's import pages: upload → preview with every problem → confirm, skip invalid, downloads."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.models import JurisdictionKind, Resident, Role
from bot.services import jurisdictions
from tests.checkins.support import csrf_of
from tests.factories import login, make_station, make_user
from tests.importing.files import HEADERS, make_id, resident, xlsx_bytes

GOOD = resident()
_RIGHT = make_id(seq=400)
BAD = resident(姓名="李四", 身份证号=_RIGHT[:17] + ("1" if _RIGHT[17] != "1" else "2"))  # wrong check digit


@pytest.fixture()
def clerk(app: Flask, db: Session, client: FlaskClient, tmp_path: Path) -> FlaskClient:
    app.config["LANXI_UPLOAD_DIR"] = str(tmp_path / "uploads")
    make_station(db, "兰江派出所", "兰江街道")
    user = make_user(db, Role.DATA_CLERK)
    db.commit()
    login(client, user.username)
    return client


def upload(client: FlaskClient, data: bytes, *, skip: bool = False, name: str = "名单.xlsx") -> str:
    token = csrf_of(client.get("/residents/import").get_data(as_text=True))
    form = {"csrf_token": token, "file": (io.BytesIO(data), name)}
    if skip:
        form["skip_invalid"] = "y"
    response = client.post("/residents/import", data=form, content_type="multipart/form-data")
    return response.get_data(as_text=True)


def confirm(client: FlaskClient, preview: str) -> str:
    import re

    token = re.search(r'name="token" type="hidden" value="([^"]+)"', preview)
    assert token, "the preview offers to confirm"
    data = {"csrf_token": csrf_of(preview), "token": token.group(1)}
    return client.post("/residents/import/confirm", data=data, follow_redirects=True).get_data(as_text=True)


def count(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(func.count(Resident.id))) or 0


def test_a_clean_file_is_previewed_then_imported(clerk: FlaskClient, db: Session, tmp_path: Path) -> None:
    preview = upload(clerk, xlsx_bytes({"名单": [HEADERS, GOOD]}))
    assert "可以导入 <strong>1</strong> 行" in preview and "确认导入" in preview
    assert count(db) == 0  # nothing before the confirmation
    stored = list((tmp_path / "uploads").glob("*.bin"))
    assert len(stored) == 1
    cookie = clerk.get_cookie("lanxi_session")
    assert cookie is not None and len(cookie.value) < 1000  # the file is on the server, not in the cookie
    done = confirm(clerk, preview)
    assert "新增 <strong>1</strong> 人" in done and count(db) == 1
    assert not list((tmp_path / "uploads").glob("*.bin"))
    again = confirm(clerk, preview)  # the same confirmation twice imports nothing more
    assert "已失效" in again and count(db) == 1


def test_every_problem_is_listed_by_row_and_column_and_nothing_imported(
    clerk: FlaskClient, db: Session
) -> None:
    preview = upload(
        clerk,
        xlsx_bytes(
            {"名单": [HEADERS, GOOD, BAD, resident(手机号="12345", 姓名="王五", 身份证号=make_id(seq=401))]}
        ),
    )
    assert "第 3 行" in preview and "校验位不正确" in preview and "第 4 行" in preview and "手机号" in preview
    assert "确认导入" not in preview and "整个文件不会导入" in preview
    assert make_id(seq=400)[:17] not in preview  # ID numbers shown masked
    report = clerk.get("/residents/import/errors.xlsx")
    assert report.status_code == 200
    sheet = load_workbook(io.BytesIO(report.data)).active
    assert sheet is not None and len(list(sheet.iter_rows())) == 3
    assert count(db) == 0


def test_skip_invalid_imports_the_good_rows_and_offers_the_bad(clerk: FlaskClient, db: Session) -> None:
    preview = upload(clerk, xlsx_bytes({"名单": [HEADERS, GOOD, BAD]}), skip=True)
    assert "跳过 1 行有错误的行" in preview
    done = confirm(clerk, preview)
    assert "新增 <strong>1</strong> 人" in done and "跳过 <strong>1</strong> 行" in done and count(db) == 1
    report = clerk.get("/residents/import/errors.xlsx")
    sheet = load_workbook(io.BytesIO(report.data)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == "李四" and "校验位" in str(rows[1][-1])


def test_an_unreadable_file_is_explained_on_the_form(clerk: FlaskClient) -> None:
    page = upload(clerk, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, name="旧.xls")
    assert "另存为" in page and ".xlsx" in page


def test_the_template_downloads(clerk: FlaskClient) -> None:
    response = clerk.get("/residents/import/template.xlsx")
    book = load_workbook(io.BytesIO(response.data))
    header = next(book.active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert "*姓名" in header and "*身份证号" in header


def test_only_importers_may_import(client: FlaskClient, db: Session) -> None:
    station = make_station(db)
    officer = make_user(db, Role.STATION_OFFICER, station)
    db.commit()
    login(client, officer.username)
    assert client.get("/residents/import").status_code == 403
    assert jurisdictions.all_of_kind(db, JurisdictionKind.STATION)
