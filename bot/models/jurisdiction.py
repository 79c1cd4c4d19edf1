"""County → township/street → police station."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, Timestamps, str_enum
from bot.models.enums import JurisdictionKind


class Jurisdiction(Timestamps, Base):
    __tablename__ = "jurisdictions"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    kind: Mapped[JurisdictionKind] = mapped_column(str_enum(JurisdictionKind))
    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(String(40), unique=True)

    parent: Mapped[Jurisdiction | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<Jurisdiction {self.kind.value} {self.name}>"
