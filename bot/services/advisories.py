"""Advisory letters (倡议书): compose, check, approve through the configured chain, schedule, cancel.

Life of an advisory: draft → pending_approval → (returned → pending_approval …) → approved →
scheduled → sending → sent; cancelled from any state before sent. Only drafts and returned
advisories can be edited, so what the chain approved is what goes out: text and targets alike.

The approval chain is ``[advisories] approval_chain``: one role per step, in order. A step is decided
by a staff member holding that role who neither composed the advisory nor decided an earlier step of
the same round; a return needs a comment and sends the advisory back to its composer. Every decision
is kept (AdvisoryApproval) and shown. Sending (``advisory_sending``) checks the chain again.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import local_today
from bot.config import Settings
from bot.models import Advisory, AdvisoryApproval, AdvisoryTemplate, StaffUser
from bot.models.enums import AdvisoryStatus, Decision, GroupKind, Role
from bot.services import audit, jurisdictions, outbox
from bot.services.advisory_payloads import ChannelMessage, RenderedAdvisory, message_for
from bot.services.advisory_targets import Targeting, TargetPreview, preview
from bot.services.advisory_text import TemplateProblem, Variables, describe_hits, render, sensitive_words
from bot.services.audit import Actor
from bot.services.permissions import ROLE_LABELS

EDITABLE = frozenset({AdvisoryStatus.DRAFT, AdvisoryStatus.RETURNED})
CANCELLABLE = frozenset(
    {
        AdvisoryStatus.DRAFT,
        AdvisoryStatus.PENDING_APPROVAL,
        AdvisoryStatus.RETURNED,
        AdvisoryStatus.APPROVED,
        AdvisoryStatus.SCHEDULED,
        AdvisoryStatus.SENDING,
    }
)
FORMATS = ("text", "markdown")
STATUS_LABELS = {
    AdvisoryStatus.DRAFT: "草稿",
    AdvisoryStatus.PENDING_APPROVAL: "审批中",
    AdvisoryStatus.RETURNED: "已退回",
    AdvisoryStatus.APPROVED: "已批准",
    AdvisoryStatus.SCHEDULED: "已排期",
    AdvisoryStatus.SENDING: "发送中",
    AdvisoryStatus.SENT: "已发送",
    AdvisoryStatus.CANCELLED: "已撤销",
}


class AdvisoryError(Exception):
    """A request that cannot be carried out now; the message is for staff, in Chinese."""


class NotAllowed(AdvisoryError):
    """This staff member may not do this to this advisory (the panel answers 403)."""


def new_token() -> str:
    return secrets.token_urlsafe(16)  # 22 characters, 128 bits: not guessable


# -- composing ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    title: str
    body: str
    body_format: str = "text"
    link_url: str = ""
    targets: Targeting = field(default_factory=Targeting)
    cover: tuple[bytes, str] | None = None  # a prepared cover (advisory_cover.prepare_cover)
    remove_cover: bool = False


def _apply(advisory: Advisory, draft: Draft) -> None:
    if draft.body_format not in FORMATS:
        raise AdvisoryError("正文格式只能是纯文本或 Markdown。")
    if draft.link_url and urlsplit(draft.link_url).scheme not in ("http", "https"):
        raise AdvisoryError("链接必须以 http:// 或 https:// 开头。")
    advisory.title = draft.title.strip()[:200]
    advisory.body = draft.body.replace("\r\n", "\n").strip()
    advisory.body_format = draft.body_format
    advisory.link_url = draft.link_url.strip()[:500]
    advisory.targets = draft.targets.to_json()
    if draft.cover is not None:
        advisory.cover_image, advisory.cover_type = draft.cover
    elif draft.remove_cover:
        advisory.cover_image, advisory.cover_type = None, ""


def create(db: Session, actor: Actor, draft: Draft) -> Advisory:
    advisory = Advisory(
        public_token=new_token(), created_by_id=actor.user_id, status=AdvisoryStatus.DRAFT, title="", body=""
    )
    _apply(advisory, draft)
    db.add(advisory)
    db.flush()
    audit.record(db, actor, "advisory.create", record_type="advisory", record_id=advisory.id)
    return advisory


def update(db: Session, actor: Actor, advisory: Advisory, draft: Draft) -> None:
    if advisory.status not in EDITABLE:
        raise AdvisoryError("只有草稿或被退回的倡议书可以修改。")
    _apply(advisory, draft)
    audit.record(db, actor, "advisory.update", record_type="advisory", record_id=advisory.id)


def get(db: Session, advisory_id: int) -> Advisory | None:
    return db.get(Advisory, advisory_id)


def list_recent(db: Session, limit: int = 200) -> Sequence[Advisory]:
    return db.scalars(select(Advisory).order_by(Advisory.id.desc()).limit(limit)).all()


# -- rendering, previews and the pre-submission check -------------------------------------------------


def variables(db: Session, settings: Settings, day: date) -> Variables:
    return Variables(county=jurisdictions.county(db).name, day=day, hotline=settings.advisories.hotline)


def send_day(settings: Settings, advisory: Advisory, now: datetime | None = None) -> date:
    """The ``{{ date }}`` of an advisory: its scheduled day, else today (local)."""
    return local_today(settings.tz, advisory.scheduled_at or now)


def page_url(settings: Settings, token: str) -> str:
    return f"{settings.web.public_base_url.rstrip('/')}/a/{token}"


def tasks_url(settings: Settings) -> str:
    """The panel page where forwarders see and close their tasks."""
    return f"{settings.web.public_base_url.rstrip('/')}/advisories/tasks"


def cover_url(settings: Settings, advisory: Advisory) -> str:
    return f"{page_url(settings, advisory.public_token)}/cover" if advisory.cover_type else ""


def rendered(db: Session, settings: Settings, advisory: Advisory, token: str, day: date) -> RenderedAdvisory:
    """The advisory as a target receives it (TemplateProblem if it does not render)."""
    return rendered_with(variables(db, settings, day), settings, advisory, token)


def rendered_with(values: Variables, settings: Settings, advisory: Advisory, token: str) -> RenderedAdvisory:
    return RenderedAdvisory(
        title=render(advisory.title, values).strip(),
        body=render(advisory.body, values).strip(),
        body_format=advisory.body_format,
        page_url=page_url(settings, token),
        link_url=advisory.link_url,
        cover_url=cover_url(settings, advisory),
    )


@dataclass(frozen=True)
class Check:
    """Everything that stands between an advisory and submission, plus what each channel will show."""

    problems: list[str]
    messages: dict[GroupKind, ChannelMessage]
    content: RenderedAdvisory | None
    targets: TargetPreview

    @property
    def ok(self) -> bool:
        return not self.problems


def check(db: Session, settings: Settings, advisory: Advisory, now: datetime | None = None) -> Check:
    """Render, scan for sensitive words, measure per channel (every kind, whether targeted or not)."""
    problems: list[str] = []
    targets = preview(db, Targeting.from_json(advisory.targets))
    try:
        content = rendered(db, settings, advisory, advisory.public_token, send_day(settings, advisory, now))
    except TemplateProblem as exc:
        return Check([str(exc)], {}, None, targets)
    if not content.title:
        problems.append("请填写标题。")
    if not content.body:
        problems.append("请填写正文。")
    for where, text in (("标题", content.title), ("正文", content.body)):
        hits = sensitive_words(text, settings.advisories.sensitive_words)
        if hits:
            problems.append(describe_hits(hits, where))
    if not targets.groups:
        problems.append("请选择发送对象：至少一个有效的群。")
    task_url = tasks_url(settings)
    messages = {
        kind: message_for(kind, content, group_name="示例群", task_url=task_url) for kind in GroupKind
    }
    for kind in sorted(targets.kinds):
        if messages[kind].problem():
            problems.append(messages[kind].problem())
    return Check(problems, messages, content, targets)


def submit(db: Session, settings: Settings, actor: Actor, advisory: Advisory, now: datetime) -> Check:
    """Into the approval chain, if the check passes (else AdvisoryError listing every problem)."""
    if advisory.status not in EDITABLE:
        raise AdvisoryError("只有草稿或被退回的倡议书可以提交审批。")
    result = check(db, settings, advisory, now)
    if not result.ok:
        raise AdvisoryError("；".join(result.problems))
    advisory.status = AdvisoryStatus.PENDING_APPROVAL
    advisory.revision += 1
    advisory.approval_step = 0
    advisory.submitted_at = now
    audit.record(
        db,
        actor,
        "advisory.submit",
        record_type="advisory",
        record_id=advisory.id,
        revision=advisory.revision,
    )
    return result


# -- approval -------------------------------------------------------------------------------------------


def chain(settings: Settings) -> tuple[str, ...]:
    return settings.advisories.approval_chain


def role_label(role: str) -> str:
    """The chain's role in words ("宣传", "局领导"); unknown values as they are."""
    return ROLE_LABELS.get(Role(role), role) if role in {r.value for r in Role} else role


def current_role(settings: Settings, advisory: Advisory) -> str | None:
    """The role whose decision the advisory waits for, or None when it waits for nobody."""
    steps = chain(settings)
    if advisory.status != AdvisoryStatus.PENDING_APPROVAL or advisory.approval_step >= len(steps):
        return None
    return steps[advisory.approval_step]


def round_decisions(advisory: Advisory) -> list[AdvisoryApproval]:
    return [a for a in advisory.approvals if a.revision == advisory.revision]


def refusal(settings: Settings, user: StaffUser, advisory: Advisory) -> str | None:
    """Why ``user`` may not decide the advisory's current step (None: they may)."""
    role = current_role(settings, advisory)
    if role is None:
        return "这份倡议书现在不在审批中。"
    if user.role.value != role:
        return f"当前审批步骤需要「{role_label(role)}」角色的人员审批。"
    if user.id == advisory.created_by_id:
        return "不能审批自己撰写的倡议书。"
    if any(a.approver_id == user.id for a in round_decisions(advisory)):
        return "同一轮审批中，每人只能审批一个步骤。"
    return None


def decide(
    db: Session,
    settings: Settings,
    user: StaffUser,
    actor: Actor,
    advisory: Advisory,
    decision: Decision,
    comment: str,
    now: datetime,
) -> AdvisoryApproval:
    """Approve the current step or return the advisory to its composer (a comment is required)."""
    reason = refusal(settings, user, advisory)
    if reason is not None:
        raise NotAllowed(reason)
    comment = comment.strip()
    if decision == Decision.RETURN and not comment:
        raise AdvisoryError("退回时请写明修改意见。")
    step = advisory.approval_step
    approval = AdvisoryApproval(
        advisory_id=advisory.id,
        revision=advisory.revision,
        step=step,
        role=chain(settings)[step],
        approver_id=user.id,
        decision=decision,
        comment=comment[:2000],
        at=now,
    )
    db.add(approval)
    advisory.approvals.append(approval)
    if decision == Decision.RETURN:
        advisory.status, advisory.approval_step = AdvisoryStatus.RETURNED, 0
    else:
        advisory.approval_step = step + 1
        if advisory.approval_step >= len(chain(settings)):
            advisory.status = AdvisoryStatus.APPROVED
    db.flush()
    audit.record(
        db,
        actor,
        f"advisory.{decision.value}",
        record_type="advisory",
        record_id=advisory.id,
        step=step,
        revision=advisory.revision,
    )
    return approval


@dataclass(frozen=True)
class StepView:
    step: int
    role: str
    decision: AdvisoryApproval | None  # this round's decision on the step, if taken
    waiting: bool  # the advisory waits for this step now


def steps(settings: Settings, advisory: Advisory) -> list[StepView]:
    """The chain as it stands in the current round, for the advisory's page."""
    decided = {a.step: a for a in round_decisions(advisory)}
    role_now = current_role(settings, advisory)
    return [
        StepView(i, role, decided.get(i), role_now is not None and i == advisory.approval_step)
        for i, role in enumerate(chain(settings))
    ]


def chain_complete(settings: Settings, advisory: Advisory) -> bool:
    """Whether this round's approvals cover the whole chain, step by step, by eligible people."""
    approved = {a.step: a for a in round_decisions(advisory) if a.decision == Decision.APPROVE}
    people = [a.approver_id for a in approved.values()]
    return (
        advisory.revision > 0
        and all(step in approved and approved[step].role == role for step, role in enumerate(chain(settings)))
        and advisory.created_by_id not in people
        and len(set(people)) == len(people)
        and not any(a.decision == Decision.RETURN for a in round_decisions(advisory))
    )


# -- scheduling and cancelling --------------------------------------------------------------------------


def schedule(
    db: Session, settings: Settings, actor: Actor, advisory: Advisory, at: datetime, now: datetime
) -> None:
    """Set (or move) the sending time of an approved advisory; the advisories_due job sends it."""
    if advisory.status not in (AdvisoryStatus.APPROVED, AdvisoryStatus.SCHEDULED):
        raise AdvisoryError("只有已批准、尚未发送的倡议书可以排期或改期。")
    if not chain_complete(settings, advisory):
        raise NotAllowed("审批流程未完成，不能发送。")
    if at.tzinfo is None:
        raise ValueError("the scheduled time must be timezone-aware")
    if (now - at).total_seconds() > 60:
        raise AdvisoryError("计划发送时间已经过去，请选择以后的时间，或直接「立即发送」。")
    moved = advisory.status == AdvisoryStatus.SCHEDULED
    advisory.status, advisory.scheduled_at = AdvisoryStatus.SCHEDULED, at
    audit.record(
        db,
        actor,
        "advisory.reschedule" if moved else "advisory.schedule",
        record_type="advisory",
        record_id=advisory.id,
        at=at.isoformat(),
    )


def cancel(db: Session, actor: Actor, advisory: Advisory, now: datetime) -> int:
    """Stop the advisory; messages not yet handed to WeChat are cancelled. Returns how many."""
    if advisory.status not in CANCELLABLE:
        raise AdvisoryError("这份倡议书已经发送完毕或已撤销，无法撤销。")
    stopped = outbox.cancel(db, key_prefix(advisory.id))
    advisory.status, advisory.cancelled_at = AdvisoryStatus.CANCELLED, now
    audit.record(db, actor, "advisory.cancel", record_type="advisory", record_id=advisory.id, stopped=stopped)
    return stopped


def key_prefix(advisory_id: int) -> str:
    """Every outbox key of one advisory starts with this (``advisory:<id>:group:<gid>``)."""
    return f"advisory:{advisory_id}:"


# -- the template library --------------------------------------------------------------------------------


def list_templates(db: Session) -> Sequence[AdvisoryTemplate]:
    return db.scalars(select(AdvisoryTemplate).order_by(AdvisoryTemplate.name)).all()


def save_template(
    db: Session,
    settings: Settings,
    actor: Actor,
    template: AdvisoryTemplate | None,
    *,
    name: str,
    title: str,
    body: str,
    body_format: str,
) -> AdvisoryTemplate:
    """Create or update a saved template; it must render with the advisory variables."""
    name = name.strip()
    if not name or not title.strip() or not body.strip():
        raise AdvisoryError("模板名称、标题和正文都要填写。")
    if body_format not in FORMATS:
        raise AdvisoryError("正文格式只能是纯文本或 Markdown。")
    try:
        values = variables(db, settings, local_today(settings.tz))
        render(title, values)
        render(body, values)
    except TemplateProblem as exc:
        raise AdvisoryError(str(exc)) from None
    clash = db.scalar(select(AdvisoryTemplate).where(AdvisoryTemplate.name == name))
    if clash is not None and clash is not template:
        raise AdvisoryError(f"已有名为「{name}」的模板。")
    created = template is None
    template = template or AdvisoryTemplate(name=name, title="", body="")
    template.name, template.title, template.body = name[:100], title.strip()[:200], body.strip()
    template.body_format = body_format
    db.add(template)
    db.flush()
    action = "advisory_template.create" if created else "advisory_template.update"
    audit.record(db, actor, action, record_type="advisory_template", record_id=template.id, name=name)
    return template
