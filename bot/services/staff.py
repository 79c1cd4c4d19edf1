"""Staff accounts: creation, passwords, sign-in with throttling, sessions and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.models import ApiToken, Jurisdiction, LoginAttempt, Role, StaffSession, StaffUser, utcnow
from bot.services import audit
from bot.services.audit import Actor

_hasher = PasswordHasher()
# A hash of a random password: verifying against it makes an unknown username cost the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
# Failed attempts from one address (any usernames) before it is throttled too.
IP_FAILURE_LIMIT = 30
MIN_PASSWORD_LENGTH = 10


class StaffError(Exception):
    """A refused staff operation; the message is shown to the operator."""


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    db: Session,
    actor: Actor,
    *,
    username: str,
    role: Role,
    jurisdiction: Jurisdiction,
    password: str,
    display_name: str = "",
) -> StaffUser:
    username = username.strip()
    if not username or len(username) > 64:
        raise StaffError("用户名不能为空，且不超过 64 个字符")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"密码至少 {MIN_PASSWORD_LENGTH} 位")
    if db.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise StaffError(f"用户名 {username} 已存在")
    user = StaffUser(
        username=username,
        display_name=display_name or username,
        role=role,
        jurisdiction=jurisdiction,
        password_hash=hash_password(password),
    )
    db.add(user)
    db.flush()
    audit.record(
        db,
        actor,
        "staff.create",
        record_type="staff",
        record_id=user.id,
        role=role.value,
        jurisdiction=jurisdiction.code,
    )
    return user


def set_role(db: Session, actor: Actor, user: StaffUser, role: Role, jurisdiction: Jurisdiction) -> None:
    before = (user.role.value, user.jurisdiction_id)
    user.role, user.jurisdiction = role, jurisdiction
    _bump_generation(db, user)
    audit.record(
        db,
        actor,
        "staff.role_change",
        record_type="staff",
        record_id=user.id,
        before=list(before),
        after=[role.value, jurisdiction.id],
    )


def set_active(db: Session, actor: Actor, user: StaffUser, active: bool) -> None:
    user.active = active
    _bump_generation(db, user)
    audit.record(
        db, actor, "staff.enable" if active else "staff.disable", record_type="staff", record_id=user.id
    )


def set_password(db: Session, actor: Actor, user: StaffUser, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"密码至少 {MIN_PASSWORD_LENGTH} 位")
    user.password_hash = hash_password(password)
    _bump_generation(db, user)
    audit.record(db, actor, "staff.password_change", record_type="staff", record_id=user.id)


def _bump_generation(db: Session, user: StaffUser) -> None:
    """Every session of the user made before this change stops working."""
    user.auth_generation += 1
    db.execute(
        update(StaffSession)
        .where(StaffSession.user_id == user.id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def is_locked(db: Session, username: str, ip: str, policy: LoginPolicy, now: datetime) -> bool:
    since = now - policy.lockout
    last_success = db.scalar(
        select(func.max(LoginAttempt.at)).where(LoginAttempt.username == username, LoginAttempt.succeeded)
    )
    window_start = max(since, last_success) if last_success else since
    user_failures = db.scalar(
        select(func.count()).where(
            LoginAttempt.username == username, ~LoginAttempt.succeeded, LoginAttempt.at > window_start
        )
    )
    if (user_failures or 0) >= policy.max_failures:
        return True
    ip_failures = db.scalar(
        select(func.count()).where(LoginAttempt.ip == ip, ~LoginAttempt.succeeded, LoginAttempt.at > since)
    )
    return bool(ip and (ip_failures or 0) >= IP_FAILURE_LIMIT)


def authenticate(
    db: Session, username: str, password: str, *, ip: str, policy: LoginPolicy, now: datetime | None = None
) -> StaffUser | None:
    """The user, or None for any failure (wrong password, unknown, disabled, locked): one generic answer."""
    now = now or utcnow()
    username = username.strip()[:64]
    user = db.scalar(select(StaffUser).where(StaffUser.username == username))
    locked = is_locked(db, username, ip, policy, now)
    ok = _verify(user.password_hash if user else _DUMMY_HASH, password)
    succeeded = bool(ok and user is not None and user.active and not locked)
    db.add(LoginAttempt(username=username, ip=ip, succeeded=succeeded, at=now))
    actor = Actor(user.id if user else None, username, ip)
    if succeeded and user is not None:
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        audit.record(db, actor, "auth.login", record_type="staff", record_id=user.id)
        return user
    reason = "locked" if locked else "disabled" if (ok and user and not user.active) else "bad_credentials"
    audit.record(
        db, actor, "auth.login_failed", record_type="staff", record_id=user.id if user else "", reason=reason
    )
    return None


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def open_session(db: Session, user: StaffUser, *, ip: str, user_agent: str) -> str:
    """Start a server-side session; returns the secret the cookie carries."""
    token = secrets.token_urlsafe(32)
    db.add(
        StaffSession(
            token_hash=_token_hash(token),
            user_id=user.id,
            auth_generation=user.auth_generation,
            ip=ip,
            user_agent=user_agent[:255],
        )
    )
    return token


def resume_session(
    db: Session, token: str, policy: LoginPolicy, now: datetime | None = None
) -> StaffUser | None:
    """The session's user if the session is alive; touches it (idle timeout)."""
    now = now or utcnow()
    session = db.scalar(select(StaffSession).where(StaffSession.token_hash == _token_hash(token)))
    if session is None or session.revoked_at is not None:
        return None
    user = session.user
    expired = now - session.last_seen_at > policy.idle or now - session.created_at > policy.absolute
    if expired or not user.active or session.auth_generation != user.auth_generation:
        session.revoked_at = now
        return None
    # Writing on every request would serialise SQLite; a minute's precision is enough.
    if now - session.last_seen_at > timedelta(minutes=1):
        session.last_seen_at = now
    return user


def close_session(db: Session, token: str) -> None:
    db.execute(
        update(StaffSession)
        .where(StaffSession.token_hash == _token_hash(token), StaffSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def create_api_token(db: Session, actor: Actor, user: StaffUser, label: str = "") -> str:
    token = "lx_" + secrets.token_urlsafe(32)
    db.add(ApiToken(token_hash=_token_hash(token), user_id=user.id, label=label))
    db.flush()
    audit.record(db, actor, "api_token.create", record_type="staff", record_id=user.id, label=label)
    return token


def live_api_token(db: Session, token: str) -> ApiToken | None:
    """The token's row, marked as used now; None when unknown, revoked, or its user is disabled."""
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    row.last_used_at = utcnow()
    return row


def api_tokens(db: Session, user: StaffUser | None = None) -> list[ApiToken]:
    """Every token (revoked ones too), newest first; ``user``'s only when given."""
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return list(db.scalars(query))


def find_api_token(db: Session, reference: str) -> ApiToken | None:
    """By the id `api_tokens` shows, or by the token itself (only its hash is stored)."""
    reference = reference.strip()
    if reference.isdecimal():
        return db.get(ApiToken, int(reference))
    return db.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(reference)))


def revoke_api_token(db: Session, actor: Actor, token: ApiToken) -> bool:
    """False when it was already revoked (nothing changes, nothing is audited)."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    audit.record(
        db, actor, "api_token.revoke", record_type="staff", record_id=token.user_id, token_id=token.id
    )
    return True


def revoke_api_tokens(db: Session, actor: Actor, user: StaffUser) -> int:
    result = db.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    revoked = int(getattr(result, "rowcount", 0) or 0)
    audit.record(db, actor, "api_token.revoke", record_type="staff", record_id=user.id, count=revoked)
    return revoked
