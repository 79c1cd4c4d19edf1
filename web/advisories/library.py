"""The advisories area's registers: WeChat groups, saved templates and saved audiences."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from bot.models import AdvisoryTemplate, WeChatGroup
from bot.models.advisory import AdvisoryAudience
from bot.models.enums import GroupKind, JurisdictionKind
from bot.services import advisories, advisory_targets, jurisdictions
from bot.services.advisories import AdvisoryError
from bot.services.advisory_targets import GroupInput, TargetError, Targeting, mask_key
from bot.services.permissions import Permission
from web.advisories.forms import AudienceForm, GroupForm, TemplateForm
from web.advisories.routes import bp
from web.db import get_db, runtime
from web.roles import actor, require

# -- WeChat groups ------------------------------------------------------------------------------------


@bp.route("/groups")
@require(Permission.VIEW_ADVISORIES)
def groups() -> ResponseReturnValue:
    return render_template(
        "advisories/groups.html", groups=advisory_targets.all_groups(get_db()), mask_key=mask_key
    )


def _group_form(group: WeChatGroup | None) -> ResponseReturnValue:
    db = get_db()
    form = GroupForm(obj=group)
    form.set_choices(
        jurisdictions.all_of_kind(db, JurisdictionKind.TOWNSHIP), advisory_targets.forwarders(db)
    )
    if request.method == "GET" and group is not None:
        form.township_id.data = group.township_id or 0
        form.owner_staff_id.data = group.owner_staff_id or 0
        form.webhook_key.data = ""
    if form.validate_on_submit():
        data = GroupInput(
            name=form.name.data or "",
            kind=GroupKind(form.kind.data),
            township_id=form.township_id.data or None,
            webhook_key=form.webhook_key.data or "",
            chat_id=form.chat_id.data or "",
            owner_userid=form.owner_userid.data or "",
            tag_id=form.tag_id.data,
            owner_staff_id=form.owner_staff_id.data or None,
            member_count=form.member_count.data or 0,
            active=bool(form.active.data),
        )
        try:
            advisory_targets.save_group(db, actor(), group, data)
        except TargetError as exc:
            db.rollback()
            flash(str(exc), "error")
        else:
            db.commit()
            flash("群信息已保存。", "info")
            return redirect(url_for(".groups"))
    key_hint = mask_key(group.webhook_key) if group is not None else ""
    return render_template("advisories/group_form.html", form=form, group=group, key_hint=key_hint)


@bp.route("/groups/new", methods=["GET", "POST"])
@require(Permission.COMPOSE_ADVISORIES)
def group_new() -> ResponseReturnValue:
    return _group_form(None)


@bp.route("/groups/<int:group_id>/edit", methods=["GET", "POST"])
@require(Permission.COMPOSE_ADVISORIES)
def group_edit(group_id: int) -> ResponseReturnValue:
    group = get_db().get(WeChatGroup, group_id)
    if group is None:
        abort(404)
    return _group_form(group)


# -- saved templates --------------------------------------------------------------------------------


@bp.route("/templates")
@require(Permission.VIEW_ADVISORIES)
def templates() -> ResponseReturnValue:
    return render_template("advisories/templates.html", templates=advisories.list_templates(get_db()))


def _template_form(template: AdvisoryTemplate | None) -> ResponseReturnValue:
    db = get_db()
    form = TemplateForm(obj=template)
    if form.validate_on_submit():
        try:
            advisories.save_template(
                db,
                runtime().settings,
                actor(),
                template,
                name=form.name.data or "",
                title=form.title.data or "",
                body=form.body.data or "",
                body_format=form.body_format.data or "text",
            )
        except AdvisoryError as exc:
            db.rollback()
            flash(str(exc), "error")
        else:
            db.commit()
            flash("模板已保存。", "info")
            return redirect(url_for(".templates"))
    return render_template("advisories/template_form.html", form=form, template=template)


@bp.route("/templates/new", methods=["GET", "POST"])
@require(Permission.COMPOSE_ADVISORIES)
def template_new() -> ResponseReturnValue:
    return _template_form(None)


@bp.route("/templates/<int:template_id>/edit", methods=["GET", "POST"])
@require(Permission.COMPOSE_ADVISORIES)
def template_edit(template_id: int) -> ResponseReturnValue:
    template = get_db().get(AdvisoryTemplate, template_id)
    if template is None:
        abort(404)
    return _template_form(template)


# -- saved audiences, with what they reach ----------------------------------------------------------


@bp.route("/audiences")
@require(Permission.VIEW_ADVISORIES)
def audiences() -> ResponseReturnValue:
    db = get_db()
    items = advisory_targets.list_audiences(db)
    previews = {a.id: advisory_targets.preview(db, Targeting.from_json(a.targets)) for a in items}
    return render_template("advisories/audiences.html", audiences=items, previews=previews)


def _audience_form(audience: AdvisoryAudience | None) -> ResponseReturnValue:
    db = get_db()
    form = AudienceForm(obj=audience)
    form.set_target_choices(
        jurisdictions.all_of_kind(db, JurisdictionKind.TOWNSHIP), advisory_targets.all_groups(db)
    )
    if request.method == "GET" and audience is not None:
        form.fill_targets(Targeting.from_json(audience.targets))
    targeting = form.targeting()
    if form.validate_on_submit() and request.form.get("action") != "preview":
        try:
            advisory_targets.save_audience(db, actor(), audience, form.name.data or "", targeting)
        except TargetError as exc:
            db.rollback()
            flash(str(exc), "error")
        else:
            db.commit()
            flash("受众已保存。", "info")
            return redirect(url_for(".audiences"))
    preview = advisory_targets.preview(db, targeting)
    return render_template("advisories/audience_form.html", form=form, audience=audience, preview=preview)


@bp.route("/audiences/new", methods=["GET", "POST"])
@require(Permission.COMPOSE_ADVISORIES)
def audience_new() -> ResponseReturnValue:
    return _audience_form(None)


@bp.route("/audiences/<int:audience_id>/edit", methods=["GET", "POST"])
@require(Permission.COMPOSE_ADVISORIES)
def audience_edit(audience_id: int) -> ResponseReturnValue:
    audience = get_db().get(AdvisoryAudience, audience_id)
    if audience is None:
        abort(404)
    return _audience_form(audience)
