"""Resident line lists: 返乡观察中, 观察期即将结束, 未绑定微信."""

from __future__ import annotations

from web import linelists as pages
from web.residents import bp

pages.mount(bp)
