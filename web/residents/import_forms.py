"""Forms of the registry import pages (CSRF on every POST via Flask-WTF)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, HiddenField
from wtforms.validators import DataRequired

ACCEPTED = ("xlsx", "xlsm", "csv", "txt", "tsv", "xls")  # .xls is refused later, with how to convert it


class UploadForm(FlaskForm):
    file = FileField(
        "登记表文件（.xlsx 或 .csv）",
        validators=[FileRequired("请选择文件"), FileAllowed(ACCEPTED, "只支持 .xlsx 或 .csv 文件")],
    )
    skip_invalid = BooleanField("跳过有错误的行（只导入正确的行，错误的行可下载修改后再导入）")


class ConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])


class CancelForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])
