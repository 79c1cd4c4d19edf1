"""Identifiers are encrypted at rest, found through the blind index, and masked on display."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import privacy
from bot.models import AuditEvent
from bot.services import audit, residents
from tests.factories import make_resident, valid_id_number


def test_identifiers_are_not_stored_in_plaintext(db: Session) -> None:
    person = make_resident(db, id_number=valid_id_number(7), phone="13812345678")
    raw = db.execute(text("SELECT id_number, phone FROM residents WHERE id = :id"), {"id": person.id}).one()
    for blob, plain in zip(raw, ("231222", "13812345678"), strict=True):
        assert plain.encode() not in bytes(blob)
    db.expire_all()
    assert residents.find_by_id_number(db, valid_id_number(7).lower()).phone == "13812345678"  # type: ignore[union-attr]


def test_same_id_number_cannot_be_stored_twice(db: Session) -> None:
    make_resident(db, id_number=valid_id_number(8))
    with pytest.raises(IntegrityError):
        make_resident(db, id_number=valid_id_number(8))


def test_wrong_key_cannot_decrypt() -> None:
    blob = privacy.Vault("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVowMTIzNDU=").encrypt("13812345678")
    with pytest.raises(privacy.DecryptionError):
        privacy.Vault("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=").decrypt(blob)
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(privacy.DecryptionError):
        privacy.Vault("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVowMTIzNDU=").decrypt(tampered)


def test_masks() -> None:
    assert privacy.mask_phone("13812341234") == "138****1234"
    assert privacy.mask_id_number("23122219800517123X") == "231222********123X"
    assert privacy.mask_name("张三丰") == "张*丰"
    assert privacy.mask_phone(None) == ""


def test_audit_log_is_append_only(db: Session) -> None:
    event = audit.record(db, audit.SYSTEM, "test.event", record_type="x", record_id=1)
    db.commit()
    event.action = "rewritten"
    with pytest.raises(PermissionError):
        db.flush()
    db.rollback()
    stored = db.get(AuditEvent, event.id)
    assert stored is not None and stored.action == "test.event"
    db.delete(stored)
    with pytest.raises(PermissionError):
        db.flush()
