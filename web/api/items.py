"""The API's item types: each declared once, as a table of fields, from which both its JSON
Schema and the function that dumps a record to match it are derived.

A field says its schema and how a record's value becomes JSON; it reads the record's
attribute of the same name unless told otherwise (``via``). ``additionalProperties: false``
lets the contract tests catch any drift. Identifiers are masked here; a tip never carries
who reported it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from bot.models import (
    AdvisoryStatus,
    CheckinStatus,
    ClusterStatus,
    ContactMethod,
    DeliveryStatus,
    GroupKind,
    Health,
    LeadPriority,
    LeadSource,
    LeadStatus,
    ReportStatus,
    ResidentStatus,
    TipChannel,
    VisitOutcome,
)
from bot.privacy import mask_id_number, mask_phone
from bot.services import reports

Schema = dict[str, Any]


@dataclass(frozen=True)
class ItemType:
    name: str  # the component's name in the OpenAPI document
    description: str
    schema: Schema
    dump: Callable[[Any], dict[str, Any]]


# --- fields ---------------------------------------------------------------------------------------


def _same(value: Any) -> Any:
    return value


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _value(member: StrEnum | None) -> str | None:
    return member.value if member is not None else None


def _float(value: Any) -> float | None:
    return float(value) if value is not None else None


@dataclass(frozen=True)
class Field:
    """One property: its JSON Schema, and how the record's value becomes JSON."""

    schema: Schema
    convert: Callable[[Any], Any] = _same
    read: Callable[[Any], Any] | None = None  # the record -> the value; default: the same-named attribute

    def via(self, read: Callable[[Any], Any]) -> Field:
        """This field, its value read from the record by ``read``."""
        return replace(self, read=read)

    def dump(self, record: Any, name: str) -> Any:
        return self.convert(getattr(record, name) if self.read is None else self.read(record))


INT = Field({"type": "integer"})
COUNT = Field({"type": "integer", "minimum": 0})
NUMBER = Field({"type": "number"}, _float)
STR = Field({"type": "string"})
BOOL = Field({"type": "boolean"})
DATE = Field({"type": "string", "format": "date"}, _iso)
DATETIME = Field({"type": "string", "format": "date-time"}, _iso)


def enum(cls: type[StrEnum]) -> Field:
    return Field({"type": "string", "enum": [member.value for member in cls]}, _value)


def nullable(field: Field) -> Field:
    schema = {**field.schema, "type": [field.schema["type"], "null"]}
    if "enum" in field.schema:
        schema["enum"] = [*field.schema["enum"], None]
    return replace(field, schema=schema)


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def obj(**properties: Schema) -> Schema:
    """An object with exactly these properties, all present (nullable ones say so)."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


class Fields:
    """An object's fields in order: its schema and its dump, from this one table."""

    def __init__(self, **table: Field) -> None:
        self.table = table

    @property
    def schema(self) -> Schema:
        return obj(**{name: field.schema for name, field in self.table.items()})

    def dump(self, record: Any) -> dict[str, Any]:
        return {name: field.dump(record, name) for name, field in self.table.items()}


def item(name: str, description: str, fields: Fields) -> ItemType:
    return ItemType(name, description, fields.schema, fields.dump)


# --- residents and their days ---------------------------------------------------------------------

RESIDENT = item(
    "Resident",
    "在册外出人员；身份证号与手机号已脱敏",
    Fields(
        id=INT,
        name=STR,
        id_number_masked=STR.via(lambda r: mask_id_number(r.id_number)),
        phone_masked=STR.via(lambda r: mask_phone(r.phone)),
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
)

CHECKIN = item(
    "Checkin",
    "某人某日的健康报到",
    Fields(
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
)

VISIT = item(
    "Visit",
    "一次联系：微信报到、电话或上门走访",
    Fields(
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
)

LEAD = item(
    "Lead",
    "派出所的线索：来自报到异常或谣言举报",
    Fields(
        id=INT,
        source=enum(LeadSource),
        priority=enum(LeadPriority),
        status=enum(LeadStatus),
        station_id=INT,
        station=STR.via(lambda lead: lead.station.name),
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
)

# --- tips and advisories --------------------------------------------------------------------------

TIP = item(
    "Tip",
    "一条谣言举报（不含举报人身份）",
    Fields(
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
)

CLUSTER = item(
    "TipCluster",
    "同一传言的举报归并而成的线索群",
    Fields(
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
)

ADVISORY = item(
    "Advisory",
    "倡议书",
    Fields(
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
)

DELIVERY = item(
    "Delivery",
    "倡议书向一个群（或一位转发人）的推送",
    Fields(
        id=INT,
        advisory_id=INT,
        group_id=INT,
        group_name=STR.via(lambda d: d.group.name),
        group_kind=enum(GroupKind).via(lambda d: d.group.kind),
        status=enum(DeliveryStatus),
        sent_at=nullable(DATETIME).via(lambda d: d.outbox.sent_at if d.outbox is not None else None),
        forwarded_at=nullable(DATETIME),
    ),
)

# --- figures and reports --------------------------------------------------------------------------

_AREA = Fields(
    id=nullable(INT),
    name=STR,
    township=STR,
    residents=COUNT,
    bound=COUNT,
    expected=COUNT,
    answered=COUNT,
    rate=Field({"type": "number", "minimum": 0, "maximum": 1}, lambda rate: round(rate, 4)),
    abnormal=COUNT,
    phone_list=COUNT,
    not_reached=COUNT,
    visited_today=COUNT,
    visited_total=COUNT,
    returned_today=COUNT,
    monitoring=COUNT,
    ending_soon=COUNT,
)
area = _AREA.dump  # one stats.AreaFigures

STATS = ItemType(
    "Stats",
    "当日数据（调用者辖区内）：合计与各派出所",
    obj(day=DATE.schema, total=_AREA.schema, stations=array(_AREA.schema)),
    lambda s: s,  # built by the view from stats.by_station, already in this shape
)

_REPORT_SUMMARY = Fields(
    day=DATE,
    status=enum(ReportStatus),
    round=COUNT,
    approval_step=COUNT,
    chain=Field(array(STR.schema), list),
    drafted_at=nullable(DATETIME),
    approved_at=nullable(DATETIME),
)
REPORT_SUMMARY = item("ReportSummary", "日报（列表）", _REPORT_SUMMARY)

_HISTORY_ENTRY = Fields(
    round=COUNT,
    action=Field({"type": "string", "enum": ["submit", "approve", "return"]}),
    step_title=STR,
    who=STR,
    at=DATETIME,
    comment=STR,
)
REPORT = item(
    "Report",
    "日报全文：数据（与审批时一致）、情况说明与审批记录",
    Fields(
        **_REPORT_SUMMARY.table,
        summary=STR,
        figures=Field({"type": "object", "description": "报表数据，见日报页面各表"}),
        history=Field(array(_HISTORY_ENTRY.schema)).via(
            lambda r: [_HISTORY_ENTRY.dump(entry) for entry in reports.history(r)]
        ),
    ),
)

OPENAPI_DOCUMENT = ItemType("OpenApiDocument", "本文档", {"type": "object"}, lambda d: d)

ERROR: Schema = obj(error=obj(code=STR.schema, message=STR.schema))
