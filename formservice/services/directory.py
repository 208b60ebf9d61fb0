"""Loading the directory file (SPEC §9): idempotent, removed entries are deactivated."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from ..domain.groups import possible_groups, settle
from ..extensions import db
from ..models import BusGroup, Huvudman, Unit, User
from ..models.directory import unit_groups
from . import audit

HUVUDMAN_TYPES = {"kommun", "region", "fristaende", "fristående"}
UNIT_TYPES = {
    "forskola", "grundskola", "gymnasium", "elevhalsa", "socialtjanst", "lss",
    "bup", "hab", "bvc", "mvc", "vardcentral", "annan",
}  # fmt: skip


class DirectoryError(ValueError):
    """The file does not follow the format; the message says where, in Swedish."""


@dataclass
class ImportSummary:
    changes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)


class _Importer:
    def __init__(self) -> None:
        self.summary = ImportSummary()
        self.people: dict[str, User] = {}

    def person(self, entry: Any, where: str) -> User:
        if not isinstance(entry, dict) or "email" not in entry or "name" not in entry:
            raise DirectoryError(f"{where}: ange name och email.")
        try:
            email = validate_email(str(entry["email"]), check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise DirectoryError(f"{where}: ogiltig e-postadress.") from exc
        email = email.lower()
        user = self.people.get(email) or db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, name=str(entry["name"]), active=True)
            db.session.add(user)
            self.summary.changes.append(f"ny person {email}")
        self._set(user, name=str(entry["name"]), active=True)
        self.people[email] = user
        return user

    def _set(self, obj: Any, **values: Any) -> None:
        for key, value in values.items():
            if getattr(obj, key) != value:
                setattr(obj, key, value)
                self.summary.changes.append(f"{obj.__tablename__} {obj.id} {key}")

    def upsert(self, model: type, key: str, **values: Any) -> Any:
        obj = db.session.get(model, key)
        if obj is None:
            obj = model(id=key)
            db.session.add(obj)
            self.summary.changes.append(f"ny {model.__tablename__} {key}")
        self._set(obj, active=True, **values)
        return obj


def import_directory(data: Any, actor: str = "system") -> ImportSummary:
    """Apply a parsed directory file in one transaction."""
    if not isinstance(data, dict):
        raise DirectoryError("Filen ska vara ett YAML-dokument med nycklarna huvudman, units ...")
    imp = _Importer()
    seen_huvudman = _huvudman(imp, data.get("huvudman") or [])
    seen_groups = _groups(imp, data.get("bus_groups") or [])
    seen_units = _units(imp, data.get("units") or [], seen_huvudman, seen_groups)
    secretariat = {
        imp.person(e, f"secretariat[{i}]").email
        for i, e in enumerate(data.get("secretariat") or [])
    }
    admins = {imp.person(e, f"admins[{i}]").email for i, e in enumerate(data.get("admins") or [])}
    for user in db.session.scalars(select(User)):
        imp._set(user, is_secretariat=user.email in secretariat, is_admin=user.email in admins)
    _deactivate(imp, Huvudman, seen_huvudman)
    _deactivate(imp, BusGroup, seen_groups)
    _deactivate(imp, Unit, seen_units)
    for user in db.session.scalars(select(User).where(User.active)):
        if user.email not in imp.people:
            imp._set(user, active=False)
    audit.record(actor, "directory.imported", changes=len(imp.summary.changes))
    db.session.commit()
    return imp.summary


def _entries(items: Any, name: str) -> list[dict]:
    if not isinstance(items, list) or not all(isinstance(i, dict) and i.get("id") for i in items):
        raise DirectoryError(f"{name}: varje post behöver ett id.")
    for item in items:
        if not item.get("name"):
            raise DirectoryError(f"{name} {item['id']}: ange name.")
    return items


def _huvudman(imp: _Importer, items: Any) -> set[str]:
    for entry in _entries(items, "huvudman"):
        if entry.get("type") not in HUVUDMAN_TYPES:
            raise DirectoryError(f"huvudman {entry['id']}: okänd typ {entry.get('type')!r}.")
        imp.upsert(Huvudman, str(entry["id"]), name=str(entry["name"]), type=entry["type"])
    return {str(e["id"]) for e in items}


def _groups(imp: _Importer, items: Any) -> set[str]:
    for entry in _entries(items, "bus_groups"):
        gid = str(entry["id"])
        imp.upsert(
            BusGroup,
            gid,
            name=str(entry["name"]),
            convener_id=_person_id(imp, entry.get("convener"), f"bus_groups {gid} convener"),
            secretary_id=_person_id(imp, entry.get("secretary"), f"bus_groups {gid} secretary"),
            bus_individ_convener_unit_id=entry.get("bus_individ_convener_unit"),
            bus_individ_chair_unit_id=entry.get("bus_individ_chair_unit"),
            answer_days=entry.get("answer_days"),
        )
    return {str(e["id"]) for e in items}


def _person_id(imp: _Importer, entry: Any, where: str) -> int | None:
    if entry is None:
        return None
    user = imp.person(entry, where)
    db.session.flush()
    return user.id


def _units(imp: _Importer, items: Any, huvudman: set[str], groups: set[str]) -> set[str]:
    for entry in _entries(items, "units"):
        uid = str(entry["id"])
        if entry.get("huvudman") not in huvudman:
            raise DirectoryError(f"units {uid}: okänd huvudman {entry.get('huvudman')!r}.")
        if entry.get("type") not in UNIT_TYPES:
            raise DirectoryError(f"units {uid}: okänd typ {entry.get('type')!r}.")
        unknown = set(entry.get("bus_groups") or []) - groups
        if unknown:
            raise DirectoryError(f"units {uid}: okänd BUS-grupp {sorted(unknown)}.")
        unit = imp.upsert(
            Unit,
            uid,
            name=str(entry["name"]),
            huvudman_id=entry["huvudman"],
            type=entry["type"],
            chef_id=_person_id(imp, entry.get("chef"), f"units {uid} chef"),
        )
        deputies = [imp.person(d, f"units {uid} deputies") for d in entry.get("deputies") or []]
        wanted_groups = [db.session.get(BusGroup, g) for g in entry.get("bus_groups") or []]
        if {u.email for u in unit.deputies} != {d.email for d in deputies}:
            unit.deputies = deputies
            imp.summary.changes.append(f"units {uid} deputies")
        if {g.id for g in unit.groups} != {g.id for g in wanted_groups}:
            unit.groups = wanted_groups
            imp.summary.changes.append(f"units {uid} bus_groups")
    return {str(e["id"]) for e in items}


def _deactivate(imp: _Importer, model: type, seen: set[str]) -> None:
    for obj in db.session.scalars(select(model).where(model.active)):
        if obj.id not in seen:
            imp._set(obj, active=False)


def active_units(ids: Iterable[str] | None = None) -> list[Unit]:
    """The active units by name; only those in `ids` when given."""
    query = select(Unit).where(Unit.active).order_by(Unit.name)
    if ids is not None:
        query = query.where(Unit.id.in_(ids))
    return list(db.session.scalars(query))


def groups_of_units(unit_ids: Iterable[str]) -> dict[str, dict[str, str]]:
    """Each unit's active local BUS groups as {group id: name}, in one query; a unit in no
    group is left out."""
    query = (
        select(unit_groups.c.unit_id, BusGroup.id, BusGroup.name)
        .join(BusGroup, BusGroup.id == unit_groups.c.group_id)
        .where(unit_groups.c.unit_id.in_(list(unit_ids)), BusGroup.active)
    )
    found: dict[str, dict[str, str]] = {}
    for unit_id, group_id, name in db.session.execute(query):
        found.setdefault(unit_id, {})[group_id] = name
    return found


def group_choices(unit_id: str | None, other_unit_id: str | None = None) -> list[tuple[str, str]]:
    """The groups a case of `unit_id` may belong to (with `other_unit_id`: a deviation's
    receiving unit; `domain.groups`), as (id, name) by name. The forms ask "BUS-grupp" when
    there is more than one."""
    if not unit_id:
        return []
    found = groups_of_units([u for u in (unit_id, other_unit_id) if u])
    own, other = found.get(unit_id, {}), found.get(other_unit_id or "", {})
    names = own | other
    possible = possible_groups(own.keys(), other.keys())
    return sorted(((g, names[g]) for g in possible), key=lambda option: (option[1], option[0]))


def group_of(unit_id: str, choice: str | None) -> str | None:
    """The local BUS group of a SIP meeting or BUS-individ record that the unit initiates:
    one of the unit's groups (`domain.groups.settle`: raises `GroupNotChosen`)."""
    found = groups_of_units([unit_id]).get(unit_id, {})
    return settle(found.keys(), frozenset(), choice)


def secretariat() -> list[User]:
    """The BUS-sekretariat's active people."""
    return list(db.session.scalars(select(User).where(User.is_secretariat, User.active)))


def group_people(group_id: str | None, role: str) -> list[User]:
    """The group's "secretary" or "convener" (`role`) as a list of at most one: none when the
    group or the person is inactive."""
    group = db.session.get(BusGroup, group_id) if group_id else None
    person = getattr(group, role) if group is not None and group.active else None
    return [person] if person is not None and person.active else []


def unit_names(unit_ids: Iterable[str | None]) -> dict[str, str]:
    """{unit id: name} of the given units, in one query (a removed unit is left out)."""
    wanted = {unit_id for unit_id in unit_ids if unit_id}
    if not wanted:
        return {}
    return dict(db.session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(wanted))).all())
