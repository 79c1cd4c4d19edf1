"""Where a callback's time goes: the same unique messages in-process (Flask test client), profiled.

    .venv/bin/python -m bench.callback_profile --database sqlite --requests 1000
    .venv/bin/python -m bench.callback_profile --database postgresql --requests 1000

Prints milliseconds per request: the whole callback, a bare Flask request for reference, and
the profile's own time grouped by layer (database driver, SQLAlchemy, crypto, XML, ...).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from collections import Counter

from flask import Flask

from bench.bare_app import app as bare_app
from bench.callback_throughput import Messages
from bench.common import figure, machine, note, scratch_database
from bot.config import settings_from_dict
from bot.models import Base
from bot.runtime import Runtime
from web import create_app

# Path fragments of a profiled function's file → the layer it belongs to (first match wins).
LAYERS = (
    ("psycopg", "database driver + wait (psycopg)"),
    ("sqlite3", "database driver (sqlite3)"),
    ("{method 'execute' of 'sqlite3", "database driver (sqlite3)"),
    ("{method 'commit' of 'sqlite3", "database driver (sqlite3)"),
    ("sqlalchemy", "SQLAlchemy"),
    ("cryptography", "AES (cryptography)"),
    ("wechatpy", "AES framing (wechatpy)"),
    ("defusedxml", "XML parsing"),
    ("xml/", "XML parsing"),
    ("expat", "XML parsing"),
    ("jinja2", "templates (Jinja2)"),
    ("werkzeug", "Flask/Werkzeug"),
    ("flask", "Flask/Werkzeug"),
    ("prometheus", "metrics"),
    ("logging", "logging"),
    ("/bot/", "our code (bot)"),
    ("/web/", "our code (web)"),
)


def layer_of(filename: str, function: str) -> str:
    where = f"{filename} {function}"
    for fragment, layer in LAYERS:
        if fragment in where:
            return layer
    return "other (stdlib, builtins)"


def post_all(app: Flask, batch: list[tuple[str, bytes]]) -> float:
    client = app.test_client()
    started = time.perf_counter()
    for target, body in batch:
        response = client.post(target, data=body, content_type="text/xml")
        if response.status_code != 200:
            raise RuntimeError(f"callback answered {response.status_code}")
    return (time.perf_counter() - started) * 1000 / len(batch)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--text", default="绑定")
    args = parser.parse_args(argv)
    print(machine())
    with scratch_database(args.database) as url:
        rt = Runtime.from_settings(settings_from_dict({"database": {"url": url}}))
        Base.metadata.create_all(rt.engine)
        app = create_app(runtime=rt)
        messages = Messages(args.text)
        warm = min(200, args.requests)
        post_all(app, messages.take(warm))  # warm the caches
        post_all(bare_app, messages.take(warm))
        plain = post_all(app, messages.take(args.requests))
        bare = post_all(bare_app, messages.take(args.requests))
        profile = cProfile.Profile()
        profile.enable()
        profiled = post_all(app, messages.take(args.requests))
        profile.disable()
        rt.engine.dispose()
    figure(
        f"callback_inprocess_ms_{args.database}",
        plain,
        "ms/request",
        reference="bare_flask_inprocess_ms",
        ref_value=bare,
    )
    stats = pstats.Stats(profile)
    layers: Counter[str] = Counter()
    for (filename, _line, function), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        layers[layer_of(filename, function)] += tottime
    total = sum(layers.values())
    note(f"profiled run: {profiled:.2f} ms/request with the profiler's overhead; own time by layer:")
    for layer, seconds in layers.most_common():
        note(f"  {layer:<36} {seconds * 1000 / args.requests:6.2f} ms  {seconds / total:6.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
