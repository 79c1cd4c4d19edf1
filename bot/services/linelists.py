"""Line lists: the people (or leads) behind each dashboard figure.

Each list is data: a base SELECT of labelled columns, the column that scopes it to
stations, its columns, the sort keys it allows (a whitelist) and its own filters.
Filtering, sorting and paging happen in the database; identifiers are masked here, on
the server, unless an export is explicitly unmasked. The same definitions feed the
panel's pages, its .xlsx exports, and any other area that wants a list (the leads area
can show ``leads_overdue``; the check-ins area adds its call form to ``phone_list``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, exists, false, func, select
from sqlalchemy.orm import Session

from bot.models import (
    Checkin,
    CheckinStatus,
    Health,
    Jurisdiction,
    JurisdictionKind,
    Lead,
    LeadPriority,
    LeadSource,
    LeadStatus,
    Resident,
    ResidentStatus,
    Visit,
    WeChatIdentity,
)
from bot.privacy import mask_id_number, mask_phone
from bot.services import residents
from bot.services.labels import label
from bot.services.residents import Page
from bot.services.scope import Scope
from bot.services.stats import ANSWERED, ENDING_SOON_DAYS, overdue_condition

AnySelect = Select[*tuple[Any, ...]]
MAX_PER_PAGE = 200
DEFAULT_PER_PAGE = 50
EXPORT_LIMIT = 50_000  # far above the county's registry; a guard, not a quota
NOT_ANSWERED = tuple(s for s in CheckinStatus if s not in ANSWERED)
# Status filter values for groups of statuses (distinct from every single status's value).
ALL_ANSWERED, ALL_UNANSWERED = "answered_all", "unanswered_all"


@dataclass(frozen=True)
class Column:
    key: str  # the label of the SELECT column it shows
    title: str
    kind: str = "text"  # text | phone | id_number | station | township | date | datetime | number | label
    vocabulary: str = ""  # for kind "label": which labels.LABELS vocabulary
    sortable: bool = False
    width: int = 14  # in the .xlsx


@dataclass(frozen=True)
class Option:
    """A filter of one list: a query parameter whose allowed values are listed."""

    key: str
    title: str
    choices: tuple[tuple[str, str], ...]  # (value, label); the first is the default
    apply: Callable[[AnySelect, str, date], AnySelect]

    @property
    def default(self) -> str:
        return self.choices[0][0]


@dataclass(frozen=True)
class ListQuery:
    day: date
    station_id: int | None = None
    township_id: int | None = None
    q: str = ""
    options: tuple[tuple[str, str], ...] = ()
    sort: str = ""
    desc: bool = False
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    def option(self, key: str) -> str:
        return dict(self.options).get(key, "")

    def params(self, **changes: object) -> dict[str, str]:
        """The query string that reproduces this query (with ``changes``), defaults left out."""
        values: dict[str, object] = {
            "day": self.day.isoformat(),
            "station_id": self.station_id,
            "township_id": self.township_id,
            "q": self.q,
            **dict(self.options),
            "sort": self.sort,
            "desc": "1" if self.desc else "",
            "page": self.page if self.page > 1 else None,
            "per_page": self.per_page if self.per_page != DEFAULT_PER_PAGE else None,
        }
        values.update(changes)
        return {k: str(v) for k, v in values.items() if v not in (None, "")}

    def filters(self) -> dict[str, str]:
        """What selects the rows (for the audit log): no paging, no sorting."""
        return {k: v for k, v in self.params(page=None, per_page=None, sort=None, desc=None).items()}


@dataclass(frozen=True)
class ListRow:
    record_id: int  # the check-in, resident or lead
    resident_id: int | None
    cells: dict[str, Any]


@dataclass(frozen=True)
class LineList:
    name: str
    title: str
    description: str
    columns: tuple[Column, ...]
    base: Callable[[ListQuery], AnySelect]
    station_column: Any  # what Scope.filter and the station/township filters apply to
    name_column: Any  # what ``q`` searches
    sorts: Mapping[str, Any]  # sort key -> column expression (the whitelist)
    default_sort: str
    id_column: Any  # tie-breaker, so pages never overlap
    default_desc: bool = False
    options: tuple[Option, ...] = ()
    uses_day: bool = True  # whether the day picker changes the rows

    def option(self, key: str) -> Option | None:
        return next((o for o in self.options if o.key == key), None)


# --- shared columns -------------------------------------------------------------------------------

_PERSON = (
    Column("name", "姓名", sortable=True, width=10),
    Column("phone", "手机号", "phone", width=14),
    Column("id_number", "身份证号", "id_number", width=21),
    Column("station_id", "派出所", "station", sortable=True, width=14),
    Column("township_id", "乡镇街道", "township", width=12),
)
_CITY = Column("city", "现居地", sortable=True, width=10)


def _person_columns() -> tuple[Any, ...]:
    return (
        Resident.id.label("resident_id"),
        Resident.name.label("name"),
        Resident.phone.label("phone"),
        Resident.id_number.label("id_number"),
        Resident.township_id.label("township_id"),
        Resident.current_city.label("city"),
    )


def _person_sorts(station: Any) -> dict[str, Any]:
    return {"name": Resident.name, "station_id": station, "city": Resident.current_city}


def _choice(
    key: str, title: str, choices: tuple[tuple[str, str], ...], where: Mapping[str, Callable[[date], Any]]
) -> Option:
    """An option whose every value adds one WHERE clause (the default value may add none)."""

    def apply(stmt: AnySelect, value: str, day: date) -> AnySelect:
        clause = where.get(value)
        return stmt if clause is None else stmt.where(clause(day))

    return Option(key, title, choices, apply)


# --- check-in lists -------------------------------------------------------------------------------


def _checkins(query: ListQuery) -> AnySelect:
    return (
        select(
            Checkin.id.label("record_id"),
            *_person_columns(),
            Checkin.station_id.label("station_id"),
            Checkin.status.label("status"),
            Checkin.health.label("health"),
            Checkin.temperature.label("temperature"),
            Checkin.whereabouts_city.label("whereabouts"),
            Checkin.phone_list_reason.label("reason"),
            Checkin.prompted_at.label("prompted_at"),
            Checkin.answered_at.label("answered_at"),
        )
        .join(Resident, Checkin.resident_id == Resident.id)
        .where(Checkin.day == query.day)
    )


def _status_in(*statuses: CheckinStatus) -> Callable[[date], Any]:
    return lambda _day: Checkin.status.in_(statuses)


def _equals(column: Any, value: object) -> Callable[[date], Any]:
    return lambda _day: column == value


def _one_of(
    key: str,
    title: str,
    column: Any,
    members: type[StrEnum],
    vocabulary: str,
    *,
    hidden: StrEnum | None = None,
) -> Option:
    """All rows, or those whose enum ``column`` has one value (any but ``hidden`` is offered)."""
    shown = ((m.value, label(vocabulary, m)) for m in members if m != hidden)
    return _choice(key, title, (("", "全部"), *shown), {m.value: _equals(column, m) for m in members})


_CHECKIN_SORTS = {
    **_person_sorts(Checkin.station_id),
    "status": Checkin.status,
    "answered_at": Checkin.answered_at,
    "prompted_at": Checkin.prompted_at,
    "temperature": Checkin.temperature,
}
_STATUS = Column("status", "签到状态", "label", "checkin_status", sortable=True, width=12)
_HEALTH = Column("health", "健康状况", "label", "health", width=10)
_TEMPERATURE = Column("temperature", "体温", "number", sortable=True, width=8)
_ANSWERED_AT = Column("answered_at", "回复时间", "datetime", sortable=True, width=17)
_REASON = Column("reason", "回访原因", "label", "phone_reason", width=10)

# A check-in list: a row is one check-in of the day, at the check-in's station.
_checkin_list = partial(
    LineList,
    station_column=Checkin.station_id,
    name_column=Resident.name,
    sorts=_CHECKIN_SORTS,
    default_sort="station_id",
    id_column=Checkin.id,
)

CHECKINS = _checkin_list(
    name="checkins",
    title="当日签到",
    description="所选日期的全部签到记录，可按状态筛选。",
    columns=(*_PERSON, _CITY, _STATUS, _HEALTH, _TEMPERATURE, _ANSWERED_AT),
    base=_checkins,
    options=(
        _choice(
            "status",
            "状态",
            (
                ("", "全部"),
                (ALL_ANSWERED, "已签到（含电话联系）"),
                (ALL_UNANSWERED, "未签到"),
                *((s.value, label("checkin_status", s)) for s in CheckinStatus),
            ),
            {
                ALL_ANSWERED: _status_in(*ANSWERED),
                ALL_UNANSWERED: _status_in(*NOT_ANSWERED),
                **{s.value: _status_in(s) for s in CheckinStatus},
            },
        ),
    ),
)

NON_RESPONDERS = _checkin_list(
    name="non_responders",
    title="未签到人员",
    description="当日尚未签到、也未经电话联系上的人员。",
    columns=(
        *_PERSON,
        _CITY,
        _STATUS,
        _REASON,
        Column("prompted_at", "发送时间", "datetime", sortable=True, width=17),
    ),
    base=lambda q: _checkins(q).where(Checkin.status.in_(NOT_ANSWERED)),
    options=(
        _choice(
            "status",
            "状态",
            (("", "全部"), *((s.value, label("checkin_status", s)) for s in NOT_ANSWERED)),
            {s.value: _status_in(s) for s in NOT_ANSWERED},
        ),
    ),
)

ABNORMAL = _checkin_list(
    name="abnormal",
    title="健康异常人员",
    description="当日签到报告发热、有症状或已就医隔离的人员。",
    columns=(
        *_PERSON,
        _CITY,
        _HEALTH,
        _TEMPERATURE,
        Column("whereabouts", "所在城市（本次）", width=12),
        _ANSWERED_AT,
    ),
    base=lambda q: _checkins(q).where(Checkin.abnormal.is_(True)),
    default_sort="answered_at",
    default_desc=True,
    options=(_one_of("health", "健康状况", Checkin.health, Health, "health", hidden=Health.NORMAL),),
)

PHONE_LIST = _checkin_list(
    name="phone_list",
    title="电话回访名单",
    description="未回复、回复不清或未绑定微信、需要派出所电话回访的人员。",
    columns=(
        *_PERSON,
        _CITY,
        _REASON,
        _STATUS,
        Column("listed_at", "列入时间", "datetime", sortable=True, width=17),
    ),
    base=lambda q: _checkins(q).add_columns(Checkin.phone_listed_at.label("listed_at")),
    sorts={**_CHECKIN_SORTS, "listed_at": Checkin.phone_listed_at},
    options=(
        _choice(
            "state",
            "回访情况",
            (("due", "待回访"), ("not_reached", "未接通"), ("reached", "已联系"), ("all", "全部")),
            {
                "due": _status_in(CheckinStatus.PHONE_LIST),
                "not_reached": _status_in(CheckinStatus.NOT_REACHED),
                "reached": _status_in(CheckinStatus.REACHED_BY_PHONE),
                "all": _status_in(
                    CheckinStatus.PHONE_LIST, CheckinStatus.NOT_REACHED, CheckinStatus.REACHED_BY_PHONE
                ),
            },
        ),
    ),
)

# --- resident lists -------------------------------------------------------------------------------


def _residents(*where: Any) -> Callable[[ListQuery], AnySelect]:
    def base(_query: ListQuery) -> AnySelect:
        return select(
            Resident.id.label("record_id"),
            *_person_columns(),
            Resident.station_id.label("station_id"),
            Resident.status.label("status"),
            Resident.away_since.label("away_since"),
            Resident.returned_on.label("returned_on"),
            Resident.monitoring_end.label("monitoring_end"),
        ).where(*where)

    return base


_RESIDENT_SORTS = {
    **_person_sorts(Resident.station_id),
    "away_since": Resident.away_since,
    "returned_on": Resident.returned_on,
    "monitoring_end": Resident.monitoring_end,
}
_RETURNED = Column("returned_on", "返乡日期", "date", sortable=True, width=11)
_MONITORING_END = Column("monitoring_end", "观察期止", "date", sortable=True, width=11)
_MONITORING = Resident.status == ResidentStatus.MONITORING
_RESIDENT_STATUS = Column("status", "人员状态", "label", "resident_status", sortable=True, width=10)
_AWAY_SINCE = Column("away_since", "外出时间", "date", sortable=True, width=11)

# A resident list: a row is one registered resident, at the resident's station.
_resident_list = partial(
    LineList,
    station_column=Resident.station_id,
    name_column=Resident.name,
    sorts=_RESIDENT_SORTS,
    default_sort="station_id",
    id_column=Resident.id,
)


def _monitoring_list(name: str, title: str, description: str, option: Option) -> LineList:
    """Residents back home and still under observation, the soonest to end first."""
    return _resident_list(
        name=name,
        title=title,
        description=description,
        columns=(*_PERSON, _RETURNED, _MONITORING_END),
        base=_residents(_MONITORING),
        default_sort="monitoring_end",
        options=(option,),
    )


MONITORING = _monitoring_list(
    "monitoring",
    "返乡观察中人员",
    "已返乡、仍在居家观察期内的人员。",
    _choice(
        "returned",
        "返乡时间",
        (("", "全部"), ("today", "当日返乡")),
        {"today": lambda day: Resident.returned_on == day},
    ),
)


def _ending_within(days: int) -> Callable[[date], Any]:
    return lambda day: Resident.monitoring_end <= day + timedelta(days=days)


MONITORING_ENDING = _monitoring_list(
    "monitoring_ending",
    "观察期即将结束",
    "观察期将在所选天数内结束（或已到期未解除）的人员。",
    _choice(
        "within",
        "天数",
        ((str(ENDING_SOON_DAYS), f"{ENDING_SOON_DAYS} 天内"), ("1", "1 天内"), ("7", "7 天内")),
        {str(n): _ending_within(n) for n in (1, ENDING_SOON_DAYS, 7)},
    ),
)

_HAS_IDENTITY = exists().where(WeChatIdentity.resident_id == Resident.id)
# The registry's lists: everyone, whatever the day, sortable by status too.
_registry_list = partial(_resident_list, sorts={**_RESIDENT_SORTS, "status": Resident.status})
_REGISTRY_COLUMNS = (*_PERSON, _CITY, _RESIDENT_STATUS, _AWAY_SINCE)

UNBOUND = _registry_list(
    name="unbound",
    title="未绑定微信人员",
    description="在册（未解除）但尚未绑定微信、只能电话联系的人员。",
    columns=_REGISTRY_COLUMNS,
    base=_residents(Resident.status != ResidentStatus.CLOSED, ~_HAS_IDENTITY),
    options=(
        _one_of(
            "status",
            "人员状态",
            Resident.status,
            ResidentStatus,
            "resident_status",
            hidden=ResidentStatus.CLOSED,
        ),
    ),
    uses_day=False,
)


def _visited(when: str) -> Callable[[date], Any]:
    def clause(day: date) -> Any:
        if when == "today":  # the day's visitors from ix_visits_day_station, not a probe per resident
            return Resident.id.in_(select(Visit.resident_id).where(Visit.day == day))
        visit = exists().where(Visit.resident_id == Resident.id)
        return ~visit if when == "never" else visit

    return clause


REGISTRY = _registry_list(
    name="registry",
    title="在册人员",
    description="登记在册的全部外出人员（含返乡观察和已解除），可按人员状态和微信绑定情况筛选。",
    columns=_REGISTRY_COLUMNS,
    base=_residents(),
    options=(
        _one_of("status", "人员状态", Resident.status, ResidentStatus, "resident_status"),
        _choice(
            "wechat",
            "微信",
            (("", "全部"), ("bound", "已绑定"), ("unbound", "未绑定")),
            {"bound": lambda _day: _HAS_IDENTITY, "unbound": lambda _day: ~_HAS_IDENTITY},
        ),
    ),
    uses_day=False,
)

VISITED = _registry_list(
    name="visited",
    title="走访情况",
    description="当日或累计有过走访（微信签到、电话、上门）的人员，以及从未走访到的人员；目标为在册全部人员。",
    columns=(*_PERSON, _CITY, _RESIDENT_STATUS),
    base=_residents(),
    options=(
        _choice(
            "when",
            "走访",
            (("today", "当日已走访"), ("ever", "累计已走访"), ("never", "从未走访")),
            {when: _visited(when) for when in ("today", "ever", "never")},
        ),
    ),
)

# --- leads ----------------------------------------------------------------------------------------


def _leads(_query: ListQuery) -> AnySelect:
    return select(
        Lead.id.label("record_id"),
        Lead.resident_id.label("resident_id"),
        Lead.title.label("title"),
        Lead.priority.label("priority"),
        Lead.source.label("source"),
        Lead.station_id.label("station_id"),
        Resident.name.label("name"),
        Lead.status.label("status"),
        Lead.due_date.label("due_date"),
        Lead.outcome.label("outcome"),
        Lead.created_at.label("created_at"),
    ).outerjoin(Resident, Lead.resident_id == Resident.id)


_LEAD_COLUMNS = (
    Column("title", "线索", width=30),
    Column("priority", "紧急程度", "label", "lead_priority", sortable=True, width=8),
    Column("source", "来源", "label", "lead_source", width=10),
    Column("station_id", "派出所", "station", sortable=True, width=14),
    Column("name", "涉及人员", width=10),
    Column("status", "状态", "label", "lead_status", sortable=True, width=8),
    Column("due_date", "办理期限", "date", sortable=True, width=11),
    Column("outcome", "处理结果", width=14),
    Column("created_at", "产生时间", "datetime", sortable=True, width=17),
)
_LEAD_SORTS = {
    "priority": Lead.priority,
    "station_id": Lead.station_id,
    "status": Lead.status,
    "due_date": Lead.due_date,
    "created_at": Lead.created_at,
}
_LEAD_NAME = func.coalesce(Resident.name, Lead.title)  # ``q`` finds a person's name or a lead's title
_OUTCOME_FILTER_MAX = 32


def _lead_outcome(stmt: AnySelect, value: str, _day: date) -> AnySelect:
    # Outcomes are the leads area's vocabulary; any value is allowed here, matched exactly.
    return stmt.where(Lead.outcome == value[:_OUTCOME_FILTER_MAX]) if value else stmt


# A lead list: a row is one lead, at the lead's station.
_lead_list = partial(
    LineList,
    columns=_LEAD_COLUMNS,
    station_column=Lead.station_id,
    name_column=_LEAD_NAME,
    sorts=_LEAD_SORTS,
    id_column=Lead.id,
)

LEADS = _lead_list(
    name="leads",
    title="线索",
    description="签到异常和谣言举报产生的线索，可按状态、结果和是否逾期筛选。",
    base=_leads,
    default_sort="created_at",
    default_desc=True,
    options=(
        _one_of("status", "状态", Lead.status, LeadStatus, "lead_status"),
        _one_of("source", "来源", Lead.source, LeadSource, "lead_source"),
        _one_of("priority", "紧急程度", Lead.priority, LeadPriority, "lead_priority"),
        _choice("overdue", "逾期", (("", "全部"), ("1", "仅逾期")), {"1": overdue_condition}),
        Option("outcome", "处理结果", (("", "全部"),), _lead_outcome),
    ),
    uses_day=False,
)

LEADS_OVERDUE = _lead_list(
    name="leads_overdue",
    title="逾期线索",
    description="超过办理期限仍未办结的线索。",
    base=lambda q: _leads(q).where(overdue_condition(q.day)),
    default_sort="due_date",
    options=LEADS.options[:3],
)

LISTS: dict[str, LineList] = {
    spec.name: spec
    for spec in (
        CHECKINS,
        NON_RESPONDERS,
        ABNORMAL,
        PHONE_LIST,
        MONITORING,
        MONITORING_ENDING,
        UNBOUND,
        REGISTRY,
        VISITED,
        LEADS,
        LEADS_OVERDUE,
    )
}

# --- parsing request parameters -------------------------------------------------------------------


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _day(value: str | None, default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default


def _options(spec: LineList, args: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    chosen = []
    for option in spec.options:
        value = args.get(option.key, option.default)
        free = len(option.choices) == 1  # only "all" listed: any short value is accepted
        if free:
            value = value.strip()[:_OUTCOME_FILTER_MAX]
        elif value not in {v for v, _ in option.choices}:
            value = option.default
        chosen.append((option.key, value))
    return tuple(chosen)


def parse_query(spec: LineList, args: Mapping[str, str], today: date) -> ListQuery:
    """A valid query from untrusted parameters: unknown values fall back to the defaults."""
    sort = args.get("sort", "")
    per_page = _int(args.get("per_page")) or DEFAULT_PER_PAGE
    return ListQuery(
        day=_day(args.get("day"), today),
        station_id=_int(args.get("station_id")),
        township_id=_int(args.get("township_id")),
        q=args.get("q", "").strip()[:32],
        options=_options(spec, args),
        sort=sort if sort in spec.sorts else "",
        desc=args.get("desc") == "1",
        page=max(_int(args.get("page")) or 1, 1),
        per_page=min(max(per_page, 1), MAX_PER_PAGE),
    )


# --- running a list -------------------------------------------------------------------------------


def _filtered(spec: LineList, scope: Scope, query: ListQuery) -> AnySelect:
    stmt = scope.filter(spec.base(query), spec.station_column)
    if query.station_id is not None:
        stmt = stmt.where(spec.station_column == query.station_id)
    if query.township_id is not None:
        stations = select(Jurisdiction.id).where(Jurisdiction.parent_id == query.township_id)
        stmt = stmt.where(spec.station_column.in_(stations))
    if query.q:
        by_identifier = residents.identifier_clause(query.q)
        found = (
            spec.name_column.contains(query.q, autoescape=True) if by_identifier is None else by_identifier
        )
        stmt = stmt.where(found)
    for key, value in query.options:
        option = spec.option(key)
        if option is not None:
            stmt = option.apply(stmt, value, query.day)
    return stmt


def _ordered(spec: LineList, query: ListQuery, stmt: AnySelect) -> AnySelect:
    key = query.sort or spec.default_sort
    desc = query.desc if query.sort else spec.default_desc
    column = spec.sorts[key]
    order = [column.desc() if desc else column.asc()]
    # NULLs last either way, the same on SQLite and PostgreSQL; then a unique tie-breaker.
    return stmt.order_by(column.is_(None), *order, spec.id_column)


def count(db: Session, scope: Scope, spec: LineList, query: ListQuery) -> int:
    stmt = _filtered(spec, scope, query)
    return db.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


@dataclass(frozen=True)
class Render:
    """How cells are shown: jurisdiction names, the local time zone, masked or not."""

    names: Mapping[int, str]
    tz: ZoneInfo
    masked: bool = True

    def cell(self, column: Column, value: Any) -> Any:
        if value is None:
            return ""
        kind = column.kind
        if kind == "phone":
            return mask_phone(value) if self.masked else value
        if kind == "id_number":
            return mask_id_number(value) if self.masked else value
        if kind in ("station", "township"):
            return self.names.get(value, "")
        if kind == "datetime":
            return value.astimezone(self.tz).strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else ""
        if kind == "date":
            return value.isoformat() if isinstance(value, date) else str(value)
        if kind == "label":
            return label(column.vocabulary, value)
        if kind == "number":
            return float(value)
        return value


def jurisdiction_names(db: Session) -> dict[int, str]:
    return dict(db.execute(select(Jurisdiction.id, Jurisdiction.name)).all())


def _rows(spec: LineList, render: Render, result: Any) -> Iterator[ListRow]:
    for row in result:
        mapping = row._mapping
        cells = {c.key: render.cell(c, mapping.get(c.key)) for c in spec.columns}
        yield ListRow(mapping["record_id"], mapping.get("resident_id"), cells)


def page(db: Session, scope: Scope, spec: LineList, query: ListQuery, tz: ZoneInfo) -> Page:
    """One page of the list, identifiers masked; ``Page.items`` are ListRows."""
    total = count(db, scope, spec, query)
    pages = max(1, -(-total // query.per_page))
    number = min(query.page, pages)
    filtered = _filtered(spec, scope, query)
    # Sort and cut the page on the ids alone, then fetch the page's 50 rows: the database never
    # sorts thousands of full rows (names, encrypted identifiers) to keep fifty of them.
    ids = _ordered(spec, query, filtered.with_only_columns(spec.id_column))
    ids = ids.limit(query.per_page).offset((number - 1) * query.per_page)
    result = db.execute(_ordered(spec, query, filtered.where(spec.id_column.in_(ids.scalar_subquery()))))
    render = Render(jurisdiction_names(db), tz)
    return Page(list(_rows(spec, render, result)), total, number, query.per_page)


def all_rows(
    db: Session, scope: Scope, spec: LineList, query: ListQuery, tz: ZoneInfo, *, masked: bool = True
) -> Iterator[ListRow]:
    """Every row of the list (up to EXPORT_LIMIT), streamed, in the page order."""
    stmt = _ordered(spec, query, _filtered(spec, scope, query)).limit(EXPORT_LIMIT)
    render = Render(jurisdiction_names(db), tz, masked)
    result = db.execute(stmt.execution_options(yield_per=1000))
    yield from _rows(spec, render, result)


@dataclass(frozen=True)
class Choices:
    """The station and township pickers of the filter form, within the scope."""

    stations: list[tuple[int, str]]
    townships: list[tuple[int, str]]


def filter_choices(db: Session, scope: Scope) -> Choices:
    stations = db.execute(
        scope.filter(
            select(Jurisdiction.id, Jurisdiction.name, Jurisdiction.parent_id)
            .where(Jurisdiction.kind == JurisdictionKind.STATION)
            .order_by(Jurisdiction.code),
            Jurisdiction.id,
        )
    ).all()
    parents = {parent for _, _, parent in stations if parent is not None}
    townships = db.execute(
        select(Jurisdiction.id, Jurisdiction.name)
        .where(Jurisdiction.id.in_(parents) if parents else false())
        .order_by(Jurisdiction.code)
    ).all()
    return Choices([(i, n) for i, n, _ in stations], [(i, n) for i, n in townships])
