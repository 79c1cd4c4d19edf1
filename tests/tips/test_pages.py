"""The cyber-police pages: who may use them, the queue, a cluster's page and its actions, media, safety."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import AuditEvent, ClusterStatus, Lead, Role, StaffUser, Tip, TipCluster, utcnow
from bot.runtime import Runtime
from bot.services import tip_review
from bot.services.audit import Actor
from tests.factories import login, make_station, make_tip, make_user
from tests.tips.support import cluster_of

RUMOR = "紧急扩散：县医院发热门诊已经住满，大家千万别去医院！"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> 听说明天封路 <b>真的</b>'
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def signed_in(client: FlaskClient, db: Session, role: Role = Role.CYBER_POLICE, **kw: object) -> StaffUser:
    user = make_user(db, role, **kw)  # type: ignore[arg-type]
    db.commit()
    assert login(client, user.username).status_code == 302
    return user


def csrf(client: FlaskClient, path: str) -> str:
    found = _CSRF.search(client.get(path).get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found[1]


def post(client: FlaskClient, cluster: TipCluster, action: str, **data: object) -> str:
    page = f"/tips/clusters/{cluster.id}"
    answer = client.post(f"{page}/{action}", data={"csrf_token": csrf(client, page), **data})
    assert answer.status_code == 302, answer.status_code
    return client.get(answer.headers["Location"]).get_data(as_text=True)


@pytest.fixture
def cluster(rt: Runtime, db: Session) -> TipCluster:
    make_tip(db, rt.settings, RUMOR, reporter="1.1.1.1", seen_where="家长群")
    found = cluster_of(db, make_tip(db, rt.settings, RUMOR + "！", reporter="2.2.2.2", seen_where="抖音"))
    db.commit()
    return found


@pytest.mark.parametrize("role", [Role.STATION_OFFICER, Role.LEADER, Role.PROPAGANDA, Role.DATA_CLERK])
def test_only_cyber_police_and_admins_review(
    client: FlaskClient, db: Session, cluster: TipCluster, role: Role
) -> None:
    signed_in(client, db, role)
    assert client.get("/tips/").status_code == 403
    assert client.get(f"/tips/clusters/{cluster.id}").status_code == 403
    assert client.post(f"/tips/clusters/{cluster.id}/claim").status_code in (400, 403)


@pytest.mark.parametrize("role", [Role.CYBER_POLICE, Role.ADMIN])
def test_the_queue_shows_clusters_with_their_reporter_count(
    client: FlaskClient, db: Session, cluster: TipCluster, role: Role
) -> None:
    signed_in(client, db, role)
    page = client.get("/tips/").get_data(as_text=True)
    assert "2 人举报" in page and "家长群" in page and "抖音" in page and f"#{cluster.id}" in page
    assert client.get("/login", follow_redirects=False).status_code in (200, 302)


def test_the_queue_highlights_overdue_clusters_and_puts_the_newest_first(
    rt: Runtime, client: FlaskClient, db: Session, cluster: TipCluster
) -> None:
    old = cluster_of(
        db, make_tip(db, rt.settings, "喝高度白酒可以杀死病毒", now=utcnow() - timedelta(hours=30))
    )
    db.commit()
    signed_in(client, db)
    page = client.get("/tips/").get_data(as_text=True)
    assert page.index(f"#{cluster.id}<") < page.index(f"#{old.id}<")
    overdue_row = page[page.index(f"#{old.id}<") - 300 : page.index(f"#{old.id}<")]
    assert "tips-overdue" in overdue_row and page.count("超时未审") == 1
    biggest_first = client.get("/tips/?sort=big").get_data(as_text=True)
    assert biggest_first.index(f"#{cluster.id}<") < biggest_first.index(f"#{old.id}<")


def test_hostile_tips_are_shown_as_inert_text(rt: Runtime, client: FlaskClient, db: Session) -> None:
    hostile = cluster_of(
        db, make_tip(db, rt.settings, HOSTILE, url="javascript:alert(1)", contact="<i>138</i>")
    )
    db.commit()
    signed_in(client, db)
    for path in ("/tips/", f"/tips/clusters/{hostile.id}"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in page and "<img src=x" not in page and "<b>真的</b>" not in page
        assert "&lt;script&gt;" in page
    cluster_page = client.get(f"/tips/clusters/{hostile.id}").get_data(as_text=True)
    assert 'href="javascript:' not in cluster_page and "&lt;i&gt;138&lt;/i&gt;" in cluster_page
    assert (
        "script-src 'self'" in client.get(f"/tips/clusters/{hostile.id}").headers["Content-Security-Policy"]
    )


def test_viewing_a_cluster_is_audited(client: FlaskClient, db: Session, cluster: TipCluster) -> None:
    user = signed_in(client, db)
    assert client.get(f"/tips/clusters/{cluster.id}").status_code == 200
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "tips.view")).all()
    assert [(e.actor_id, e.record_id) for e in events] == [(user.id, str(cluster.id))]


def test_a_second_reviewer_sees_the_holder_and_cannot_take_over(
    client: FlaskClient, app: object, db: Session, cluster: TipCluster
) -> None:
    holder = make_user(db, Role.CYBER_POLICE, display_name="网警老王")
    tip_review.claim(db, app.extensions["lanxi"].settings, Actor.staff(holder), cluster, now=utcnow())  # type: ignore[attr-defined]
    db.commit()
    signed_in(client, db)
    page = client.get(f"/tips/clusters/{cluster.id}").get_data(as_text=True)
    assert "网警老王 处理中" in page and "领取核查" not in page and "定论并告知举报人" not in page
    after = post(client, cluster, "claim")
    assert "网警老王" in after and "请等对方释放" in after
    after = post(client, cluster, "decide", verdict="true", reason="我来定")
    db.refresh(cluster)
    assert cluster.status == ClusterStatus.INVESTIGATING and cluster.assignee_id == holder.id


def test_claim_decide_and_the_result_on_the_page(
    client: FlaskClient, db: Session, cluster: TipCluster
) -> None:
    signed_in(client, db, display_name="网警小李")
    page = post(client, cluster, "claim")
    assert "网警小李 处理中" in page and "核查中" in page
    page = post(
        client, cluster, "decide", verdict="rumor", reason="经核实，医院床位充足", debunk="县医院运转正常。"
    )
    assert "已定为「谣言」" in page and "县医院运转正常。" in page and "把辟谣内容生成倡议书草稿" in page
    page = post(client, cluster, "advisory")
    db.refresh(cluster)
    assert cluster.advisory_id is not None and f"/advisories/{cluster.advisory_id}" in page


def test_a_refused_decision_explains_itself(client: FlaskClient, db: Session, cluster: TipCluster) -> None:
    signed_in(client, db)
    page = post(client, cluster, "decide", verdict="rumor", reason="经核实")
    assert "请填写发给举报人的辟谣内容" in page
    db.refresh(cluster)
    assert cluster.status == ClusterStatus.PENDING


def test_merge_and_split_from_the_page(
    rt: Runtime, client: FlaskClient, db: Session, cluster: TipCluster
) -> None:
    other = cluster_of(db, make_tip(db, rt.settings, "板蓝根熏醋能杀死新冠病毒"))
    db.commit()
    signed_in(client, db)
    page = post(client, other, "merge", target_id=cluster.id)
    assert f"并入线索组 #{cluster.id}" in page
    db.refresh(other)
    assert other.merged_into_id == cluster.id
    assert client.get(f"/tips/clusters/{other.id}").status_code == 302  # to where it went
    moved = db.scalars(select(Tip.id).where(Tip.cluster_id == cluster.id).order_by(Tip.id)).all()
    page = post(client, cluster, "split", tip_ids=[moved[-1]])
    assert "已拆出为新的线索组" in page
    db.expire_all()
    assert cluster.tip_count == 2


def test_a_lead_for_a_station_and_its_outcome_seen_by_the_cyber_police(
    client: FlaskClient, db: Session, cluster: TipCluster
) -> None:
    station = make_station(db, "长岗派出所")
    db.commit()
    signed_in(client, db)
    due = (date.today() + timedelta(days=2)).isoformat()
    page = post(client, cluster, "lead", station_id=station.id, due_date=due, task="找到发布人")
    assert "已转长岗派出所" in page
    lead = db.scalars(select(Lead)).one()
    assert lead.cluster_id == cluster.id and lead.due_date.isoformat() == due  # type: ignore[union-attr]
    lead.outcome, lead.outcome_note = "批评教育", "发布人已删除并道歉"
    db.commit()
    page = client.get(f"/tips/clusters/{cluster.id}").get_data(as_text=True)
    assert "批评教育" in page and "发布人已删除并道歉" in page


def test_media_is_served_with_its_checked_type_and_audited(
    rt: Runtime, client: FlaskClient, db: Session
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    tip = make_tip(db, rt.settings, "截图里说要封城", upload=png)
    db.commit()
    signed_in(client, db)
    page = client.get(f"/tips/clusters/{tip.cluster_id}").get_data(as_text=True)
    media_url = re.search(r'src="(/tips/media/\d+)"', page)
    assert media_url
    answer = client.get(media_url[1])
    assert answer.status_code == 200 and answer.mimetype == "image/png" and answer.data == png
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert db.scalar(select(AuditEvent.record_id).where(AuditEvent.action == "tips.media")) == str(
        tip.cluster_id
    )
    assert client.get("/tips/media/999999").status_code == 404


def test_blocking_a_wechat_reporter_from_the_page(rt: Runtime, client: FlaskClient, db: Session) -> None:
    from tests.tips.support import Chat

    chat = Chat(rt, "oPest")
    chat.file("天天发假消息的人又来了，说明天全县停电")
    tip = db.scalars(select(Tip)).one()
    signed_in(client, db)
    page = f"/tips/clusters/{tip.cluster_id}"
    answer = client.post(
        f"/tips/tips/{tip.id}/block", data={"csrf_token": csrf(client, page), "blocked": "1"}
    )
    assert answer.status_code == 302
    assert chat.identity(db).tips_blocked
    assert "恢复此人举报" in client.get(page).get_data(as_text=True)
