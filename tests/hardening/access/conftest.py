"""Fixtures of the access-control tests: the two-station world."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from bot.runtime import Runtime
from tests.hardening.access.support import World, build_world


@pytest.fixture()
def world(db: Session, rt: Runtime) -> World:
    return build_world(db, rt)
