from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.config import ConfigError, load_settings
from web.cli import cli


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_defaults_are_the_embedded_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(env={})
    assert settings.database.url.startswith("sqlite:///")
    assert settings.delivery.backend == "inline"
    assert settings.checkin.timezone == "Asia/Shanghai"
    assert settings.web.api_rate_limit == "120/minute"
    assert settings.source == "built-in defaults"


def test_file_then_environment_overrides(tmp_path: Path) -> None:
    path = write(tmp_path, '[database]\nurl = "sqlite:///x.db"\n[checkin]\nmonitoring_days = 21\n')
    settings = load_settings(path, env={"LANXI_DATABASE_URL": "postgresql://db/lanxi"})
    assert settings.database.url == "postgresql://db/lanxi"
    assert settings.checkin.monitoring_days == 21


def test_lanxi_config_variable_and_local_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = write(tmp_path, "[checkin]\nmonitoring_days = 7\n")
    assert load_settings(env={"LANXI_CONFIG": str(other)}).checkin.monitoring_days == 7
    monkeypatch.chdir(tmp_path)
    assert load_settings(env={}).source == "config.toml"


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ("[web]\nsecret = 'x'\n", "web.secret"),
        ("[nope]\n", "[nope]"),
        ("[web]\nport = 'eighty'\n", "web.port"),
        ("[delivery]\nbackend = 'threads'\n", "delivery.backend"),
        ("[checkin]\ntime = '9am'\n", "checkin.time"),
        ("[checkin]\ntimezone = 'Mars/Olympus'\n", "checkin.timezone"),
        ("[privacy]\nencryption_key = 'short'\n", "privacy.encryption_key"),
        ("[web]\napi_rate_limit = 'lots'\n", "web.api_rate_limit"),
        ("[web]\napi_rate_limit = '0/minute'\n", "web.api_rate_limit"),
        ("[web]\nproduction = true\n", "web.secret_key"),
        ("web = 3\n", "[web]"),
        ("[web\n", "not valid TOML"),
    ],
)
def test_bad_configuration_names_the_key(tmp_path: Path, body: str, named: str) -> None:
    with pytest.raises(ConfigError, match=named.replace("[", r"\[").replace("]", r"\]")):
        load_settings(write(tmp_path, body), env={})


def test_production_needs_every_secret(tmp_path: Path) -> None:
    body = "[web]\nproduction = true\nsecret_key = 'k' \n"
    with pytest.raises(ConfigError, match=r"privacy\.encryption_key"):
        load_settings(write(tmp_path, body), env={})
    env = {
        "LANXI_ENCRYPTION_KEY": "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVowMTIzNDU=",
        "LANXI_WECHAT_APP_SECRET": "real",
        "LANXI_WECOM_SECRET": "real",
    }
    assert load_settings(write(tmp_path, body), env=env).web.production


def test_cli_reports_bad_config_in_one_line_with_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, "[web]\nbogus = 1\n")
    result = CliRunner().invoke(cli, ["db", "current", "--config", str(path)])
    assert result.exit_code == 2
    assert result.output.strip() == "lanxi: configuration error: unknown configuration key web.bogus"
    assert "Traceback" not in result.output


def test_example_config_documents_every_key_and_loads() -> None:
    from dataclasses import fields

    from bot.config import Settings

    example = Path(__file__).resolve().parent.parent / "config.example.toml"
    text = example.read_text(encoding="utf-8")
    load_settings(example, env={})
    for section in fields(Settings):
        if section.name == "source":
            continue
        assert f"[{section.name}]" in text
        for key in fields(
            section.type if isinstance(section.type, type) else getattr(Settings(), section.name)
        ):
            assert f"\n{key.name} =" in text or f"\n# {key.name} =" in text, f"{section.name}.{key.name}"
