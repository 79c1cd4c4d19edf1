"""One day end to end, against the local WeChat: import → bind → prompt → replies → lead and visit.

Every message from the resident goes the way WeChat sends it (signed, AES-encrypted XML posted to
/wechat/callback); every message to them goes through the outbox and the real channels to the
fake WeChat servers.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channels import build_channels
from bot.clock import local_today
from bot.delivery.inline import drain
from bot.delivery.rate import RateGate
from bot.fake_wechat import FakeWeChatServer
from bot.jobs import run_job
from bot.models import CheckinStatus, ContactMethod, LeadPriority, Resident
from bot.runtime import Runtime
from bot.services import resident_import, stats
from bot.services.audit import CLI
from bot.services.scope import COUNTY
from tests.checkins.support import checkin_of, leads_of, officer, visits_of
from tests.delivery.support import at_fake, wechat_state
from tests.factories import make_station
from tests.importing.files import HEADERS, make_id, resident, xlsx_bytes
from tests.wechat.support import WeChatUser
from web import create_app

OPENID = "oLanxiEndToEnd000000000001"


@pytest.fixture()
def fake() -> Iterator[FakeWeChatServer]:
    with FakeWeChatServer(wechat_state()) as server:
        yield server


def test_import_bind_prompt_reply_lead_and_visit(rt: Runtime, db: Session, fake: FakeWeChatServer) -> None:
    crt = at_fake(rt, fake.url)
    station = make_station(db, "兰江派出所", "兰江街道")
    officer(db, station, "wangjingguan")
    db.commit()

    # 1. The township's file is imported.
    data = xlsx_bytes(
        {"名单": [HEADERS, resident(姓名="陈小春", 身份证号=make_id(seq=777), 手机号="13811112222")]}
    )
    result = resident_import.validate_file(db, data, "名单.xlsx", today=local_today(rt.settings.tz))
    assert resident_import.apply(db, CLI, result).created == 1
    db.commit()
    person = db.scalars(select(Resident).where(Resident.name == "陈小春")).one()

    # 2. The resident binds in the chat, through the real callback protocol.
    app = create_app(runtime=crt)
    app.config.update(TESTING=True)
    user = WeChatUser(app.test_client(), crt, fake, OPENID)
    assert "绑定前请您了解" in user.send("绑定")
    assert "身份证号的最后6位" in user.send("陈小春")
    assert "绑定成功" in user.send("138 1111 2222")

    # 3. The morning job prompts; the prompt reaches the local WeChat as a chat message.
    summary = run_job(crt, "daily_checkin")
    assert summary["oa_custom"] == 1
    drain(crt, build_channels(crt), RateGate())
    [prompt] = fake.state.delivered("custom", OPENID)
    assert "第1问" in prompt.payload["text"]["content"]

    # 4. The replies: a fever. A high-priority lead appears and the station's officer is alerted.
    assert "第2问" in user.send("2，38.5度")
    assert "第3问" in user.send("没变")
    assert "民警会尽快和您联系" in user.send("没定")
    drain(crt, build_channels(crt), RateGate())
    [lead] = leads_of(db, person)
    assert lead.priority == LeadPriority.HIGH and lead.station_id == station.id
    [alert] = fake.state.delivered("wecom_app")
    assert "陈*春" in alert.payload["text"]["content"] and "wangjingguan" in alert.recipients

    # 5. The check-in is answered once and the visit is counted against the registry.
    today = local_today(rt.settings.tz)
    assert checkin_of(db, person, today).status == CheckinStatus.ANSWERED
    assert [v.method for v in visits_of(db, person)] == [ContactMethod.WECHAT]
    [figures] = [row for row in stats.by_station(db, COUNTY, today) if row.id == station.id]
    assert (figures.residents, figures.visited_today) == (1, 1)
