"""Binding a WeChat identity to a resident: QR scenes, the conversation, failures and cool-down."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import AuditEvent, WeChatIdentity
from bot.runtime import Runtime
from bot.services import binding
from tests.checkins.support import chat, clock
from tests.factories import make_identity, make_resident, make_station


def identity_of(db: Session, identity: WeChatIdentity) -> WeChatIdentity:
    db.expire_all()
    found = db.get(WeChatIdentity, identity.id)
    assert found is not None
    return found


def scanned(rt: Runtime, identity: WeChatIdentity, scene: str, *, following: bool = False) -> str:
    event, key = ("scan", scene) if following else ("subscribe", f"qrscene_{scene}")
    return chat(rt, identity).send(msg_type="event", event=event, event_key=key)


def test_a_resident_qr_code_binds_at_once_with_the_privacy_notice(rt: Runtime, db: Session) -> None:
    resident = make_resident(db, name="王小明")
    scene = binding.scene_for_resident(db, resident)
    identity = make_identity(db, window_open=False)
    db.commit()
    with clock("10:00"):
        reply = scanned(rt, identity, scene.scene)
    assert "绑定前请您了解" in reply and "180天内删除" in reply and "绑定成功！王*明" in reply
    assert identity_of(db, identity).resident_id == resident.id
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "wechat.bind"))
    assert event is not None and event.record_id == str(resident.id) and event.detail["how"] == "qr"
    assert len(scene.scene) > 20 and binding.scene_for_resident(db, resident).id == scene.id


def test_a_resident_already_bound_elsewhere_is_not_taken_over(rt: Runtime, db: Session) -> None:
    resident = make_resident(db)
    make_identity(db, resident)
    scene = binding.scene_for_resident(db, resident)
    stranger = make_identity(db)
    db.commit()
    with clock("10:00"):
        reply = scanned(rt, stranger, scene.scene, following=True)
    assert "已经绑定了其他微信" in reply and identity_of(db, stranger).resident_id is None


def test_a_station_qr_code_limits_the_conversation_to_that_station(rt: Runtime, db: Session) -> None:
    here, there = make_station(db), make_station(db)
    elsewhere = make_resident(db, there, name="李四", id_number="231222198005170011")
    mine = make_resident(db, here, name="李四", phone="13712345678")
    scene = binding.scene_for_station(db, here.id)
    identity = make_identity(db)
    db.commit()
    talk = chat(rt, identity)
    with clock("10:00"):
        assert "请回复您的姓名" in scanned(rt, identity, scene.scene)
        talk.send("李四")
        assert "信息没有对上" in talk.send("170011")  # the other station's 李四
        talk.send("李四")
        assert "绑定成功！李四" in talk.send("137 1234 5678")
    bound = identity_of(db, identity)
    assert bound.resident_id == mine.id and bound.bind_station_id is None and elsewhere.id != mine.id


def test_the_id_number_s_last_six_bind(rt: Runtime, db: Session) -> None:
    resident = make_resident(db, name="赵六", id_number="23122219800517001X")
    identity = make_identity(db)
    db.commit()
    talk = chat(rt, identity)
    with clock("10:00"):
        talk.send("绑定")
        talk.send("我叫赵六")
        assert "绑定成功" in talk.send("17001x")
    assert identity_of(db, identity).resident_id == resident.id


def test_failures_lock_binding_for_a_while(rt: Runtime, db: Session) -> None:
    resident = make_resident(db, name="钱七", phone="13600001111")
    identity = make_identity(db)
    db.commit()
    talk = chat(rt, identity)
    with clock("10:00"):
        talk.send("绑定")
        for _ in range(2):
            talk.send("钱七")
            assert "信息没有对上" in talk.send("13600002222")
        talk.send("钱七")
        assert "30分钟后再试" in talk.send("13600003333")
        # Locked: even the right details are not compared, and no conversation is started unasked.
        assert "绑定前请您了解" not in talk.send("你好")
        talk.send("绑定")
        talk.send("钱七")
        assert "绑定成功" not in talk.send("13600001111")
    assert identity_of(db, identity).resident_id is None
    with clock("10:31"):
        assert "超时" in talk.send("绑定")  # that conversation expired too: it starts again
        talk.send("钱七")
        assert "绑定成功" in talk.send("13600001111")
    assert identity_of(db, identity).resident_id == resident.id


def test_cancelling_does_not_reset_the_count(rt: Runtime, db: Session) -> None:
    make_resident(db, name="孙八", phone="13500001111")
    identity = make_identity(db)
    db.commit()
    talk = chat(rt, identity)
    with clock("10:00"):
        for _ in range(binding.MAX_FAILURES):
            talk.send("绑定")
            talk.send("孙八")
            talk.send("13500009999")
            talk.send("取消")
    assert identity_of(db, identity).bind_locked_until is not None


def test_one_identity_per_resident_and_one_resident_per_identity(db: Session) -> None:
    from datetime import UTC, datetime

    first, second = make_resident(db, name="周九"), make_resident(db, name="吴十")
    one, other = make_identity(db), make_identity(db)
    now = datetime.now(UTC)
    assert binding.bind_by_scene(db, one, binding.scene_for_resident(db, first), now).ok
    assert binding.bind_by_scene(db, other, binding.scene_for_resident(db, first), now).outcome == "taken"
    assert (
        binding.bind_by_scene(db, one, binding.scene_for_resident(db, second), now).outcome == "already_bound"
    )
    assert binding.unbind(db, one) == first and one.resident_id is None
    assert binding.bind_by_scene(db, other, binding.scene_for_resident(db, first), now).ok


def test_someone_already_bound_scanning_another_resident_s_code_is_told_so(rt: Runtime, db: Session) -> None:
    mine, theirs = make_resident(db, name="郑十一"), make_resident(db)
    identity = make_identity(db, mine)
    scene = binding.scene_for_resident(db, theirs)
    db.commit()
    with clock("10:00"):
        reply = scanned(rt, identity, scene.scene, following=True)
    assert "已经绑定了郑*一" in reply and "解绑" in reply
    assert identity_of(db, identity).resident_id == mine.id
