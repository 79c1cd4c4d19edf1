"""Forms of the leads area (CSRF on every POST via Flask-WTF)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from bot.models import Lead
from bot.services import leads


class StartForm(FlaskForm):
    """Taking a lead on (no fields: the button is the decision)."""


class OutcomeForm(FlaskForm):
    outcome = SelectField("处理结果", validators=[DataRequired("请选择处理结果")])
    note = TextAreaField("处理情况", validators=[Length(max=2000)])

    @classmethod
    def for_lead(cls, lead: Lead, **kwargs: object) -> OutcomeForm:
        form = cls(**kwargs)
        form.outcome.choices = [SelectChoice(o, o) for o in leads.outcomes_for(lead)]
        return form
