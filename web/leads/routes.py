"""The leads list and a lead's page. Another jurisdiction's lead answers 404."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from bot.clock import local_today
from bot.models import Lead, LeadPriority, LeadSource, LeadStatus
from bot.services import lead_queue, leads
from bot.services.lead_queue import LeadFilter
from bot.services.permissions import Permission
from web.db import get_db, runtime
from web.leads import bp
from web.leads.forms import OutcomeForm, StartForm
from web.roles import actor, my_scope, require


def _visible_or_404(lead_id: int) -> Lead:
    lead = lead_queue.get_visible(get_db(), my_scope(), lead_id)
    if lead is None:
        abort(404)
    return lead


@bp.route("/")
@require(Permission.VIEW_LEADS)
def index() -> ResponseReturnValue:
    wanted = LeadFilter.parse(request.args.to_dict())
    today = local_today(runtime().settings.tz)
    page = lead_queue.list_page(get_db(), my_scope(), wanted, today)
    return render_template(
        "leads/index.html",
        page=page,
        wanted=wanted,
        today=today,
        is_overdue=lead_queue.is_overdue,
        statuses=list(LeadStatus),
        sources=list(LeadSource),
        priorities=list(LeadPriority),
        tz=runtime().settings.tz,
    )


def _page(lead: Lead, outcome_form: OutcomeForm) -> str:
    settings = runtime().settings
    today = local_today(settings.tz)
    return render_template(
        "leads/show.html",
        lead=lead,
        checkin=lead_queue.checkin_of(get_db(), lead),
        overdue=lead_queue.is_overdue(lead, today),
        start_form=StartForm(formdata=None),
        outcome_form=outcome_form,
        tz=settings.tz,
    )


@bp.route("/<int:lead_id>")
@require(Permission.VIEW_LEADS)
def show(lead_id: int) -> ResponseReturnValue:
    lead = _visible_or_404(lead_id)
    return _page(lead, OutcomeForm.for_lead(lead, formdata=None))


@bp.route("/<int:lead_id>/start", methods=["POST"])
@require(Permission.WORK_LEADS)
def start(lead_id: int) -> ResponseReturnValue:
    lead = _visible_or_404(lead_id)
    if not StartForm().validate_on_submit():
        abort(400)
    db = get_db()
    leads.start(db, actor(), lead)
    db.commit()
    flash("已开始处理。")
    return redirect(url_for("leads.show", lead_id=lead.id))


@bp.route("/<int:lead_id>/outcome", methods=["POST"])
@require(Permission.WORK_LEADS)
def outcome(lead_id: int) -> ResponseReturnValue:
    lead = _visible_or_404(lead_id)
    form = OutcomeForm.for_lead(lead)
    if not form.validate_on_submit():
        return _page(lead, form), 400
    db = get_db()
    try:
        leads.record_outcome(db, actor(), lead, form.outcome.data or "", form.note.data or "")
    except leads.LeadError as exc:
        flash(str(exc), "error")
        return redirect(url_for("leads.show", lead_id=lead.id))
    db.commit()
    flash(f"已办结：{lead.outcome}。")
    return redirect(url_for("leads.show", lead_id=lead.id))
