"""Forms of the tip review pages (CSRF on every POST via Flask-WTF)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import DateField, IntegerField, SelectField, SelectMultipleField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from bot.services import tip_queue
from bot.services.tip_review import VERDICTS, status_label

VERDICT_CHOICES = [SelectChoice(str(status), status_label(status)) for status in VERDICTS]


class ActionForm(FlaskForm):
    """A button: claim, release, export, turn the debunk into an advisory, block a reporter."""


class DecideForm(FlaskForm):
    verdict = SelectField("核查结论", choices=VERDICT_CHOICES, validators=[DataRequired()])
    reason = TextAreaField("理由", validators=[DataRequired("请填写理由"), Length(max=2000)])
    debunk = TextAreaField(
        "辟谣内容（认定为谣言时必填，将发给每位举报人）", validators=[Optional(), Length(max=2000)]
    )


class ReopenForm(FlaskForm):
    reason = TextAreaField("重新核查的理由", validators=[DataRequired("请填写理由"), Length(max=2000)])


class MergeForm(FlaskForm):
    target_id = IntegerField(
        "并入线索组编号",
        validators=[DataRequired("请填写线索组编号"), NumberRange(min=1, message="编号无效")],
    )


class SplitForm(FlaskForm):
    tip_ids = SelectMultipleField("拆出的举报", coerce=int, choices=[], validate_choice=False)


class LeadForm(FlaskForm):
    station_id = SelectField("派出所", coerce=int, choices=[], validators=[DataRequired("请选择派出所")])
    due_date = DateField("办理期限", validators=[DataRequired("请填写办理期限")])
    task = TextAreaField("工作要求", validators=[Optional(), Length(max=1000)])


def station_choices(db: Session) -> list[SelectChoice]:
    return [SelectChoice(station.id, station.name) for station in tip_queue.stations(db)]
