import pytest

from bot.importing.headers import RESIDENT_COLUMNS, canonical_header, layout_headers, locate_header

VARIANTS = {
    "姓名": ["姓名", " 姓 名 ", "*姓名", "姓名*", "＊姓名", "居民姓名"],
    "身份证号": ["身份证号", "身份证", "公民身份号码", "身份证号码", "*身份证号（必填）", "证件号码"],
    "手机号": ["手机号", "电话", "联系电话", "手机", "手机号码", "手机号(必填)", "【手机号】"],
    "户籍地址": ["户籍地址", "户籍地", "户籍所在地"],
    "现居住地": ["现居住地", "现住址", "现居地", "目前所在地"],
    "外出时间": ["外出时间", "离开时间", "外出时间（格式：2020-02-15）"],
    "外出原因": ["外出原因", "外出事由"],
    "预计返回时间": ["预计返回时间", "返回时间", "预计返乡时间"],
    "所属派出所": ["所属派出所", "派出所"],
    "乡镇街道": ["乡镇街道", "乡镇", "街道", "乡镇(街道)", "乡镇（街道）", "乡镇 （街道）"],
    "备注": ["备注", "备 注"],
    "代码": ["代码", "行政区划代码"],
}


@pytest.mark.parametrize(("canonical", "variant"), [(c, v) for c, vs in VARIANTS.items() for v in vs])
def test_header_variants(canonical: str, variant: str) -> None:
    assert canonical_header(variant) == canonical


@pytest.mark.parametrize("text", ["序号", "", None, 3, "姓名地址"])
def test_unknown_headers(text: object) -> None:
    assert canonical_header(text) is None


def test_every_resident_column_is_its_own_canonical_name() -> None:
    assert [canonical_header(c) for c in RESIDENT_COLUMNS] == list(RESIDENT_COLUMNS)


def test_layout_keeps_unknown_and_duplicate_columns() -> None:
    layout = layout_headers(["序号", "*姓名", "电话", None, "联系电话", "序号"])
    assert layout.keys == ("序号", "姓名", "手机号", None, "联系电话", "序号（第6列）")
    assert layout.warnings == ("有多列对应「手机号」，已使用第一列；「联系电话」列按原样保留，不导入",)


def test_header_found_below_a_title_within_ten_rows() -> None:
    rows = [(1, ["兰溪市外出人员登记表"]), (2, []), (3, ["姓名", "身份证号"]), (4, ["张三", "x"])]
    found = locate_header(rows)
    assert found is not None
    assert (found.row_number, found.recognised) == (3, 2)


def test_header_not_searched_beyond_ten_rows() -> None:
    rows = [(n, ["标题"]) for n in range(1, 11)] + [(11, ["姓名", "身份证号"])]
    assert locate_header(rows) is None
