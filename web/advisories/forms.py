"""Forms of the advisories area (CSRF on every POST via Flask-WTF)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from bot.models import Jurisdiction, StaffUser, WeChatGroup
from bot.models.enums import GroupKind
from bot.services.advisory_payloads import KIND_LABELS
from bot.services.advisory_targets import Targeting


def options(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


FORMAT_CHOICES = options([("text", "纯文本"), ("markdown", "Markdown")])
KIND_CHOICES = options((kind.value, KIND_LABELS[kind]) for kind in GroupKind)
NONE = "（不使用）"


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _int_ids(values: Iterable[Any]) -> list[int]:
    return [int(v) for v in values if str(v).isdigit()]


class TargetsMixin:
    """The target selection: kinds × townships, groups added by hand, groups excluded."""

    kinds = CheckboxesField("按类型选择", choices=KIND_CHOICES)
    township_ids = CheckboxesField("限定乡镇（不选则不限）", coerce=int, choices=[])
    group_ids = CheckboxesField("另外加入的群", coerce=int, choices=[])
    exclude_group_ids = CheckboxesField("排除的群", coerce=int, choices=[])

    def set_target_choices(self, townships: Sequence[Jurisdiction], groups: Sequence[WeChatGroup]) -> None:
        group_choices = options(
            (g.id, f"{g.name}（{KIND_LABELS[g.kind]}{'' if g.active else '，已停用'}）") for g in groups
        )
        self.township_ids.choices = options((t.id, t.name) for t in townships)
        self.group_ids.choices = group_choices
        self.exclude_group_ids.choices = group_choices

    def targeting(self) -> Targeting:
        return Targeting.from_json(
            {
                "kinds": self.kinds.data or [],
                "township_ids": _int_ids(self.township_ids.data or []),
                "group_ids": _int_ids(self.group_ids.data or []),
                "exclude_group_ids": _int_ids(self.exclude_group_ids.data or []),
            }
        )

    def fill_targets(self, targeting: Targeting) -> None:
        data = targeting.to_json()
        for name, values in data.items():
            getattr(self, name).data = values


class AdvisoryForm(TargetsMixin, FlaskForm):
    title = StringField("标题", validators=[DataRequired(message="请填写标题。"), Length(max=200)])
    body = TextAreaField("正文", validators=[DataRequired(message="请填写正文。"), Length(max=20000)])
    body_format = SelectField("正文格式", choices=FORMAT_CHOICES, default="text")
    link_url = StringField("相关链接（可选）", validators=[Optional(), Length(max=500)])
    cover = FileField(
        "封面图片（可选，JPG 或 PNG）",
        validators=[FileAllowed(["jpg", "jpeg", "png"], "只支持 JPG 或 PNG。")],
    )
    remove_cover = BooleanField("去掉封面")
    audience_id = SelectField("使用已保存的受众", coerce=int, choices=options([(0, NONE)]), default=0)


class TemplateForm(FlaskForm):
    name = StringField("模板名称", validators=[DataRequired(), Length(max=100)])
    title = StringField("标题", validators=[DataRequired(), Length(max=200)])
    body = TextAreaField("正文", validators=[DataRequired(), Length(max=20000)])
    body_format = SelectField("正文格式", choices=FORMAT_CHOICES, default="text")


class AudienceForm(TargetsMixin, FlaskForm):
    name = StringField("受众名称", validators=[DataRequired(), Length(max=100)])


class GroupForm(FlaskForm):
    name = StringField("群名称", validators=[DataRequired(), Length(max=100)])
    kind = SelectField("类型", choices=KIND_CHOICES)
    township_id = SelectField("所属乡镇", coerce=int, choices=options([(0, "（全县）")]), default=0)
    webhook_key = PasswordField(
        "群机器人 webhook key 或完整地址（修改时留空则不变）", validators=[Length(max=300)]
    )
    chat_id = StringField("企业微信群聊 chatid", validators=[Length(max=64)])
    owner_userid = StringField("客户群群主的企业微信账号", validators=[Length(max=64)])
    tag_id = IntegerField("公众号标签 ID（0 = 全部关注者）", validators=[Optional(), NumberRange(min=0)])
    owner_staff_id = SelectField("人工转发负责人", coerce=int, choices=options([(0, "（无）")]), default=0)
    member_count = IntegerField("群人数（估计）", default=0, validators=[Optional(), NumberRange(min=0)])
    active = BooleanField("启用", default=True)

    def set_choices(self, townships: Sequence[Jurisdiction], staff: Sequence[StaffUser]) -> None:
        self.township_id.choices = options([(0, "（全县）"), *[(t.id, t.name) for t in townships]])
        self.owner_staff_id.choices = options(
            [(0, "（无）"), *[(u.id, f"{u.display_name or u.username}（{u.username}）") for u in staff]]
        )


class DecisionForm(FlaskForm):
    decision = SelectField("审批意见", choices=options([("approve", "同意"), ("return", "退回修改")]))
    comment = TextAreaField("意见（退回时必填）", validators=[Length(max=2000)])


class ScheduleForm(FlaskForm):
    at = DateTimeLocalField(
        "计划发送时间", format="%Y-%m-%dT%H:%M", validators=[DataRequired("请选择时间。")]
    )


class ActionForm(FlaskForm):
    """A button that changes state: only the CSRF token."""
