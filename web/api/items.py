"""The API's item types: each a JSON Schema and the function that dumps a record to match it.

Schema and dump sit side by side so a field added to one is seen missing from the other;
``additionalProperties: false`` lets the contract tests catch any drift. Identifiers are
masked here; a tip never carries who reported it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from bot.models import (
    Advisory,
    AdvisoryStatus,
    Checkin,
    CheckinStatus,
    ClusterStatus,
    ContactMethod,
    DailyReport,
    Delivery,
    DeliveryStatus,
    GroupKind,
    Health,
    Lead,
    LeadPriority,
    LeadSource,
    LeadStatus,
    ReportStatus,
    Resident,
    ResidentStatus,
    Tip,
    TipChannel,
    TipCluster,
    Visit,
    VisitOutcome,
)
from bot.privacy import mask_id_number, mask_phone
from bot.services import reports
from bot.services.stats import AreaFigures

Schema = dict[str, Any]


@dataclass(frozen=True)
class ItemType:
    name: str  # the component's name in the OpenAPI document
    description: str
    schema: Schema
    dump: Callable[[Any], dict[str, Any]]


# --- schema building blocks -----------------------------------------------------------------------

INT: Schema = {"type": "integer"}
COUNT: Schema = {"type": "integer", "minimum": 0}
NUMBER: Schema = {"type": "number"}
STR: Schema = {"type": "string"}
BOOL: Schema = {"type": "boolean"}
DATE: Schema = {"type": "string", "format": "date"}
DATETIME: Schema = {"type": "string", "format": "date-time"}


def enum(cls: type[StrEnum]) -> Schema:
    return {"type": "string", "enum": [member.value for member in cls]}


def nullable(schema: Schema) -> Schema:
    out = {**schema, "type": [schema["type"], "null"]}
    if "enum" in schema:
        out["enum"] = [*schema["enum"], None]
    return out


def obj(**properties: Schema) -> Schema:
    """An object with exactly these properties, all present (nullable ones say so)."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _at(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _value(member: StrEnum | None) -> str | None:
    return member.value if member is not None else None


# --- residents and their days ---------------------------------------------------------------------

RESIDENT = ItemType(
    "Resident",
    "在册外出人员；身份证号与手机号已脱敏",
    obj(
        id=INT,
        name=STR,
        id_number_masked=STR,
        phone_masked=STR,
        gender=STR,
        birth_year=nullable(INT),
        status=enum(ResidentStatus),
        household_address=STR,
        current_city=STR,
        current_address=STR,
        away_since=nullable(DATE),
        away_reason=STR,
        expected_return=nullable(DATE),
        returned_on=nullable(DATE),
        monitoring_end=nullable(DATE),
        station_id=INT,
        township_id=INT,
    ),
    lambda r: _resident(r),
)


def _resident(r: Resident) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        "id_number_masked": mask_id_number(r.id_number),
        "phone_masked": mask_phone(r.phone),
        "gender": r.gender,
        "birth_year": r.birth_year,
        "status": r.status.value,
        "household_address": r.household_address,
        "current_city": r.current_city,
        "current_address": r.current_address,
        "away_since": _day(r.away_since),
        "away_reason": r.away_reason,
        "expected_return": _day(r.expected_return),
        "returned_on": _day(r.returned_on),
        "monitoring_end": _day(r.monitoring_end),
        "station_id": r.station_id,
        "township_id": r.township_id,
    }


CHECKIN = ItemType(
    "Checkin",
    "某人某日的健康报到",
    obj(
        id=INT,
        resident_id=INT,
        station_id=INT,
        day=DATE,
        status=enum(CheckinStatus),
        channel=nullable(enum(ContactMethod)),
        health=nullable(enum(Health)),
        temperature=nullable(NUMBER),
        abnormal=BOOL,
        whereabouts_city=STR,
        return_plan=STR,
        return_date=nullable(DATE),
        prompted_at=nullable(DATETIME),
        answered_at=nullable(DATETIME),
        phone_list_reason=STR,
    ),
    lambda c: _checkin(c),
)


def _checkin(c: Checkin) -> dict[str, Any]:
    return {
        "id": c.id,
        "resident_id": c.resident_id,
        "station_id": c.station_id,
        "day": c.day.isoformat(),
        "status": c.status.value,
        "channel": _value(c.channel),
        "health": _value(c.health),
        "temperature": float(c.temperature) if c.temperature is not None else None,
        "abnormal": c.abnormal,
        "whereabouts_city": c.whereabouts_city,
        "return_plan": c.return_plan,
        "return_date": _day(c.return_date),
        "prompted_at": _at(c.prompted_at),
        "answered_at": _at(c.answered_at),
        "phone_list_reason": c.phone_list_reason,
    }


VISIT = ItemType(
    "Visit",
    "一次联系：微信报到、电话或上门走访",
    obj(
        id=INT,
        resident_id=INT,
        station_id=INT,
        checkin_id=nullable(INT),
        day=DATE,
        at=DATETIME,
        method=enum(ContactMethod),
        outcome=enum(VisitOutcome),
        staff_id=nullable(INT),
        health=nullable(enum(Health)),
        whereabouts=STR,
        note=STR,
    ),
    lambda v: _visit(v),
)


def _visit(v: Visit) -> dict[str, Any]:
    return {
        "id": v.id,
        "resident_id": v.resident_id,
        "station_id": v.station_id,
        "checkin_id": v.checkin_id,
        "day": v.day.isoformat(),
        "at": v.at.isoformat(),
        "method": v.method.value,
        "outcome": v.outcome.value,
        "staff_id": v.staff_id,
        "health": _value(v.health),
        "whereabouts": v.whereabouts,
        "note": v.note,
    }


LEAD = ItemType(
    "Lead",
    "派出所的线索：来自报到异常或谣言举报",
    obj(
        id=INT,
        source=enum(LeadSource),
        priority=enum(LeadPriority),
        status=enum(LeadStatus),
        station_id=INT,
        station=STR,
        resident_id=nullable(INT),
        checkin_id=nullable(INT),
        cluster_id=nullable(INT),
        title=STR,
        detail=STR,
        due_date=nullable(DATE),
        outcome=STR,
        outcome_note=STR,
        created_at=DATETIME,
        closed_at=nullable(DATETIME),
    ),
    lambda lead: _lead(lead),
)


def _lead(lead: Lead) -> dict[str, Any]:
    return {
        "id": lead.id,
        "source": lead.source.value,
        "priority": lead.priority.value,
        "status": lead.status.value,
        "station_id": lead.station_id,
        "station": lead.station.name,
        "resident_id": lead.resident_id,
        "checkin_id": lead.checkin_id,
        "cluster_id": lead.cluster_id,
        "title": lead.title,
        "detail": lead.detail,
        "due_date": _day(lead.due_date),
        "outcome": lead.outcome,
        "outcome_note": lead.outcome_note,
        "created_at": lead.created_at.isoformat(),
        "closed_at": _at(lead.closed_at),
    }


# --- tips and advisories --------------------------------------------------------------------------

TIP = ItemType(
    "Tip",
    "一条谣言举报（不含举报人身份）",
    obj(
        id=INT,
        ticket=STR,
        cluster_id=nullable(INT),
        channel=enum(TipChannel),
        kind=STR,
        text=STR,
        url=STR,
        seen_where=STR,
        seen_when=STR,
        created_at=DATETIME,
    ),
    lambda t: _tip(t),
)


def _tip(t: Tip) -> dict[str, Any]:
    return {
        "id": t.id,
        "ticket": t.ticket,
        "cluster_id": t.cluster_id,
        "channel": t.channel.value,
        "kind": t.kind,
        "text": t.text,
        "url": t.url,
        "seen_where": t.seen_where,
        "seen_when": t.seen_when,
        "created_at": t.created_at.isoformat(),
    }


CLUSTER = ItemType(
    "TipCluster",
    "同一传言的举报归并而成的线索群",
    obj(
        id=INT,
        summary=STR,
        status=enum(ClusterStatus),
        reason=STR,
        debunk_text=STR,
        tip_count=COUNT,
        reporter_count=COUNT,
        first_seen=DATETIME,
        last_seen=DATETIME,
        decided_at=nullable(DATETIME),
        merged_into_id=nullable(INT),
    ),
    lambda c: _cluster(c),
)


def _cluster(c: TipCluster) -> dict[str, Any]:
    return {
        "id": c.id,
        "summary": c.summary,
        "status": c.status.value,
        "reason": c.reason,
        "debunk_text": c.debunk_text,
        "tip_count": c.tip_count,
        "reporter_count": c.reporter_count,
        "first_seen": c.first_seen.isoformat(),
        "last_seen": c.last_seen.isoformat(),
        "decided_at": _at(c.decided_at),
        "merged_into_id": c.merged_into_id,
    }


ADVISORY = ItemType(
    "Advisory",
    "倡议书",
    obj(
        id=INT,
        title=STR,
        body=STR,
        body_format=STR,
        status=enum(AdvisoryStatus),
        link_url=STR,
        created_at=DATETIME,
        submitted_at=nullable(DATETIME),
        scheduled_at=nullable(DATETIME),
        started_at=nullable(DATETIME),
        sent_at=nullable(DATETIME),
        cancelled_at=nullable(DATETIME),
    ),
    lambda a: _advisory(a),
)


def _advisory(a: Advisory) -> dict[str, Any]:
    return {
        "id": a.id,
        "title": a.title,
        "body": a.body,
        "body_format": a.body_format,
        "status": a.status.value,
        "link_url": a.link_url,
        "created_at": a.created_at.isoformat(),
        "submitted_at": _at(a.submitted_at),
        "scheduled_at": _at(a.scheduled_at),
        "started_at": _at(a.started_at),
        "sent_at": _at(a.sent_at),
        "cancelled_at": _at(a.cancelled_at),
    }


DELIVERY = ItemType(
    "Delivery",
    "倡议书向一个群（或一位转发人）的推送",
    obj(
        id=INT,
        advisory_id=INT,
        group_id=INT,
        group_name=STR,
        group_kind=enum(GroupKind),
        status=enum(DeliveryStatus),
        sent_at=nullable(DATETIME),
        forwarded_at=nullable(DATETIME),
    ),
    lambda d: _delivery(d),
)


def _delivery(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "advisory_id": d.advisory_id,
        "group_id": d.group_id,
        "group_name": d.group.name,
        "group_kind": d.group.kind.value,
        "status": d.status.value,
        "sent_at": _at(d.outbox.sent_at) if d.outbox is not None else None,
        "forwarded_at": _at(d.forwarded_at),
    }


# --- figures and reports --------------------------------------------------------------------------

_AREA = obj(
    id=nullable(INT),
    name=STR,
    township=STR,
    residents=COUNT,
    bound=COUNT,
    expected=COUNT,
    answered=COUNT,
    rate={"type": "number", "minimum": 0, "maximum": 1},
    abnormal=COUNT,
    phone_list=COUNT,
    not_reached=COUNT,
    visited_today=COUNT,
    visited_total=COUNT,
    returned_today=COUNT,
    monitoring=COUNT,
    ending_soon=COUNT,
)
_AREA_COUNTS: tuple[str, ...] = (
    *("residents", "bound", "expected", "answered", "abnormal", "phone_list", "not_reached"),
    *("visited_today", "visited_total", "returned_today", "monitoring", "ending_soon"),
)


def area(a: AreaFigures) -> dict[str, Any]:
    counts = {key: getattr(a, key) for key in _AREA_COUNTS}
    return {"id": a.id, "name": a.name, "township": a.township, **counts, "rate": round(a.rate, 4)}


STATS = ItemType(
    "Stats",
    "当日数据（调用者辖区内）：合计与各派出所",
    obj(day=DATE, total=_AREA, stations={"type": "array", "items": _AREA}),
    lambda s: s,  # built by the view from stats.by_station, already in this shape
)

_REPORT_FIELDS: dict[str, Schema] = {
    "day": DATE,
    "status": enum(ReportStatus),
    "round": COUNT,
    "approval_step": COUNT,
    "chain": {"type": "array", "items": STR},
    "drafted_at": nullable(DATETIME),
    "approved_at": nullable(DATETIME),
}
REPORT_SUMMARY = ItemType(
    "ReportSummary", "日报（列表）", obj(**_REPORT_FIELDS), lambda r: _report_summary(r)
)


def _report_summary(r: DailyReport) -> dict[str, Any]:
    return {
        "day": r.day.isoformat(),
        "status": r.status.value,
        "round": r.round,
        "approval_step": r.approval_step,
        "chain": list(r.chain),
        "drafted_at": _at(r.drafted_at),
        "approved_at": _at(r.approved_at),
    }


_HISTORY_ENTRY = obj(
    round=COUNT,
    action={"type": "string", "enum": ["submit", "approve", "return"]},
    step_title=STR,
    who=STR,
    at=DATETIME,
    comment=STR,
)
REPORT = ItemType(
    "Report",
    "日报全文：数据（与审批时一致）、情况说明与审批记录",
    obj(
        **_REPORT_FIELDS,
        summary=STR,
        figures={"type": "object", "description": "报表数据，见日报页面各表"},
        history={"type": "array", "items": _HISTORY_ENTRY},
    ),
    lambda r: _report(r),
)


def _report(r: DailyReport) -> dict[str, Any]:
    history = [
        {
            "round": e.round,
            "action": e.action,
            "step_title": e.step_title,
            "who": e.who,
            "at": e.at.isoformat(),
            "comment": e.comment,
        }
        for e in reports.history(r)
    ]
    return {**_report_summary(r), "summary": r.summary, "figures": r.figures, "history": history}


OPENAPI_DOCUMENT = ItemType("OpenApiDocument", "本文档", {"type": "object"}, lambda d: d)

ERROR: Schema = obj(error=obj(code=STR, message=STR))
