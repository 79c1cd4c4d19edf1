from bot.importing.jurisdictions import JurisdictionImport, TownshipEntry, validate_jurisdiction_rows
from bot.importing.reader import read_table
from tests.importing.files import csv_bytes, xlsx_bytes


def validate(rows: list[list[str]]) -> JurisdictionImport:
    return validate_jurisdiction_rows(read_table(csv_bytes(rows), "辖区.csv"))


def test_townships_with_stations_and_codes() -> None:
    result = validate(
        [
            ["乡镇街道", "派出所", "代码"],
            ["兰江街道", "兰江派出所", "330781001"],
            ["兰江街道", "城西派出所", ""],
            ["云山 街道", "云山派出所", "330781002"],
            ["女埠街道", "城西派出所", ""],  # one station may serve several townships
            ["兰江街道", "兰江派出所", "330781001"],  # repeated rows are harmless
        ]
    )
    assert result.ok and result.total_rows == 5
    assert result.townships == [
        TownshipEntry("兰江街道", "330781001", ("兰江派出所", "城西派出所")),
        TownshipEntry("云山街道", "330781002", ("云山派出所",)),
        TownshipEntry("女埠街道", None, ("城西派出所",)),
    ]
    assert result.as_mapping()["女埠街道"] == ["城西派出所"]


def test_code_column_is_optional_and_xlsx_works() -> None:
    data = xlsx_bytes({"辖区": [["乡镇（街道）", "所属派出所"], ["赤溪街道", "赤溪派出所"]]})
    result = validate_jurisdiction_rows(read_table(data, "辖区.xlsx"))
    assert result.as_mapping() == {"赤溪街道": ["赤溪派出所"]}


def test_conflicting_codes_and_bad_cells() -> None:
    result = validate(
        [
            ["乡镇街道", "派出所", "代码"],
            ["兰江街道", "兰江派出所", "001"],
            ["兰江街道", "城西派出所", "002"],
            ["云山街道", "云山派出所", "001"],
            ["", "赤溪派出所", ""],
            ["123", "赤溪派出所", "a b!"],
        ]
    )
    assert [str(e) for e in result.errors] == [
        "第 3 行「代码」：与第 2 行给同一乡镇街道填写的代码不同",
        "第 4 行「代码」：该代码已用于「兰江街道」",
        "第 5 行「乡镇街道」：不能为空",
        "第 6 行「乡镇街道」：名称不能全是数字",
        "第 6 行「代码」：代码只能包含字母、数字、- 和 _，最多 32 位",
    ]
    assert result.as_mapping() == {"兰江街道": ["兰江派出所"]}
    assert [b.row_number for b in result.bad_rows] == [3, 4, 5, 6]
    assert result.bad_rows[0].values == {"乡镇街道": "兰江街道", "所属派出所": "城西派出所", "代码": "002"}


def test_missing_station_column() -> None:
    result = validate([["乡镇街道", "代码"], ["兰江街道", "1"]])
    assert result.file_errors == ["缺少必填列：派出所"] and not result.ok
