"""The advisories area through the Flask test client: permissions, compose → approve → send, registers."""

from __future__ import annotations

import io
import json
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from bot.models import Advisory, ReachEvent, Role, StaffUser, WeChatGroup
from bot.models.enums import AdvisoryStatus
from bot.runtime import Runtime
from tests.advisories.support import Team, approved_advisory, csrf, make_team
from tests.advisories.test_cover import png
from tests.factories import login, make_advisory, make_group, make_user

HOSTILE = '<script>alert("x")</script>'


@pytest.mark.parametrize(
    ("role", "allowed", "forbidden"),
    [
        (
            Role.PROPAGANDA,
            ["/advisories/", "/advisories/new", "/advisories/groups/new", "/advisories/templates/new"],
            [],
        ),
        (
            Role.LEADER,
            ["/advisories/", "/advisories/groups", "/advisories/audiences"],
            ["/advisories/new", "/advisories/groups/new"],
        ),
        (
            Role.CYBER_POLICE,
            ["/advisories/", "/advisories/templates"],
            ["/advisories/new", "/advisories/audiences/new"],
        ),
        (
            Role.STATION_OFFICER,
            ["/advisories/tasks"],
            ["/advisories/", "/advisories/new", "/advisories/groups"],
        ),
        (Role.DATA_CLERK, ["/advisories/"], ["/advisories/new"]),
    ],
)
def test_who_may_see_and_compose(
    db: Session, client: FlaskClient, role: Role, allowed: list[str], forbidden: list[str]
) -> None:
    _sign_in(db, client, make_user(db, role))
    for path in allowed:
        assert client.get(path).status_code == 200, path
    for path in forbidden:
        assert client.get(path).status_code == 403, path


def test_signed_out_visitors_are_sent_to_login(client: FlaskClient) -> None:
    assert client.get("/advisories/").status_code == 302
    assert client.get("/advisories/tasks").status_code == 302


def _switch(client: FlaskClient, username: str) -> None:
    client.post("/logout", data={"csrf_token": csrf(client, "/advisories/tasks")})
    login(client, username)


def _sign_in(db: Session, client: FlaskClient, user: StaffUser) -> None:
    """Commit what the test set up, then sign in as ``user``."""
    db.commit()
    login(client, user.username)


def _draft(db: Session, client: FlaskClient) -> tuple[Team, Advisory]:
    """A team and its composer's draft to one group, the composer signed in."""
    team = make_team(db)
    advisory = make_advisory(db, team.composer, [make_group(db)])
    _sign_in(db, client, team.composer)
    return team, advisory


def _act(client: FlaskClient, advisory: Advisory, action: str, **fields: str) -> TestResponse:
    """Press one of the advisory page's buttons (``submit``, ``decide``, ``send-now``)."""
    page = f"/advisories/{advisory.id}"
    return client.post(f"{page}/{action}", data={"csrf_token": csrf(client, page), **fields})


def test_compose_approve_and_send_through_the_panel(db: Session, rt: Runtime, client: FlaskClient) -> None:
    team = make_team(db)
    robot = make_group(db, name="城关镇群", member_count=480)
    make_group(db, "oa_tag", tag_id=0, name="全部关注者", member_count=9000)
    _sign_in(db, client, team.composer)
    response = client.post(
        "/advisories/new",
        data={
            "csrf_token": csrf(client, "/advisories/new"),
            "title": "致{{ county }}外出人员的倡议书",
            "body": "请少出门。\n\n举报电话 {{ hotline }}",
            "body_format": "text",
            "kinds": ["oa_tag"],
            "group_ids": [str(robot.id)],
            "audience_id": "0",
            "cover": (io.BytesIO(png()), "cover.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    advisory = db.scalars(select(Advisory)).one()
    assert advisory.cover_type == "image/png" and advisory.created_by_id == team.composer.id
    show = client.get(f"/advisories/{advisory.id}").get_data(as_text=True)
    assert "企业微信群机器人" in show and "字节" in show and "约 9480 人" in show
    assert "致兰西县外出人员的倡议书" in show  # previews are rendered with the variables
    assert client.get(f"/advisories/{advisory.id}/page").status_code == 200
    assert client.get(f"/advisories/{advisory.id}/cover").status_code == 200
    assert _act(client, advisory, "submit").status_code == 302
    assert _act(client, advisory, "decide", decision="approve").status_code == 403

    for person in (team.head, team.leader):
        _switch(client, person.username)
        page = client.get(f"/advisories/{advisory.id}").get_data(as_text=True)
        assert "提交审批意见" in page
        _act(client, advisory, "decide", decision="approve")
    db.expire_all()
    assert advisory.status == AdvisoryStatus.APPROVED
    assert (
        client.post(
            f"/advisories/{advisory.id}/send-now", data={"csrf_token": csrf(client, "/advisories/tasks")}
        ).status_code
        == 403
    )

    _switch(client, team.composer.username)
    _act(client, advisory, "send-now")
    db.expire_all()
    assert advisory.status == AdvisoryStatus.SENDING
    progress = client.get(f"/advisories/{advisory.id}/progress.json").get_json()
    assert progress == {
        "status": "sending",
        "status_label": "发送中",
        "total": 2,
        "settled": 0,
        "queued": 2,
        "sent": 0,
        "failed": 0,
        "awaiting_forward": 0,
        "forwarded": 0,
        "cancelled": 0,
    }
    chart = client.get(f"/advisories/{advisory.id}/reach.json").get_json()
    assert set(chart) == {"bucket", "labels", "series"}
    page = client.get(f"/advisories/{advisory.id}").get_data(as_text=True)
    assert 'id="adv-progress"' in page and "传播情况" in page and "echarts.min.js" in page
    assert "累计转发" in client.get("/advisories/").get_data(as_text=True)


def test_return_with_comment_is_shown_to_the_composer(db: Session, rt: Runtime, client: FlaskClient) -> None:
    team, advisory = _draft(db, client)
    _act(client, advisory, "submit")
    _switch(client, team.head.username)
    token = csrf(client, f"/advisories/{advisory.id}")
    client.post(
        f"/advisories/{advisory.id}/decide", data={"csrf_token": token, "decision": "return", "comment": ""}
    )
    db.expire_all()
    assert advisory.status == AdvisoryStatus.PENDING_APPROVAL  # refused: a return needs a comment
    client.post(
        f"/advisories/{advisory.id}/decide",
        data={"csrf_token": token, "decision": "return", "comment": f"标题太长{HOSTILE}"},
    )
    _switch(client, team.composer.username)
    page = client.get(f"/advisories/{advisory.id}").get_data(as_text=True)
    assert "已退回" in page and "标题太长" in page and HOSTILE not in page and "&lt;script&gt;" in page
    edit = f"/advisories/{advisory.id}/edit"
    form = {
        "csrf_token": csrf(client, edit),
        "title": "短标题",
        "body": "正文",
        "body_format": "text",
        "audience_id": "0",
    }
    assert (
        client.post(
            edit, data={**form, "group_ids": [str(g) for g in advisory.targets["group_ids"]]}
        ).status_code
        == 302
    )
    db.expire_all()
    assert advisory.title == "短标题" and advisory.status == AdvisoryStatus.RETURNED
    _act(client, advisory, "submit")
    db.expire_all()
    assert advisory.status == AdvisoryStatus.PENDING_APPROVAL and advisory.revision == 2


def test_hostile_html_in_titles_and_bodies_is_inert(db: Session, rt: Runtime, client: FlaskClient) -> None:
    team = make_team(db)
    advisory = approved_advisory(
        db, rt, team, [make_group(db, name=f"群{HOSTILE}")], title=f"标题{HOSTILE}", body=f"正文{HOSTILE}"
    )
    _sign_in(db, client, team.leader)
    for path in (
        "/advisories/",
        f"/advisories/{advisory.id}",
        f"/advisories/{advisory.id}/page",
        "/advisories/groups",
    ):
        page = client.get(path).get_data(as_text=True)
        assert HOSTILE not in page, path
    assert "&lt;script&gt;" in client.get(f"/advisories/{advisory.id}").get_data(as_text=True)


def test_groups_are_registered_and_their_keys_never_shown(db: Session, client: FlaskClient) -> None:
    key = "c0ffee00-1234-4abc-9def-lanxi-secret"
    _sign_in(db, client, make_user(db, Role.PROPAGANDA))
    response = client.post(
        "/advisories/groups/new",
        data={
            "csrf_token": csrf(client, "/advisories/groups/new"),
            "name": "红星村群",
            "kind": "wecom_robot",
            "township_id": "0",
            "webhook_key": key,
            "owner_staff_id": "0",
            "member_count": "120",
            "active": "y",
        },
    )
    assert response.status_code == 302
    group = db.scalars(select(WeChatGroup)).one()
    assert group.webhook_key == key
    listing = client.get("/advisories/groups").get_data(as_text=True)
    edit = client.get(f"/advisories/groups/{group.id}/edit").get_data(as_text=True)
    assert "红星村群" in listing and key not in listing and key not in edit and "c0ff…cret" in edit
    bad = client.post(
        "/advisories/groups/new",
        data={
            "csrf_token": csrf(client, "/advisories/groups/new"),
            "name": "无地址",
            "kind": "wecom_appchat",
            "township_id": "0",
            "owner_staff_id": "0",
        },
    )
    assert bad.status_code == 200 and "chatid" in bad.get_data(as_text=True)


def test_templates_prefill_the_compose_form(db: Session, client: FlaskClient) -> None:
    _sign_in(db, client, make_user(db, Role.PROPAGANDA))
    client.post(
        "/advisories/templates/new",
        data={
            "csrf_token": csrf(client, "/advisories/templates/new"),
            "name": "防疫通用",
            "title": "致{{ county }}群众",
            "body": "举报电话 {{ hotline }}",
            "body_format": "text",
        },
    )
    listing = client.get("/advisories/templates").get_data(as_text=True)
    template_id = re.search(r"/advisories/new\?template=(\d+)", listing)
    assert template_id
    form = client.get(f"/advisories/new?template={template_id[1]}").get_data(as_text=True)
    assert "致{{ county }}群众" in form and "举报电话 {{ hotline }}" in form


def test_audience_preview_counts_per_kind(db: Session, client: FlaskClient) -> None:
    user = make_user(db, Role.PROPAGANDA)
    make_group(db, member_count=100)
    make_group(db, member_count=50)
    make_group(db, "oa_tag", member_count=9000)
    _sign_in(db, client, user)
    page = client.post(
        "/advisories/audiences/new",
        data={
            "csrf_token": csrf(client, "/advisories/audiences/new"),
            "name": "全部机器人",
            "kinds": ["wecom_robot"],
            "action": "preview",
        },
    ).get_data(as_text=True)
    assert "2 个群，约 150 人" in page
    client.post(
        "/advisories/audiences/new",
        data={
            "csrf_token": csrf(client, "/advisories/audiences/new"),
            "name": "全部机器人",
            "kinds": ["wecom_robot"],
            "action": "save",
        },
    )
    assert "全部机器人" in client.get("/advisories/audiences").get_data(as_text=True)


def test_page_preview_counts_nothing(db: Session, rt: Runtime, client: FlaskClient) -> None:
    _, advisory = _draft(db, client)
    page = client.get(f"/advisories/{advisory.id}/page").get_data(as_text=True)
    assert "预览" in page and "disabled" in page
    assert db.scalar(select(ReachEvent)) is None
    assert json.loads(client.get(f"/advisories/{advisory.id}/progress.json").data)["total"] == 0


def test_a_saved_audience_fills_the_targets_plus_groups_added_by_hand(
    db: Session, client: FlaskClient
) -> None:
    from bot.models.enums import GroupKind
    from bot.services import advisory_targets
    from bot.services.advisory_targets import Targeting
    from bot.services.audit import SYSTEM

    user = make_user(db, Role.PROPAGANDA)
    extra = make_group(db, "oa_tag", tag_id=0)
    audience = advisory_targets.save_audience(
        db, SYSTEM, None, "机器人群", Targeting(kinds=frozenset({GroupKind.WECOM_ROBOT}))
    )
    _sign_in(db, client, user)
    client.post(
        "/advisories/new",
        data={
            "csrf_token": csrf(client, "/advisories/new"),
            "title": "t",
            "body": "b",
            "body_format": "text",
            "audience_id": str(audience.id),
            "group_ids": [str(extra.id)],
        },
    )
    advisory = db.scalars(select(Advisory)).one()
    assert Targeting.from_json(advisory.targets) == Targeting(
        kinds=frozenset({GroupKind.WECOM_ROBOT}), group_ids=frozenset({extra.id})
    )
