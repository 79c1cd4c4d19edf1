"""Forms of the resident page (CSRF on every POST via Flask-WTF)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from bot.models import ResidentStatus
from bot.services.labels import label
from bot.services.resident_changes import EDITABLE, MIN_REASON_LENGTH, Value
from bot.services.residents import REVEALABLE

REASON_HELP = f"必填，至少 {MIN_REASON_LENGTH} 个字，将记入审计日志"


def _reason() -> StringField:
    required = DataRequired("请填写理由。")
    return StringField("理由", validators=[required, Length(min=MIN_REASON_LENGTH, max=500)])


class RevealForm(FlaskForm):
    field = HiddenField(validators=[DataRequired(), AnyOf(list(REVEALABLE))])


class EditForm(FlaskForm):
    """Identifiers start empty (their masked value is the placeholder): empty means unchanged."""

    name = StringField(EDITABLE["name"].title, validators=[DataRequired(), Length(max=30)])
    phone = StringField(EDITABLE["phone"].title, validators=[Optional(), Length(max=20)])
    id_number = StringField(EDITABLE["id_number"].title, validators=[Optional(), Length(max=18)])
    household_address = StringField(EDITABLE["household_address"].title, validators=[Length(max=255)])
    current_city = StringField(EDITABLE["current_city"].title, validators=[Length(max=64)])
    current_address = StringField(EDITABLE["current_address"].title, validators=[Length(max=255)])
    away_since = DateField(EDITABLE["away_since"].title, validators=[Optional()])
    away_reason = StringField(EDITABLE["away_reason"].title, validators=[Length(max=255)])
    expected_return = DateField(EDITABLE["expected_return"].title, validators=[Optional()])
    status = SelectField(
        EDITABLE["status"].title,
        choices=[SelectChoice(s.value, label("resident_status", s)) for s in ResidentStatus],
    )
    returned_on = DateField(EDITABLE["returned_on"].title, validators=[Optional()])
    monitoring_end = DateField(EDITABLE["monitoring_end"].title, validators=[Optional()])
    note = TextAreaField(EDITABLE["note"].title, validators=[Length(max=2000)])
    reason = _reason()

    IDENTIFIERS = ("phone", "id_number")

    def changed_values(self) -> dict[str, Value]:
        """The submitted values by field name; identifiers only when something was typed."""
        values: dict[str, Value] = {}
        for name in EDITABLE:
            value = getattr(self, name).data
            if name in self.IDENTIFIERS and not (value or "").strip():
                continue
            text = EDITABLE[name].kind not in ("date",)
            values[name] = "" if value is None and text else value
        return values


class TransferForm(FlaskForm):
    station_id = SelectField("转往派出所", coerce=int, validators=[DataRequired("请选择派出所。")])
    reason = _reason()
