"""`lanxi advisories send ID`: sends an approved advisory with a progress bar, against the local WeChat."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from bot.config import Settings, replace
from bot.fake_wechat import FakeWeChatServer
from bot.runtime import Runtime
from tests.advisories.conftest import CHAT_ID, ROBOT_KEY
from tests.advisories.support import approved_advisory, make_team
from tests.factories import make_advisory, make_group
from web.cli import cli


def _config(tmp_path: Path, engine: Engine, fake: FakeWeChatServer) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "{engine.url.render_as_string(hide_password=False)}"\n'
        f'[wechat]\napi_base_url = "{fake.url}"\nopen_base_url = "{fake.url}"\n'
        f'[wecom]\napi_base_url = "{fake.url}"\n',
        encoding="utf-8",
    )
    return path


def test_send_shows_progress_and_a_second_run_sends_nothing_twice(
    tmp_path: Path, sqlite_engine: Engine, fake: FakeWeChatServer, base_settings: Settings
) -> None:
    settings = replace(base_settings, database={"url": str(sqlite_engine.url)})
    rt = Runtime(settings, sqlite_engine, sessionmaker(sqlite_engine, expire_on_commit=False))
    with rt.session() as db:
        team = make_team(db)
        groups = [make_group(db, webhook_key=ROBOT_KEY), make_group(db, "wecom_appchat", chat_id=CHAT_ID)]
        advisory_id = approved_advisory(db, rt, team, groups).id
        draft_id = make_advisory(db, team.composer, groups).id
    config = _config(tmp_path, sqlite_engine, fake)
    args = [
        "--config",
        str(config),
        "advisories",
        "send",
        str(advisory_id),
        "--interval",
        "0.05",
        "--timeout",
        "20",
    ]

    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "2 个发送对象，本次新排队 2 条" in first.output and "发送进度" in first.output
    assert "已发送 2，失败 0" in first.output
    assert (
        len(fake.state.delivered("robot", ROBOT_KEY)) == 1
        and len(fake.state.delivered("appchat", CHAT_ID)) == 1
    )

    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0 and "本次新排队 0 条" in again.output
    assert len(fake.state.delivered("robot", ROBOT_KEY)) == 1

    refused = CliRunner().invoke(cli, ["--config", str(config), "advisories", "send", str(draft_id)])
    assert refused.exit_code == 1 and "只有已批准的倡议书可以发送" in refused.output
    missing = CliRunner().invoke(cli, ["--config", str(config), "advisories", "send", "99999"])
    assert missing.exit_code == 1 and "不存在" in missing.output


def test_failed_targets_make_the_command_fail(
    tmp_path: Path, sqlite_engine: Engine, fake: FakeWeChatServer, base_settings: Settings
) -> None:
    settings = replace(base_settings, database={"url": str(sqlite_engine.url)})
    rt = Runtime(settings, sqlite_engine, sessionmaker(sqlite_engine, expire_on_commit=False))
    with rt.session() as db:
        advisory_id = approved_advisory(
            db, rt, make_team(db), [make_group(db, webhook_key="unknown-robot-key-000")]
        ).id
    config = _config(tmp_path, sqlite_engine, fake)
    result = CliRunner().invoke(
        cli, ["--config", str(config), "advisories", "send", str(advisory_id), "--interval", "0.05"]
    )
    assert result.exit_code == 1 and "失败 1" in result.output and "重发失败项" in result.output
