"""The directory: huvudman, local BUS groups and units (SPEC §9)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model, db
from .accounts import User

unit_groups = Table(
    "unit_groups",
    db.metadata,
    Column("unit_id", ForeignKey("units.id"), primary_key=True),
    Column("group_id", ForeignKey("bus_groups.id"), primary_key=True),
)

unit_deputies = Table(
    "unit_deputies",
    db.metadata,
    Column("unit_id", ForeignKey("units.id"), primary_key=True),
    Column("user_id", ForeignKey("users.id"), primary_key=True),
)


class Huvudman(Model):
    __tablename__ = "huvudman"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class BusGroup(Model):
    __tablename__ = "bus_groups"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    convener_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    secretary_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    bus_individ_convener_unit_id: Mapped[str | None] = mapped_column(String(80))
    bus_individ_chair_unit_id: Mapped[str | None] = mapped_column(String(80))
    answer_days: Mapped[int | None] = mapped_column(Integer)
    #: "Svarstid räknas i": `kalenderdagar` or `arbetsdagar` (domain.deadlines.DAY_KINDS)
    answer_day_kind: Mapped[str] = mapped_column(
        String(20), default="kalenderdagar", server_default="kalenderdagar"
    )
    #: "Möten per termin": the meeting rhythm the steering group's list suggests
    meetings_per_term: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    convener: Mapped[User | None] = relationship(foreign_keys=[convener_id])
    secretary: Mapped[User | None] = relationship(foreign_keys=[secretary_id])
    units: Mapped[list[Unit]] = relationship(secondary=unit_groups, back_populates="groups")


class Unit(Model):
    __tablename__ = "units"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    huvudman_id: Mapped[str] = mapped_column(ForeignKey("huvudman.id"))
    type: Mapped[str] = mapped_column(String(20))
    chef_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    huvudman: Mapped[Huvudman] = relationship()
    chef: Mapped[User | None] = relationship(foreign_keys=[chef_id])
    deputies: Mapped[list[User]] = relationship(secondary=unit_deputies)
    groups: Mapped[list[BusGroup]] = relationship(secondary=unit_groups, back_populates="units")

    def managers(self) -> list[User]:
        """The chef and the deputies who are active; none for a unit no longer in the
        directory, so nobody is mailed or linked for it."""
        if not self.active:
            return []
        people = [self.chef, *self.deputies] if self.chef else list(self.deputies)
        return [p for p in people if p is not None and p.active]
