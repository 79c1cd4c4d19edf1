"""The request's database session: opened on first use, closed at teardown. Views commit."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from bot.runtime import Runtime


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["lanxi"]
    return rt


def get_db() -> Session:
    if "db" not in g:
        g.db = runtime().sessions()
    db: Session = g.db
    return db


def rollback() -> None:
    """Ends the request's failed transaction, so an error page can still read (PostgreSQL would refuse)."""
    db: Session | None = g.get("db")
    if db is not None:
        db.rollback()


def _close_db(exc: BaseException | None) -> None:
    db: Session | None = g.pop("db", None)
    if db is not None:
        if exc is not None:
            db.rollback()
        db.close()


def init_app(app: Flask, rt: Runtime) -> None:
    app.extensions["lanxi"] = rt
    app.teardown_appcontext(_close_db)
