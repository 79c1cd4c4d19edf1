"""Every word the bot says: Jinja2 text templates in templates/messages/<name>.txt.

Templates are rendered in a sandbox with StrictUndefined, so a missing value fails loudly in tests
instead of reaching a resident as an empty gap. Files starting with "_" are partials for {% include %}.

The render context is the caller's context, then effect results, then the reply's params. Context
keys the templates use: ``resident_name`` (masked, "张*"), ``today`` (date), ``monitoring_days`` and
``retention_days`` (settings [checkin] and [privacy]); effect results:
``ticket`` (submit_tip), ``retry_after_minutes`` (bind_locked).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from bot.flows.model import Reply

MESSAGES_DIR = Path(__file__).resolve().parents[2] / "templates" / "messages"
SUFFIX = ".txt"


def cn_date(value: date | str) -> str:
    """ "2020-02-20" or a date → "2月20日", as residents write it."""
    day = value if isinstance(value, date) else date.fromisoformat(value)
    return f"{day.month}月{day.day}日"


def make_environment(directory: Path = MESSAGES_DIR) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=FileSystemLoader(directory, encoding="utf-8"),
        undefined=StrictUndefined,
        autoescape=False,  # plain-text chat messages, never HTML
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,  # templates ship with the code: no stat() of the file on every render
    )
    env.filters["cn_date"] = cn_date
    return env


@cache
def _default_environment() -> SandboxedEnvironment:
    return make_environment()


def template_names(directory: Path = MESSAGES_DIR) -> frozenset[str]:
    """The message templates that exist (partials excluded), by name without ".txt"."""
    return frozenset(
        path.name.removesuffix(SUFFIX)
        for path in directory.glob(f"*{SUFFIX}")
        if not path.name.startswith("_")
    )


def render(
    reply: Reply,
    context: Mapping[str, Any],
    environment: SandboxedEnvironment | None = None,
) -> str:
    """The text of ``reply``; ``context`` is the caller's values merged with effect results."""
    env = environment or _default_environment()
    text = env.get_template(f"{reply.template}{SUFFIX}").render({**context, **reply.params})
    return text.strip()


def render_all(
    replies: list[Reply],
    context: Mapping[str, Any],
    environment: SandboxedEnvironment | None = None,
) -> str:
    """All replies of one step as one message (a passive reply carries one), blank-line separated."""
    return "\n\n".join(render(reply, context, environment) for reply in replies)
