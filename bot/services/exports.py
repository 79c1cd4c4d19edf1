"""Exporting a line list to .xlsx: masked by default, unmasked only with permission and a reason.

Every export is audited (list, filters, row count, masked or not, the reason), masked ones
too: a list of names and stations is personal data as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.services import audit, linelists, xlsx_export
from bot.services.audit import Actor
from bot.services.linelists import LineList, ListQuery
from bot.services.redaction import mask_identifiers
from bot.services.scope import Scope

MIN_REASON_LENGTH = 4
MAX_REASON_LENGTH = 200
MASKING_NOTE = "是：手机号保留前 3 位和后 4 位，身份证号保留前 6 位和后 4 位"


class ExportError(Exception):
    """A refused export; the message is shown to staff."""


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content: bytes
    rows: int
    masked: bool


def _reason(unmasked: bool, may_unmask: bool, reason: str) -> str:
    reason = " ".join(reason.split())[:MAX_REASON_LENGTH]
    if not unmasked:
        return reason
    if not may_unmask:
        raise ExportError("您的角色无权导出未脱敏数据。")
    if len(reason) < MIN_REASON_LENGTH:
        raise ExportError(f"导出未脱敏数据须填写理由（至少 {MIN_REASON_LENGTH} 个字）。")
    return reason


def export_list(
    db: Session,
    actor: Actor,
    scope: Scope,
    spec: LineList,
    query: ListQuery,
    *,
    tz: ZoneInfo,
    now: datetime,
    unmasked: bool = False,
    may_unmask: bool = False,
    reason: str = "",
) -> ExportFile:
    """The list as an .xlsx file, with an audit event saying what left the system and why."""
    reason = mask_identifiers(_reason(unmasked, may_unmask, reason))
    rows = [
        [row.cells[c.key] for c in spec.columns]
        for row in linelists.all_rows(db, scope, spec, query, tz, masked=not unmasked)
    ]
    stamp = now.astimezone(tz)
    notes = [
        ("名单", spec.title),
        ("说明", spec.description),
        ("日期", query.day.isoformat() if spec.uses_day else "—"),
        ("筛选条件", "；".join(f"{k}={v}" for k, v in query.filters().items() if k != "day") or "无"),
        ("行数", str(len(rows))),
        ("脱敏", "否（已登记理由）" if unmasked else MASKING_NOTE),
        ("导出人", actor.label),
        ("导出时间", stamp.strftime("%Y-%m-%d %H:%M")),
    ]
    content = xlsx_export.build(
        spec.title,
        [c.title for c in spec.columns],
        rows,
        notes,
        widths=[c.width for c in spec.columns],
    )
    audit.record(
        db,
        actor,
        "export",
        record_type="line_list",
        record_id=spec.name,
        list=spec.name,
        filters=query.filters(),
        rows=len(rows),
        masked=not unmasked,
        reason=reason,
    )
    day = query.day if spec.uses_day else stamp.date()
    filename = f"{spec.title}-{day:%Y%m%d}{'' if unmasked else '-脱敏'}.xlsx"
    return ExportFile(filename, content, len(rows), not unmasked)
