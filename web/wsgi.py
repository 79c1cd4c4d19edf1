"""The WSGI entry point for production servers: ``gunicorn 'web.wsgi:app'``.

Settings come from ``$LANXI_CONFIG`` (or ./config.toml) and the ``LANXI_*`` environment, as for
every `lanxi` command. This process serves the panel and the callbacks only: the scheduler runs as
one `lanxi scheduler`, delivery in `lanxi worker` processes. With the Celery backend a commit that
adds outbox rows publishes a delivery task; with the inline backend a `lanxi worker` polls.

Each gunicorn worker imports this module after the fork (do not use ``--preload``), so every
worker opens its own database connection pool.

gunicorn listens on loopback behind exactly one reverse proxy (nginx, which terminates TLS), so the
client address and scheme are taken from that proxy's X-Forwarded-For / -Proto: the public form's
rate limit and the audit log see the caller, not the proxy. Never expose gunicorn directly.
"""

from __future__ import annotations

from werkzeug.middleware.proxy_fix import ProxyFix

from bot.cli import load_or_exit
from bot.delivery.setup import start_delivery
from bot.runtime import Runtime
from web import create_app

runtime = Runtime.from_settings(load_or_exit(None))
app = create_app(runtime=runtime)
app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
start_delivery(runtime, threads=False)
