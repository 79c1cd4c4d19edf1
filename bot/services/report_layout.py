"""What the daily report shows and in what words: its tables, columns and headline figures.

One declaration serves the page, the printable page and the .xlsx export, so the three
can never show different columns. Values are read from the stored figures
(``bot.services.report_figures``); codes are turned into Chinese labels here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from bot.services.labels import LABELS
from bot.services.report_figures import ABNORMAL_KINDS

CellKind = Literal["text", "int", "pct", "float", "outcomes"]
Cell = str | int | float | None

# The report's abnormal kinds are the health answers plus "abnormal for another reason".
ABNORMAL_LABELS = {
    **{kind: LABELS["health"][kind] for kind in ABNORMAL_KINDS if kind in LABELS["health"]},
    "abnormal_other": "其他异常",
}
REPORT_STATUS_LABELS = {"draft": "草稿", "in_approval": "审批中", "returned": "已退回", "approved": "已审批"}
DECISION_LABELS = {"approve": "同意", "return": "退回", "submit": "提交审批"}


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: CellKind = "int"
    labels: Mapping[str, str] | None = None
    width: int = 12

    def value(self, row: Mapping[str, Any]) -> Cell:
        """The cell as shown: labels applied, outcome counts joined; numbers stay numbers."""
        raw = row.get(self.key)
        if self.kind == "outcomes":
            return "；".join(f"{name} {n}" for name, n in (raw or {}).items())
        if self.labels is not None and raw is not None:
            return self.labels.get(str(raw), str(raw))
        if raw is None:
            return None if self.kind != "text" else ""
        value: Cell = raw
        return value


@dataclass(frozen=True)
class Table:
    key: str
    title: str  # the section heading; also the sheet name (at most 31 characters)
    columns: tuple[Column, ...]
    rows: Callable[[Mapping[str, Any]], list[dict[str, Any]]]
    total: Callable[[Mapping[str, Any]], dict[str, Any] | None] = lambda _figures: None
    empty: str = "无"


def _path(*keys: str) -> Callable[[Mapping[str, Any]], Any]:
    def read(figures: Mapping[str, Any]) -> Any:
        value: Any = figures
        for key in keys:
            value = (value or {}).get(key)
        return value if value is not None else []

    return read


def _by_status(figures: Mapping[str, Any]) -> list[dict[str, Any]]:
    counts = figures.get("tips", {}).get("clusters_by_status", {})
    return [{"status": status, "count": n} for status, n in counts.items()]


_CHECKIN_COLUMNS = (
    Column("residents", "在册人数"),
    Column("bound", "已绑定微信"),
    Column("expected", "今日应报"),
    Column("prompted", "已推送"),
    Column("answered_online", "微信/H5报到"),
    Column("phone_reached", "电话联系上"),
    Column("rate", "报到率", "pct", width=10),
    Column("phone_list", "待电话回访"),
    Column("not_reached", "电话未联系上"),
    Column("abnormal", "异常合计"),
    *(Column(kind, ABNORMAL_LABELS[kind]) for kind in ABNORMAL_KINDS),
)
_VISIT_COLUMNS = (
    Column("visited_today", "今日走访人数"),
    Column("visited_total", "累计走访人数"),
    Column("visit_target", "应走访人数"),
    Column("visit_rate", "走访完成率", "pct"),
    Column("monitoring", "返乡观察中"),
    Column("returned_today", "今日返乡"),
)
_TOTAL = _path("total")
_STATION = (Column("name", "派出所", "text", width=16), Column("township", "乡镇街道", "text", width=14))

TABLES: tuple[Table, ...] = (
    Table(
        "townships",
        "按乡镇街道",
        (Column("name", "乡镇街道", "text", width=16), *_CHECKIN_COLUMNS),
        _path("townships"),
        _TOTAL,
    ),
    Table(
        "stations",
        "按派出所",
        (*_STATION, *_CHECKIN_COLUMNS),
        _path("stations"),
        _TOTAL,
    ),
    Table(
        "abnormal",
        "异常人员",
        (
            Column("name", "姓名", "text", width=10),
            Column("township", "乡镇街道", "text", width=14),
            Column("station", "派出所", "text", width=16),
            Column("kind", "异常情况", "text", ABNORMAL_LABELS, width=16),
            Column("temperature", "体温(℃)", "float", width=10),
            Column("city", "所在城市", "text", width=12),
            Column("status", "报到状态", "text", LABELS["checkin_status"], width=14),
        ),
        _path("abnormal_cases"),
        empty="今日无异常人员",
    ),
    Table(
        "visits",
        "走访情况",
        (*_STATION, *_VISIT_COLUMNS),
        _path("stations"),
        _TOTAL,
    ),
    Table(
        "advisories",
        "倡议书推送",
        (
            Column("title", "标题", "text", width=36),
            Column("groups", "推送群数"),
            Column("delivered", "已送达"),
            Column("failed", "发送失败"),
            Column("forwarded", "人工转发"),
            Column("opens", "阅读次数"),
            Column("shares", "分享次数"),
        ),
        _path("advisories", "items"),
        empty="今日未推送倡议书",
    ),
    Table(
        "tips",
        "谣言举报",
        (
            Column("status", "线索群状态", "text", LABELS["cluster_status"], width=14),
            Column("count", "线索群数"),
        ),
        _by_status,
    ),
    Table(
        "leads",
        "线索处置",
        (
            Column("station", "派出所", "text", width=16),
            Column("created_today", "今日新增"),
            Column("open", "待处理"),
            Column("in_progress", "处理中"),
            Column("done_today", "今日办结"),
            Column("done", "累计办结"),
            Column("overdue", "逾期"),
            Column("outcomes", "处理结果", "outcomes", width=40),
        ),
        _path("leads", "stations"),
        _path("leads", "total"),
        empty="暂无线索",
    ),
    Table(
        "overdue_leads",
        "逾期线索",
        (
            Column("id", "线索编号", width=10),
            Column("station", "派出所", "text", width=16),
            Column("source", "来源", "text", LABELS["lead_source"]),
            Column("priority", "优先级", "text", LABELS["lead_priority"], width=8),
            Column("resident", "涉及人员", "text", width=10),
            Column("due_date", "办理期限", "text"),
            Column("days_overdue", "逾期天数", width=10),
            Column("status", "状态", "text", LABELS["lead_status"], width=10),
        ),
        _path("overdue_leads"),
        empty="无逾期线索",
    ),
)


@dataclass(frozen=True)
class Headline:
    label: str
    value: Cell
    kind: CellKind = "int"


def headlines(figures: Mapping[str, Any]) -> list[Headline]:
    """The report's first lines: the figures the leaders read before any table."""
    total: Mapping[str, Any] = figures.get("total", {})
    advisories: Mapping[str, Any] = figures.get("advisories", {})
    tips: Mapping[str, Any] = figures.get("tips", {})
    leads: Mapping[str, Any] = figures.get("leads", {}).get("total", {})
    return [
        Headline("在册外出人员", total.get("residents", 0)),
        Headline("已绑定微信", total.get("bound", 0)),
        Headline("今日应报到", total.get("expected", 0)),
        Headline("今日已报到（含电话）", total.get("answered", 0)),
        Headline("报到率", total.get("rate", 0.0), "pct"),
        Headline("今日异常", total.get("abnormal", 0)),
        Headline("今日走访人数", total.get("visited_today", 0)),
        Headline("累计走访人数", total.get("visited_total", 0)),
        Headline("走访完成率", total.get("visit_rate", 0.0), "pct"),
        Headline("今日推送倡议书", advisories.get("sent_today", 0)),
        Headline(
            "今日转发（人工转发+分享）",
            advisories.get("forwarded_today", 0) + advisories.get("shares_today", 0),
        ),
        Headline("今日收到谣言举报", tips.get("received_today", 0)),
        Headline("今日新增线索", leads.get("created_today", 0)),
        Headline("逾期线索", leads.get("overdue", 0)),
    ]


def format_cell(value: Cell, kind: CellKind) -> str:
    """The cell as text for the page: percentages with one decimal, empty as a dash."""
    if value is None or value == "":
        return "—"
    if kind == "pct" and isinstance(value, int | float):
        return f"{value * 100:.1f}%"
    return str(value)
