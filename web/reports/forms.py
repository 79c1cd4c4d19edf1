"""The report's forms (each POST carries the CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SubmitField, TextAreaField
from wtforms.validators import Length

from bot.services.reports import MAX_COMMENT, MAX_SUMMARY


class ActionForm(FlaskForm):
    """A button with nothing to fill in: draft now, refresh the figures."""


class SummaryForm(FlaskForm):
    summary = TextAreaField("情况说明", validators=[Length(max=MAX_SUMMARY)], render_kw={"rows": 5})
    save = SubmitField("保存")
    submit_report = SubmitField("提交审批")


class DecisionForm(FlaskForm):
    comment = TextAreaField(
        "审批意见（退回时必填）", validators=[Length(max=MAX_COMMENT)], render_kw={"rows": 3}
    )
    approve = SubmitField("同意")
    send_back = SubmitField("退回")
