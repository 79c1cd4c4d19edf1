"""The browser-test harness: a live panel on 127.0.0.1 over a migrated, seeded SQLite database,
driven by Playwright through Debian's Chromium (never a Playwright-downloaded browser).

Every test here is marked ``browser``; without /usr/bin/chromium they are all skipped with one
reason. Screenshots go to ``test-artifacts/screenshots/`` (gitignored).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from alembic.util.exc import CommandError
from playwright.sync_api import BrowserContext, Page, expect, sync_playwright
from sqlalchemy import select, text
from werkzeug.serving import make_server

from bot import demo, migrate
from bot.clock import local_today
from bot.config import settings_from_dict
from bot.models import (
    Base,
    Jurisdiction,
    JurisdictionKind,
    Lead,
    LeadPriority,
    LeadSource,
    LeadStatus,
    Resident,
)
from bot.runtime import Runtime

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
SEED_RESIDENTS = 300


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason=f"browser tests skipped: {CHROMIUM} is not installed (run `make browser`)")
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)
            if not CHROMIUM.exists():
                item.add_marker(skip)


@dataclass(frozen=True)
class LiveServer:
    url: str
    logins: dict[str, str]  # demo username -> password
    rt: Runtime
    today: date


def _leads(rt: Runtime, today: date) -> None:
    """A few leads, some overdue, so the lead figures and charts have data."""
    with rt.session() as db:
        stations = list(db.scalars(select(Jurisdiction).where(Jurisdiction.kind == JurisdictionKind.STATION)))
        people = list(db.scalars(select(Resident).order_by(Resident.id).limit(12)))
        for n, person in enumerate(people):
            station = stations[n % len(stations)]
            status = (LeadStatus.OPEN, LeadStatus.IN_PROGRESS, LeadStatus.DONE)[n % 3]
            db.add(
                Lead(
                    source=LeadSource.CHECKIN if n % 2 else LeadSource.TIP,
                    cause_key=f"browser:{n}",
                    priority=LeadPriority.HIGH if n % 4 == 0 else LeadPriority.NORMAL,
                    station_id=station.id,
                    resident_id=person.id if n % 2 else None,
                    title=f"{'发热' if n % 2 else '涉疫谣言'}核查 {n + 1}",
                    status=status,
                    due_date=today - timedelta(days=1 - n % 3),
                    outcome="已电话核实" if status == LeadStatus.DONE else "",
                )
            )


def _schema(rt: Runtime) -> None:
    """The migrated schema; the models' own while they are ahead of the migrations.

    tests/test_migrations.py fails on that drift; here the panel is under test, so new columns
    that no migration creates yet must not turn every browser test into a 500.
    """
    migrate.upgrade(rt.engine)
    try:
        migrate.check(rt.engine)
    except CommandError:
        Base.metadata.drop_all(rt.engine)
        with rt.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        Base.metadata.create_all(rt.engine)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    from web import create_app

    root = tmp_path_factory.mktemp("live")
    settings = settings_from_dict(
        {"database": {"url": f"sqlite:///{root}/live.db"}, "web": {"public_base_url": "http://127.0.0.1"}},
        source="browser tests",
    )
    rt = Runtime.from_settings(settings)
    _schema(rt)
    today = local_today(settings.tz)
    with rt.session() as db:
        demo.seed(db, settings, residents=SEED_RESIDENTS)
        logins = {login.username: login.password for login in demo.demo_logins(db)}
    _leads(rt, today)
    app = create_app(runtime=rt)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", logins, rt, today)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        rt.engine.dispose()


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            accept_downloads=True,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            viewport={"width": 1280, "height": 900},
        )
        yield context
        context.close()


@pytest.fixture()
def page(browser: BrowserContext) -> Iterator[Page]:
    """A fresh tab with no cookies (each test signs in as whom it needs)."""
    browser.clear_cookies()
    tab = browser.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    tab.close()


def sign_in(page: Page, server: LiveServer, username: str) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(server.logins[username])
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("button", name="退出")).to_be_visible()


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
