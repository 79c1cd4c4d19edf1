"""Forms of the check-ins area: the call form of the phone list, QR codes, the mobile check-in."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from bot.models import Health, VisitOutcome
from bot.services.checkin_answers import Answers
from bot.services.labels import label

# Digits first, so a keyboard user picks an option by typing its number (as residents do in the chat).
OUTCOMES = [
    SelectChoice(VisitOutcome.REACHED.value, "1 接通"),
    SelectChoice(VisitOutcome.NOT_REACHED.value, "2 未接通"),
    SelectChoice(VisitOutcome.WRONG_NUMBER.value, "3 号码错误"),
]
HEALTH = [SelectChoice(h.value, f"{n} {label('health', h)}") for n, h in enumerate(Health, start=1)]
WHEREABOUTS = [
    SelectChoice("unchanged", "1 原地未动"),
    SelectChoice("moved", "2 换了城市"),
    SelectChoice("returned", "3 已返回兰西"),
]


class CallForm(FlaskForm):
    outcome = SelectField("结果", choices=OUTCOMES, default=VisitOutcome.REACHED.value)
    health = SelectField("健康", choices=HEALTH, default=Health.NORMAL.value)
    whereabouts = SelectField("去向", choices=WHEREABOUTS, default="unchanged")
    city = StringField("城市", validators=[Length(max=64)])
    note = StringField("备注", validators=[Length(max=500)])


class QrForm(FlaskForm):
    """Generate (or renew) a QR code: a POST, since it creates the scene and calls WeChat."""


H5_HEALTH = [
    SelectChoice(Health.NORMAL.value, "正常"),
    SelectChoice(Health.FEVER.value, "发热（37.3℃以上）"),
    SelectChoice(Health.SYMPTOMS.value, "咳嗽、乏力等其他不舒服"),
    SelectChoice(Health.TREATED.value, "已经看病或正在隔离"),
]


class H5CheckinForm(FlaskForm):
    """The chat's four questions as one form (wording as the chat's)."""

    health = RadioField(
        "1. 您今天身体怎么样？", choices=H5_HEALTH, validators=[DataRequired("请选择身体情况")]
    )
    temperature = DecimalField(
        "体温（℃，量了请填）",
        places=1,
        validators=[Optional(), NumberRange(min=34, max=43, message="请填写 34 到 43 之间的体温")],
    )
    whereabouts = RadioField(
        "2. 您现在还在原来的地方吗？",
        choices=[SelectChoice("unchanged", "还在原来的地方"), SelectChoice("moved", "换了地方")],
        validators=[DataRequired("请选择")],
    )
    city = StringField("现在所在的城市", validators=[Length(max=64)])
    return_plan = RadioField(
        "3. 您打算哪天回兰西？",
        choices=[
            SelectChoice("date", "定了日子"),
            SelectChoice("returned", "已经回来了"),
            SelectChoice("undecided", "还没定"),
        ],
        validators=[DataRequired("请选择")],
    )
    return_date = DateField("回来的日子", validators=[Optional()])

    def answers(self) -> Answers:
        moved = self.whereabouts.data == "moved"
        plan = self.return_plan.data or ""
        return Answers(
            health=Health(self.health.data),
            temperature=self.temperature.data,
            whereabouts_unchanged=not moved,
            city=(self.city.data or "").strip() if moved else "",
            return_plan=plan,
            return_date=self.return_date.data if plan == "date" else None,
        )

    def validate(self, extra_validators: Any = None) -> bool:
        # Cross-field checks here: Optional() on a field would skip its own inline validator.
        valid = super().validate(extra_validators)
        if self.whereabouts.data == "moved" and not (self.city.data or "").strip():
            self.city.errors = [*self.city.errors, "请填写现在所在的城市"]
            valid = False
        if self.return_plan.data == "date" and self.return_date.data is None:
            self.return_date.errors = [*self.return_date.errors, "请选择打算回来的日子"]
            valid = False
        return valid
