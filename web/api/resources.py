"""The API's resources. Each view parses nothing itself (the registry did), calls one service."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint

from bot.clock import local_today
from bot.models import AdvisoryStatus, ClusterStatus, DailyReport, LeadSource, LeadStatus, Resident
from bot.services import api_queries, audit, reports, residents, stats
from bot.services.permissions import Permission
from bot.services.residents import Page
from web.api import items
from web.api.params import DateParam, EnumParam, IntParam, StrParam
from web.api.registry import Call, Registry
from web.db import runtime

api = Registry(Blueprint("api", __name__, url_prefix="/api/v1"))
bp = api.bp
P = Permission
# Figures exist for days the system can have run; beyond, stats would leave the calendar.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def _today() -> date:
    return local_today(runtime().settings.tz)


@api.get(
    "/stats",
    item=items.STATS,
    summary="当日数据：合计与各派出所（调用者辖区内）",
    permission=P.VIEW_DASHBOARD,
    params=(DateParam(name="date", description="日期 YYYY-MM-DD，默认今天"),),
    not_found=True,
    tag="统计",
)
def get_stats(call: Call) -> dict[str, Any] | None:
    day = call.args["date"] or _today()
    if not FIRST_DAY <= day <= LAST_DAY:
        return None
    rows = stats.by_station(call.db, call.scope, day)
    return {
        "day": day.isoformat(),
        "total": items.area(stats.totals(rows)),
        "stations": [items.area(row) for row in rows],
    }


@api.get(
    "/residents",
    item=items.RESIDENT,
    summary="在册外出人员（身份证号、手机号已脱敏）",
    permission=P.VIEW_RESIDENTS,
    many=True,
    params=(StrParam(name="q", description="按姓名查找", max_length=32),),
    tag="人员",
)
def list_residents(call: Call) -> Page:
    page = residents.list_page(
        call.db, call.scope, page=call.page, per_page=call.per_page, q=call.args["q"] or ""
    )
    ids = [r.id for r in page.items]
    audit.record(call.db, call.actor, "resident.list", record_type="resident", via="api", ids=ids)
    return page


@api.get(
    "/residents/{resident_id}",
    item=items.RESIDENT,
    summary="一名在册人员（辖区外答 404）",
    permission=P.VIEW_RESIDENTS,
    params=(IntParam(name="resident_id", description="人员编号", location="path"),),
    tag="人员",
)
def get_resident(call: Call) -> Resident | None:
    resident = residents.get_visible(call.db, call.scope, call.args["resident_id"])
    if resident is not None:
        audit.record(
            call.db, call.actor, "resident.view", record_type="resident", record_id=resident.id, via="api"
        )
    return resident


@api.get(
    "/checkins",
    item=items.CHECKIN,
    summary="某日的健康报到",
    permission=P.VIEW_RESIDENTS,
    many=True,
    params=(DateParam(name="date", description="日期 YYYY-MM-DD，默认今天"),),
    tag="人员",
)
def list_checkins(call: Call) -> Page:
    day = call.args["date"] or _today()
    return api_queries.checkins(call.db, call.scope, day, page=call.page, per_page=call.per_page)


api.listing(
    "/visits",
    api_queries.VISITS,
    operation_id="list_visits",
    item=items.VISIT,
    summary="走访与联系记录（新的在前）",
    permission=P.VIEW_RESIDENTS,
    params=(
        DateParam(name="date", description="只看这一天"),
        IntParam(name="resident_id", description="只看这名人员"),
    ),
    tag="人员",
)


api.listing(
    "/leads",
    api_queries.LEADS,
    operation_id="list_leads",
    item=items.LEAD,
    summary="线索（新的在前）",
    permission=P.VIEW_LEADS,
    params=(
        EnumParam(name="source", description="来源：checkin 报到异常，tip 谣言举报", enum=LeadSource),
        EnumParam(name="status", description="状态", enum=LeadStatus),
    ),
    tag="线索",
)


api.listing(
    "/tips",
    api_queries.TIPS,
    operation_id="list_tips",
    item=items.TIP,
    summary="谣言举报（不含举报人身份；仅网警与管理员）",
    permission=P.REVIEW_TIPS,
    params=(IntParam(name="cluster_id", description="只看这个线索群"),),
    tag="谣言举报",
)


api.listing(
    "/tip-clusters",
    api_queries.CLUSTERS,
    operation_id="list_tip_clusters",
    item=items.CLUSTER,
    summary="谣言线索群（最近活跃的在前）",
    permission=P.REVIEW_TIPS,
    params=(EnumParam(name="status", description="审核状态", enum=ClusterStatus),),
    tag="谣言举报",
)


api.listing(
    "/advisories",
    api_queries.ADVISORIES,
    operation_id="list_advisories",
    item=items.ADVISORY,
    summary="倡议书（新的在前）",
    permission=P.VIEW_ADVISORIES,
    params=(EnumParam(name="status", description="状态", enum=AdvisoryStatus),),
    tag="倡议书",
)


@api.get(
    "/advisories/{advisory_id}/deliveries",
    item=items.DELIVERY,
    summary="一份倡议书向各群的推送",
    permission=P.VIEW_ADVISORIES,
    many=True,
    params=(IntParam(name="advisory_id", description="倡议书编号", location="path"),),
    tag="倡议书",
)
def list_deliveries(call: Call) -> Page | None:
    return api_queries.deliveries(call.db, call.args["advisory_id"], page=call.page, per_page=call.per_page)


@api.get(
    "/reports",
    item=items.REPORT_SUMMARY,
    summary="日报（新的在前；仅县局账号）",
    permission=P.VIEW_REPORTS,
    many=True,
    county_only=True,
    tag="日报",
)
def list_reports(call: Call) -> Page:
    return reports.history_page(call.db, page=call.page, per_page=call.per_page)


@api.get(
    "/reports/{day}",
    item=items.REPORT,
    summary="某日日报全文与审批记录（仅县局账号）",
    permission=P.VIEW_REPORTS,
    params=(DateParam(name="day", description="日期 YYYY-MM-DD", location="path"),),
    county_only=True,
    tag="日报",
)
def get_report(call: Call) -> DailyReport | None:
    return reports.get(call.db, call.args["day"])


@api.get("/openapi.json", item=items.OPENAPI_DOCUMENT, summary="本接口的 OpenAPI 3.1 文档", permission=None)
def openapi_document(call: Call) -> dict[str, Any]:
    from web.api.openapi import document

    return document(api)
