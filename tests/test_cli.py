"""The `lanxi` command tree through click's CliRunner, against a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from bot import migrate
from bot.db import make_engine
from bot.models import ApiToken, AuditEvent, Resident, Role, StaffUser
from bot.runtime import Runtime
from bot.services import staff
from tests.factories import make_user
from web import create_app
from web.cli import cli


@pytest.fixture()
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/cli.db"\n', encoding="utf-8")
    return path


def run(config: Path, *args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def test_help_lists_the_contract_groups() -> None:
    output = CliRunner().invoke(cli, ["--help"]).output
    for group in ("db", "users", "tokens", "demo", "serve"):
        assert f"  {group} " in output


def test_db_upgrade_and_current(config: Path) -> None:
    assert "behind" in run(config, "db", "current")
    run(config, "db", "upgrade")
    output = run(config, "db", "current")
    assert "behind" not in output and f"current: {migrate.head_revisions()[0]}" in output


def test_users_create_with_generated_or_piped_password(config: Path, tmp_path: Path) -> None:
    run(config, "db", "upgrade")
    generated = run(config, "users", "create", "--username", "zhang", "--role", "leader")
    password = generated.split("password (shown once): ")[1].strip()
    run(config, "users", "create", "--username", "li", "--role", "cyber_police", stdin="a long pass phrase\n")
    engine = make_engine(f"sqlite:///{tmp_path}/cli.db")
    with engine.connect() as conn:
        hashes = dict(conn.execute(select(StaffUser.username, StaffUser.password_hash)).all())
    assert staff._verify(hashes["zhang"], password)
    assert staff._verify(hashes["li"], "a long pass phrase")
    duplicate = CliRunner().invoke(
        cli,
        ["--config", str(config), "users", "create", "--username", "li", "--role", "leader"],
        input="another long one\n",
    )
    assert duplicate.exit_code == 1 and "已存在" in duplicate.output


def test_station_officer_needs_a_station(config: Path) -> None:
    run(config, "db", "upgrade")
    result = CliRunner().invoke(
        cli,
        ["--config", str(config), "users", "create", "--username", "w", "--role", "station_officer"],
        input="long enough pass\n",
    )
    assert result.exit_code == 2 and "police station" in result.output


def test_tokens_create_prints_a_token_stored_only_hashed(config: Path, tmp_path: Path) -> None:
    run(config, "db", "upgrade")
    run(config, "users", "create", "--username", "api", "--role", "leader", stdin="long enough pass\n")
    token = run(config, "tokens", "create", "--username", "api").strip()
    assert token.startswith("lx_")
    engine = make_engine(f"sqlite:///{tmp_path}/cli.db")
    with engine.connect() as conn:
        stored = conn.execute(select(ApiToken.token_hash)).scalar_one()
    assert token not in stored and len(stored) == 64


def test_demo_loads_once_and_prints_fresh_logins(config: Path, tmp_path: Path) -> None:
    first = run(config, "demo", "--no-serve", "--residents", "200")
    assert "demo data loaded" in first and "admin" in first
    second = run(config, "demo", "--no-serve", "--residents", "200")
    assert "already present" in second
    engine = make_engine(f"sqlite:///{tmp_path}/cli.db")
    with engine.connect() as conn:
        assert conn.execute(select(func.count(Resident.id))).scalar_one() == 200
        admins = conn.execute(
            select(func.count(StaffUser.id)).where(StaffUser.username == "admin")
        ).scalar_one()
    assert admins == 1
    password = second.split("admin")[1].split()[0]
    with engine.connect() as conn:
        hashed = conn.execute(
            select(StaffUser.password_hash).where(StaffUser.username == "admin")
        ).scalar_one()
    assert staff._verify(hashed, password)


def test_tokens_list_and_revoke_by_id_by_token_or_by_user_then_the_api_refuses_them(
    committing_rt: Runtime, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{committing_rt.settings.database.url}"\n', encoding="utf-8")
    with committing_rt.session() as db:
        make_user(db, Role.ADMIN, username="api")
        make_user(db, Role.ADMIN, username="ops")
    first = run(config, "tokens", "create", "--username", "api", "--label", "报表系统").strip()
    second = run(config, "tokens", "create", "--username", "api").strip()
    third = run(config, "tokens", "create", "--username", "ops").strip()
    client = create_app(runtime=committing_rt).test_client()

    def status(token: str) -> int:
        return client.get("/api/v1/residents", headers={"Authorization": f"Bearer {token}"}).status_code

    listing = [line.split("\t") for line in run(config, "tokens", "list").splitlines()[1:]]
    assert [(user, label, revoked) for _, user, label, _, _, revoked in listing] == [
        ("ops", "-", "-"),
        ("api", "-", "-"),
        ("api", "报表系统", "-"),
    ]
    ops_id, second_id, first_id = (row[0] for row in listing)
    assert (
        first not in run(config, "tokens", "list")
        and len(run(config, "tokens", "list", "--username", "ops").splitlines()) == 2
    )
    assert {status(first), status(second), status(third)} == {200}

    assert run(config, "tokens", "revoke", first_id) == f"token {first_id} of api: revoked\n"
    assert (status(first), status(second)) == (401, 200)
    assert "revoked" in run(config, "tokens", "revoke", second)  # the token itself, as when it leaked
    assert status(second) == 401
    assert "already revoked" in run(config, "tokens", "revoke", first_id)

    def refused(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, ["--config", str(config), "tokens", "revoke", *args])
        return result.exit_code, result.output

    code, output = refused(ops_id, "--username", "api")
    assert code == 1 and "belongs to ops" in output
    code, output = refused("987654")
    assert code == 1 and "no such token: 987654" in output
    code, output = refused("lx_leaked-but-unknown")
    assert code == 1 and "lx_" not in output
    assert refused()[0] == 2
    assert status(third) == 200  # nothing above touched it

    assert run(config, "tokens", "revoke", "--username", "ops") == "revoked 1 token(s) of ops\n"
    assert status(third) == 401
    assert all(row.split("\t")[-1] != "-" for row in run(config, "tokens", "list").splitlines()[1:])
    with committing_rt.session() as db:
        events = db.scalars(select(AuditEvent).where(AuditEvent.action == "api_token.revoke")).all()
        assert [(e.actor_label, e.detail) for e in events] == [
            ("cli", {"token_id": int(first_id)}),
            ("cli", {"token_id": int(second_id)}),
            ("cli", {"count": 1}),
        ]
