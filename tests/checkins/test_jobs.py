"""The check-in jobs with a frozen clock: who gets what, and nothing twice the same day."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import checkin_jobs
from bot.channels import build_channels
from bot.delivery.inline import drain
from bot.delivery.rate import RateGate
from bot.fake_wechat import FakeWeChatServer
from bot.jobs import JOBS
from bot.models import (
    Checkin,
    CheckinStatus,
    ConversationState,
    OutboxMessage,
    OutboxStatus,
    ResidentStatus,
    WeChatIdentity,
)
from bot.runtime import Runtime
from bot.services import checkin_dispatch
from tests.checkins.support import (
    DAY,
    at,
    bound_resident,
    chat,
    checkin_of,
    clock,
    job,
    outbox_keys,
    outbox_row,
)
from tests.delivery.support import at_fake, wait_until, wechat_state
from tests.factories import make_checkin, make_identity, make_resident, make_station


def state_of(db: Session, identity: WeChatIdentity) -> ConversationState | None:
    db.expire_all()
    return db.scalar(select(ConversationState).where(ConversationState.identity_id == identity.id))


def outbox_count(db: Session) -> int:
    return db.scalar(select(func.count(OutboxMessage.id))) or 0


def test_the_three_jobs_are_declared_at_the_configured_times(rt: Runtime) -> None:
    times = {spec.id: spec.daily_at(rt.settings) for spec in JOBS if spec.daily_at}
    assert times["daily_checkin"] == "09:00"
    assert times["checkin_reminder"] == "15:00" and times["checkin_close_day"] == "20:00"


def test_the_prompt_goes_by_chat_in_the_window_else_by_template(rt: Runtime, db: Session) -> None:
    chatty, chatty_id = bound_resident(db, name="钱多多")
    quiet, quiet_id = bound_resident(db, window_open=False)
    summary = job(rt, "daily_checkin", "09:00")
    assert summary["oa_custom"] == 1 and summary["oa_template"] == 1 and summary["day"] == "2020-02-15"

    custom = outbox_row(db, f"checkin:{chatty.id}:2020-02-15:prompt")
    assert custom.channel == "oa_custom" and custom.recipient == chatty_id.openid
    text = custom.payload["text"]["content"]
    assert "钱*多，您好！今天是2月15日" in text and "第1问" in text
    assert custom.payload["fallback"]["channel"] == "oa_template"
    state = state_of(db, chatty_id)
    assert state is not None and (state.flow, state.node) == ("daily_checkin", "health")

    template = outbox_row(db, f"checkin:{quiet.id}:2020-02-15:prompt")
    assert (
        template.channel == "oa_template"
        and template.payload["template_id"] == rt.settings.wechat.checkin_template_id
    )
    assert template.payload["url"] == "http://127.0.0.1:8080/h5/checkin"  # which authorizes via WeChat
    assert "还没有" not in template.payload["data"]["first"]["value"]
    assert state_of(db, quiet_id) is None
    for resident in (chatty, quiet):
        assert checkin_of(db, resident).status == CheckinStatus.PROMPTED


def test_no_usable_wechat_goes_straight_to_the_phone_list(rt: Runtime, db: Session) -> None:
    never = make_resident(db)
    gone = make_resident(db)
    make_identity(db, gone, subscribed=False)
    closed = make_resident(db, status=ResidentStatus.CLOSED)
    watched, _ = bound_resident(db, status=ResidentStatus.MONITORING)
    summary = job(rt, "daily_checkin", "09:00")
    assert summary["phone_list"] == 2
    for resident in (never, gone):
        checkin = checkin_of(db, resident)
        assert (checkin.status, checkin.phone_list_reason) == (CheckinStatus.PHONE_LIST, "unbound")
    assert checkin_of(db, watched).status == CheckinStatus.PROMPTED
    assert not outbox_keys(db, f"checkin:{closed.id}:")


def test_running_each_job_twice_the_same_day_sends_nothing_twice(rt: Runtime, db: Session) -> None:
    answering, identity = bound_resident(db)
    silent, _ = bound_resident(db, window_open=False)
    job(rt, "daily_checkin", "09:00")
    sent = outbox_count(db)
    again = job(rt, "daily_checkin", "09:05")
    assert again["already"] == 2 and outbox_count(db) == sent
    with clock("09:30"):
        chat(rt, identity).send("1")
    job(rt, "checkin_reminder", "15:00")
    reminded = outbox_keys(db, "checkin:")
    assert f"checkin:{silent.id}:2020-02-15:reminder" in reminded
    assert f"checkin:{answering.id}:2020-02-15:reminder" in reminded  # in progress, not done
    count = outbox_count(db)
    job(rt, "checkin_reminder", "15:30")
    assert outbox_count(db) == count
    first = job(rt, "checkin_close_day", "20:00")
    second = job(rt, "checkin_close_day", "20:05")
    assert first["phone_list"] == 2 and second["phone_list"] == 0


def test_a_reminder_repeats_the_question_they_are_at(rt: Runtime, db: Session) -> None:
    resident, identity = bound_resident(db)
    job(rt, "daily_checkin", "09:00")
    with clock("09:30"):
        chat(rt, identity).send("1")  # now at the whereabouts question
    with clock("14:59"):
        chat(rt, identity).send("帮助")  # keeps the window open and the conversation alive
    job(rt, "checkin_reminder", "15:00")
    text = outbox_row(db, f"checkin:{resident.id}:2020-02-15:reminder").payload["text"]["content"]
    assert text.startswith("提醒") and "第2问" in text and "第1问" not in text
    state = state_of(db, identity)
    assert state is not None and state.node == "whereabouts"


def test_someone_in_another_conversation_is_not_interrupted(rt: Runtime, db: Session) -> None:
    resident, identity = bound_resident(db)
    with clock("08:55"):
        chat(rt, identity).send("举报")
    job(rt, "daily_checkin", "09:00")
    assert outbox_row(db, f"checkin:{resident.id}:2020-02-15:prompt").channel == "oa_template"
    state = state_of(db, identity)
    assert state is not None and state.flow == "rumor_tip"


def test_close_day_lists_the_silent_and_ends_finished_monitoring(rt: Runtime, db: Session) -> None:
    done, _ = bound_resident(db)
    make_checkin(db, done, DAY, status=CheckinStatus.ANSWERED)
    silent, _ = bound_resident(db)
    make_checkin(db, silent, DAY, status=CheckinStatus.PROMPTED)
    ending = make_resident(
        db,
        status=ResidentStatus.MONITORING,
        monitoring_start=DAY - timedelta(days=14),
        monitoring_end=DAY,
    )
    going_on = make_resident(db, status=ResidentStatus.MONITORING, monitoring_end=DAY + timedelta(days=1))
    db.commit()
    summary = job(rt, "checkin_close_day", "20:00")
    assert summary == {"day": "2020-02-15", "phone_list": 1, "monitoring_closed": 1}
    assert checkin_of(db, done).status == CheckinStatus.ANSWERED
    listed = checkin_of(db, silent)
    assert listed.status == CheckinStatus.PHONE_LIST and listed.phone_list_reason == "silent"
    assert listed.phone_listed_at == at("20:00")
    db.refresh(ending)
    db.refresh(going_on)
    assert ending.status == ResidentStatus.CLOSED and ending.closed_on == DAY
    assert ending.closed_reason == "居家观察期满（2020-02-01 至 2020-02-15）"
    assert going_on.status == ResidentStatus.MONITORING


def test_prompts_reach_the_local_wechat_and_fall_back_when_the_window_closed(
    rt: Runtime, db: Session
) -> None:
    _, open_id = bound_resident(db)
    _, stale_id = bound_resident(db)  # our record says open; WeChat's window closed meanwhile
    _, closed_id = bound_resident(db, window_open=False)
    job(rt, "daily_checkin", "09:00")
    state = wechat_state()
    for identity in (open_id, stale_id, closed_id):
        state.add_follower(identity.openid)
    state.user_interaction(open_id.openid)
    with FakeWeChatServer(state) as fake:
        crt = at_fake(rt, fake.url)
        drain(crt, build_channels(crt), RateGate())
    assert [d.target for d in state.delivered("custom")] == [open_id.openid]
    assert sorted(d.target for d in state.delivered("template")) == sorted(
        [stale_id.openid, closed_id.openid]
    )
    statuses = set(
        db.scalars(
            select(OutboxMessage.status).where(OutboxMessage.channel.in_(("oa_custom", "oa_template")))
        )
    )
    assert statuses == {OutboxStatus.SENT}


def test_the_day_is_the_county_s_day(rt: Runtime, db: Session) -> None:
    resident, _ = bound_resident(db)
    # 00:30 in Shanghai is still the previous day in UTC: the check-in belongs to the local day.
    job(rt, "daily_checkin", "00:30", date(2020, 2, 16))
    assert checkin_of(db, resident, date(2020, 2, 16)).status == CheckinStatus.PROMPTED


def test_a_check_in_opened_before_the_prompt_is_prompted_once(rt: Runtime, db: Session) -> None:
    # A row may exist before 09:00 (the mobile page opened early): pending rows are prompted or
    # phone-listed like new ones; answered ones are left alone.
    early, early_id = bound_resident(db)
    make_checkin(db, early, DAY, status=CheckinStatus.PENDING)
    unbound = make_resident(db)
    make_checkin(db, unbound, DAY, status=CheckinStatus.PENDING)
    done, _ = bound_resident(db)
    make_checkin(db, done, DAY, status=CheckinStatus.ANSWERED)
    db.commit()
    summary = job(rt, "daily_checkin", "09:00")
    assert (summary["oa_custom"], summary["phone_list"], summary["already"]) == (1, 1, 1)
    prompted = checkin_of(db, early)
    assert prompted.status == CheckinStatus.PROMPTED and prompted.prompted_at == at("09:00")
    listed = checkin_of(db, unbound)
    assert (listed.status, listed.phone_list_reason) == (CheckinStatus.PHONE_LIST, "unbound")
    assert listed.phone_listed_at == at("09:00")
    assert checkin_of(db, done).status == CheckinStatus.ANSWERED
    assert outbox_keys(db, "checkin:") == [f"checkin:{early.id}:2020-02-15:prompt"]
    assert state_of(db, early_id) is not None


def test_chat_prompts_count_against_the_window_once(rt: Runtime, db: Session) -> None:
    _, chatty = bound_resident(db)
    _, quiet = bound_resident(db, window_open=False)
    before = {i.id: i.window_sends for i in (chatty, quiet)}
    job(rt, "daily_checkin", "09:00")
    job(rt, "daily_checkin", "09:05")  # nothing new is sent, so nothing more is counted
    db.expire_all()
    assert chatty.window_sends == before[chatty.id] + 1
    assert quiet.window_sends == before[quiet.id]


def test_yesterday_s_unanswered_conversation_gives_way_to_today_s(rt: Runtime, db: Session) -> None:
    chatty, chatty_id = bound_resident(db)
    quiet, quiet_id = bound_resident(db)
    job(rt, "daily_checkin", "09:00", DAY - timedelta(days=1))  # both asked by chat yesterday, silent since
    with clock("09:00"):
        db.execute(
            WeChatIdentity.__table__.update()
            .where(WeChatIdentity.id == quiet_id.id)
            .values(last_user_message_at=at("09:00") - timedelta(days=3))
        )
        db.commit()
    job(rt, "daily_checkin", "09:00")
    # Still in the window: today's question replaces yesterday's expired state in the same row.
    assert outbox_row(db, f"checkin:{chatty.id}:2020-02-15:prompt").channel == "oa_custom"
    state = state_of(db, chatty_id)
    assert state is not None and state.node == "health" and state.expires_at > at("09:00")
    # Out of it: a template goes, and the stale state is dropped so a reply starts afresh.
    assert outbox_row(db, f"checkin:{quiet.id}:2020-02-15:prompt").channel == "oa_template"
    assert state_of(db, quiet_id) is None


def test_residents_with_the_same_masked_name_each_get_their_own_prompt(rt: Runtime, db: Session) -> None:
    # The wording is rendered once per masked name: 张三丰 and 张小丰 both read 张*丰, each addressed.
    first, first_id = bound_resident(db, name="张三丰", window_open=False)
    second, second_id = bound_resident(db, name="张小丰", window_open=False)
    other, _ = bound_resident(db, name="李四", window_open=False)
    job(rt, "daily_checkin", "09:00")
    rows = {r: outbox_row(db, f"checkin:{r.id}:2020-02-15:prompt") for r in (first, second, other)}
    assert rows[first].recipient == first_id.openid and rows[second].recipient == second_id.openid
    assert (
        rows[first].payload["data"]["keyword1"]["value"]
        == "张*丰"
        == rows[second].payload["data"]["keyword1"]["value"]
    )
    assert rows[other].payload["data"]["keyword1"]["value"] == "李*"
    assert "李*" in rows[other].payload["data"]["first"]["value"]


def test_a_registry_of_many_chunks_is_prompted_whole_and_once(
    committing_rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Chunks of 3, two in flight on PostgreSQL (real commits): every resident in exactly one chunk,
    # whatever the gaps in the ids (a closed resident between two checking in).
    monkeypatch.setattr(checkin_jobs, "CHUNK", 3)
    rt = committing_rt
    with rt.session() as db:
        station = make_station(db)
        away = [bound_resident(db, station=station, window_open=i % 2 == 0)[0].id for i in range(10)]
        make_resident(db, station, status=ResidentStatus.CLOSED)
        away += [make_resident(db, station).id for _ in range(4)]  # unbound
    summary = job(rt, "daily_checkin", "09:00")
    assert summary["residents"] == 14 and summary["phone_list"] == 4
    assert (summary["oa_custom"], summary["oa_template"]) == (5, 5)
    with rt.session() as db:
        assert len(outbox_keys(db, "checkin:")) == 10
        statuses = db.scalars(select(Checkin.status).where(Checkin.resident_id.in_(away), Checkin.day == DAY))
        assert sorted(statuses) == sorted([CheckinStatus.PROMPTED] * 10 + [CheckinStatus.PHONE_LIST] * 4)
    again = job(rt, "daily_checkin", "09:05")
    assert again["already"] == 14
    with rt.session() as db:
        assert len(outbox_keys(db, "checkin:")) == 10


def test_a_chunk_survives_another_writer_committing_while_it_reads(
    committing_rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Embedded mode: delivery threads commit while the job runs. On SQLite a transaction that read
    # first and then writes after someone else committed fails at once ("database is locked")
    # unless it took the write lock when it began.
    rt = committing_rt
    with rt.session() as db:
        resident, identity = bound_resident(db, window_open=False)
    real_open_day = checkin_dispatch.open_day
    other: list[Exception | None] = []

    def another_writer() -> None:
        try:
            with rt.session() as db:
                db.execute(
                    WeChatIdentity.__table__.update()
                    .where(WeChatIdentity.id == identity.id)
                    .values(nickname="其他写入")
                )
            other.append(None)
        except Exception as exc:  # reported below
            other.append(exc)

    def open_day_after_a_commit(db: Session, *args: object) -> object:
        writer = threading.Thread(target=another_writer)
        writer.start()
        writer.join(timeout=1)  # on SQLite it waits for this chunk's lock; elsewhere it commits now
        return real_open_day(db, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(checkin_dispatch, "open_day", open_day_after_a_commit)
    summary = job(rt, "daily_checkin", "09:00")
    assert summary["oa_template"] == 1
    wait_until(lambda: bool(other), 20, "the other writer to finish")
    assert other == [None]
    with rt.session() as db:
        assert checkin_of(db, resident).status == CheckinStatus.PROMPTED
