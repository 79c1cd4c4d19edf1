"""Day-to-day work in a real browser: a phone visit from the phone list, a tip cluster turned into a lead."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from bot.models import Checkin, CheckinStatus, Jurisdiction, Lead, LeadSource, StaffUser, TipCluster, Visit
from tests.browser.conftest import LiveServer, screenshot, sign_in


def test_station_officer_records_a_phone_visit_from_the_phone_list(
    page: Page, live_server: LiveServer
) -> None:
    with live_server.rt.session() as db:
        officer = db.scalar(select(StaffUser).where(StaffUser.username == "chengguan"))
        assert officer is not None
        station_id = officer.jurisdiction_id
        # today's silent residents of the officer's station go to the phone list
        today_rows = db.scalars(
            select(Checkin).where(
                Checkin.day == live_server.today,
                Checkin.station_id == station_id,
                Checkin.status == CheckinStatus.PROMPTED,
            )
        ).all()
        assert today_rows, "the demo leaves some of today's check-ins unanswered"
        target = today_rows[0]
        target.status, target.phone_list_reason = CheckinStatus.PHONE_LIST, "silent"
        target_id = target.id
        visits_before = db.scalar(select(func.count(Visit.id)).where(Visit.checkin_id == target_id))
    sign_in(page, live_server, "chengguan")
    page.goto(f"{live_server.url}/checkins/phone-list")
    form = page.locator(f"form.call-form[data-checkin='{target_id}']")
    expect(form).to_be_visible()
    screenshot(page, "phone-list", full_page=False)
    form.locator("select.call-outcome").select_option("reached")
    form.locator("input.call-note").fill("电话联系，本人在哈尔滨，身体正常")
    form.get_by_role("button", name="保存").click()
    expect(page.locator(f"form.call-form[data-checkin='{target_id}']")).to_have_count(0)
    with live_server.rt.session() as db:
        checkin = db.get(Checkin, target_id)
        assert checkin is not None and checkin.status == CheckinStatus.REACHED_BY_PHONE
        assert (
            db.scalar(select(func.count(Visit.id)).where(Visit.checkin_id == target_id))
            == (visits_before or 0) + 1
        )


def test_cyber_police_review_a_cluster_and_send_it_to_a_station(page: Page, live_server: LiveServer) -> None:
    with live_server.rt.session() as db:
        cluster = db.scalars(select(TipCluster).order_by(TipCluster.tip_count.desc())).first()
        assert cluster is not None, "the demo has tip clusters"
        cluster_id = cluster.id
        station = db.scalar(select(Jurisdiction).where(Jurisdiction.name == "城关派出所"))
        assert station is not None
        station_id = station.id
    sign_in(page, live_server, "wangjing")
    page.goto(f"{live_server.url}/tips/")
    page.locator(f"a[href$='/tips/clusters/{cluster_id}']").first.click()
    expect(page.get_by_text(re.compile(r"\d+ 人举报")).first).to_be_visible()
    page.get_by_role("button", name="领取核查").click()
    expect(page.get_by_role("button", name="释放")).to_be_visible()
    page.get_by_label("派出所").select_option(str(station_id))
    page.get_by_label("办理期限").fill((live_server.today + timedelta(days=3)).isoformat())
    page.get_by_label("工作要求").fill("查找谣言源头，对发布人开展批评教育")
    page.get_by_role("button", name="转派出所").click()
    screenshot(page, "tip-cluster", full_page=False)
    with live_server.rt.session() as db:
        lead = db.scalar(select(Lead).where(Lead.cluster_id == cluster_id, Lead.source == LeadSource.TIP))
        assert lead is not None and lead.station_id == station_id
