"""The directory (SPEC §2, §9): huvudman, local BUS groups, units, people and the
BUS-sekretariat's mailboxes.

The admin pages and the directory file change it through the same functions (`_apply_*`,
`_set_*_active`, `_deactivate_person`), so they cannot disagree. A page saves one input in one
transaction with an audit event per changed row; `import_directory` applies a whole file in one
transaction and deactivates what the file no longer names (nothing is ever deleted);
`preview_directory` computes the same changes in a transaction that is rolled back.
`export_directory` is the inverse of the import: importing an export changes nothing.

One rule keeps that true: active units and groups name only active people, and only active
people are administrators or secretariat mailboxes. Deactivating a person therefore takes them
out of those roles, as an import of a file without them does; an inactive unit or group keeps
its people as history.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, overload

import yaml
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from ..domain.deadlines import CALENDAR_DAYS, DAY_KINDS
from ..domain.deviation import slug
from ..domain.directory import (
    MAX_ANSWER_DAYS,
    MAX_EMAIL,
    MAX_ID,
    MAX_NAME,
    MIN_ANSWER_DAYS,
    UNIT_TYPES,
    GroupInput,
    HuvudmanInput,
    ListQuery,
    Page,
    PersonInput,
    UnitInput,
    huvudman_type,
)
from ..domain.groups import possible_groups, settle
from ..domain.meetings import MAX_MEETINGS_PER_TERM, MEETINGS_PER_HALF
from ..extensions import db
from ..models import BusGroup, Huvudman, Unit, User
from ..models.directory import unit_deputies, unit_groups
from . import audit

#: A directory model with an id, a name and an active flag.
Named = TypeVar("Named", Huvudman, BusGroup, Unit)

PAGE_SIZE = 50
ADDED, CHANGED, ACTIVATED, DEACTIVATED = "added", "changed", "activated", "deactivated"
_ENTITIES = {"huvudman": "huvudman", "bus_groups": "bus_group", "units": "unit", "users": "user"}
#: Model attribute -> the name of the field in the directory file and on the admin forms.
_FIELDS = {
    "huvudman_id": "huvudman",
    "chef_id": "chef",
    "convener_id": "convener",
    "secretary_id": "secretary",
    "bus_individ_convener_unit_id": "bus_individ_convener_unit",
    "bus_individ_chair_unit_id": "bus_individ_chair_unit",
    "is_admin": "admins",
    "is_secretariat": "secretariat",
}
_ORDER = {ADDED: 0, CHANGED: 1, ACTIVATED: 2, DEACTIVATED: 3}
_ENTITY_ORDER = {"huvudman": 0, "bus_group": 1, "unit": 2, "user": 3}
HEADER = "# Katalogfil för BUS-formservice (formatet i SPEC §9).\n"

T = TypeVar("T")


class DirectoryError(ValueError):
    """A change the directory's rules refuse; the message says why, in Swedish. `field`
    names the field of the file entry or admin form it concerns, when one does."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Change:
    """One row added, changed, activated or deactivated; `fields` are the names of the
    changed fields (as in the directory file)."""

    kind: str
    entity: str
    object_id: str
    name: str
    email: str | None = None
    fields: tuple[str, ...] = ()


@dataclass
class ImportSummary:
    changes: list[Change] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def of_kind(self, kind: str) -> list[Change]:
        return [c for c in self.changes if c.kind == kind]


@dataclass(frozen=True)
class Saved(Generic[T]):
    """What an admin page saved, and what changed (nothing: no audit event, no commit)."""

    object: T
    changes: list[Change]


@dataclass
class _Touched:
    obj: Any
    added: bool = False
    fields: list[str] = field(default_factory=list)


class _Log:
    """The changes of one transaction, one entry per row."""

    def __init__(self) -> None:
        self.touched: dict[int, _Touched] = {}

    def _entry(self, obj: Any) -> _Touched:
        return self.touched.setdefault(id(obj), _Touched(obj))

    def added(self, obj: Any) -> None:
        self._entry(obj).added = True

    def mark(self, obj: Any, name: str) -> None:
        entry = self._entry(obj)
        if name not in entry.fields:
            entry.fields.append(name)

    def set(self, obj: Any, attribute: str, value: Any) -> None:
        if getattr(obj, attribute) != value:
            setattr(obj, attribute, value)
            self.mark(obj, _FIELDS.get(attribute, attribute))

    def finish(self) -> list[Change]:
        db.session.flush()  # new rows get their ids
        changes = []
        for entry in self.touched.values():
            if not entry.added and not entry.fields:
                continue
            obj, fields = entry.obj, [f for f in entry.fields if f != "active"]
            if entry.added:
                kind, fields = ADDED, []
            elif "active" in entry.fields:
                kind = ACTIVATED if obj.active else DEACTIVATED
            else:
                kind = CHANGED
            entity = _ENTITIES[obj.__tablename__]
            email = obj.email if entity == "user" else None
            changes.append(Change(kind, entity, str(obj.id), obj.name, email, tuple(fields)))
        changes.sort(key=lambda c: (_ORDER[c.kind], _ENTITY_ORDER[c.entity], c.name, c.object_id))
        return changes


def _record(actor: User | str, changes: Iterable[Change]) -> None:
    for change in changes:
        action = f"{change.entity}.{change.kind}"
        audit.record(actor, action, change.entity, change.object_id, fields=list(change.fields))


# --- the rules, shared by the admin pages and the directory file ------------------------------


def _name(value: str) -> str:
    name = value.strip()
    if not name:
        raise DirectoryError("ange ett namn.", "name")
    if len(name) > MAX_NAME:
        raise DirectoryError(f"namnet får ha högst {MAX_NAME} tecken.", "name")
    if "\x00" in name:  # no database stores it
        raise DirectoryError("namnet innehåller ett otillåtet tecken (NUL).", "name")
    return name


def _unit_id(value: str | None, field_name: str) -> str | None:
    """An optional unit id as a group names it (checked only for what can be stored)."""
    if value and (len(value) > MAX_ID or "\x00" in value):
        raise DirectoryError(f"okänt id för en verksamhet: {value[:MAX_ID]!r}.", field_name)
    return value or None


def normal_email(value: str, field_name: str = "email") -> str:
    """An e-mail address as the directory stores it (validated, lower case)."""
    text = value.strip()
    if len(text) > MAX_EMAIL:
        raise DirectoryError("ogiltig e-postadress.", field_name)
    try:
        return validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise DirectoryError("ogiltig e-postadress.", field_name) from exc


def _user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def _active_person(email: str, field_name: str, known: Mapping[str, User]) -> User:
    address = normal_email(email, field_name)
    user = known.get(address) or _user_by_email(address)
    if user is None or not user.active:
        raise DirectoryError(
            f"det finns ingen aktiv person med e-postadressen {address}. "
            "Lägg till personen under Personer först.",
            field_name,
        )
    return user


def _apply_person(log: _Log, data: PersonInput, user: User | None = None) -> User:
    """Create or update a person: the given `user` (an edit, which may change the address),
    else the one with the e-mail address, else a new person."""
    email, name = normal_email(data.email), _name(data.name)
    owner = _user_by_email(email)
    if user is None:
        user = owner
        if user is None:
            user = User(email=email, name=name, active=True)
            db.session.add(user)
            log.added(user)
    elif owner is not None and owner is not user:
        raise DirectoryError("en annan person har redan den e-postadressen.", "email")
    log.set(user, "email", email)
    log.set(user, "name", name)
    return user


def _deactivate_person(log: _Log, user: User) -> None:
    """Inactive, and out of every role in the active units and groups: no access, no mail."""
    for unit in db.session.scalars(select(Unit).where(Unit.active, Unit.chef_id == user.id)):
        log.set(unit, "chef_id", None)
    deputy_of = select(unit_deputies.c.unit_id).where(unit_deputies.c.user_id == user.id)
    for unit in db.session.scalars(select(Unit).where(Unit.active, Unit.id.in_(deputy_of))):
        unit.deputies = [d for d in unit.deputies if d.id != user.id]
        log.mark(unit, "deputies")
    leads = or_(BusGroup.convener_id == user.id, BusGroup.secretary_id == user.id)
    for group in db.session.scalars(select(BusGroup).where(BusGroup.active, leads)):
        if group.convener_id == user.id:
            log.set(group, "convener_id", None)
        if group.secretary_id == user.id:
            log.set(group, "secretary_id", None)
    log.set(user, "is_admin", False)
    log.set(user, "is_secretariat", False)
    log.set(user, "active", False)


def _apply_huvudman(
    log: _Log, huvudman: Huvudman | None, data: HuvudmanInput, key: str
) -> Huvudman:
    name, kind = _name(data.name), huvudman_type(data.type)
    if kind is None:
        raise DirectoryError(f"okänd typ {data.type!r}.", "type")
    if huvudman is None:
        huvudman = Huvudman(id=key, name=name, type=kind, active=True)
        db.session.add(huvudman)
        log.added(huvudman)
    log.set(huvudman, "name", name)
    log.set(huvudman, "type", kind)
    _set_huvudman_active(log, huvudman, data.active)
    return huvudman


def _set_huvudman_active(log: _Log, huvudman: Huvudman, active: bool) -> None:
    if not active and huvudman.active:
        query = select(func.count(Unit.id)).where(Unit.huvudman_id == huvudman.id, Unit.active)
        count = db.session.scalar(query)
        if count:
            raise DirectoryError(
                f"huvudmannen har {count} aktiva verksamheter. Inaktivera dem eller flytta "
                "dem till en annan huvudman först.",
                "active",
            )
    log.set(huvudman, "active", active)


def _number(value: int | None, field_name: str, low: int, high: int, what: str) -> int | None:
    if value is not None and not low <= value <= high:
        raise DirectoryError(f"ange {what} från {low} till {high}.", field_name)
    return value


def _apply_group(
    log: _Log,
    group: BusGroup | None,
    data: GroupInput,
    key: str,
    known: Mapping[str, User] | None = None,
) -> BusGroup:
    known = known or {}
    name = _name(data.name)
    convener = _active_person(data.convener, "convener", known) if data.convener else None
    secretary = _active_person(data.secretary, "secretary", known) if data.secretary else None
    days = _number(
        data.answer_days, "answer_days", MIN_ANSWER_DAYS, MAX_ANSWER_DAYS, "ett antal dagar"
    )
    per_term = _number(
        data.meetings_per_term, "meetings_per_term", 1, MAX_MEETINGS_PER_TERM, "ett antal möten"
    )
    if group is None:
        group = BusGroup(id=key, name=name, active=True, meetings_per_term=MEETINGS_PER_HALF)
        db.session.add(group)
        log.added(group)
    log.set(group, "name", name)
    log.set(group, "convener_id", convener.id if convener else None)
    log.set(group, "secretary_id", secretary.id if secretary else None)
    convening = _unit_id(data.bus_individ_convener_unit, "bus_individ_convener_unit")
    chairing = _unit_id(data.bus_individ_chair_unit, "bus_individ_chair_unit")
    log.set(group, "bus_individ_convener_unit_id", convening)
    log.set(group, "bus_individ_chair_unit_id", chairing)
    log.set(group, "answer_days", days)
    log.set(group, "answer_day_kind", _day_kind(data.answer_day_kind))
    log.set(group, "meetings_per_term", per_term)
    _set_group_active(log, group, data.active)
    return group


def _day_kind(value: str) -> str:
    """ "Svarstid räknas i": a known code, else a refusal naming the field."""
    if value not in DAY_KINDS:
        raise DirectoryError("välj kalenderdagar eller arbetsdagar.", "answer_day_kind")
    return value


def _set_group_active(log: _Log, group: BusGroup, active: bool) -> None:
    """A deactivated group leaves the active units it served (an inactive unit keeps it)."""
    if not active and group.active:
        member = select(unit_groups.c.unit_id).where(unit_groups.c.group_id == group.id)
        for unit in db.session.scalars(select(Unit).where(Unit.active, Unit.id.in_(member))):
            unit.groups = [g for g in unit.groups if g.id != group.id]
            log.mark(unit, "bus_groups")
    log.set(group, "active", active)


def _apply_unit(
    log: _Log,
    unit: Unit | None,
    data: UnitInput,
    key: str,
    known: Mapping[str, User] | None = None,
) -> Unit:
    known = known or {}
    name = _name(data.name)
    if data.type not in UNIT_TYPES:
        raise DirectoryError(f"okänd typ {data.type!r}.", "type")
    huvudman = db.session.get(Huvudman, data.huvudman)
    if huvudman is None or not huvudman.active:
        raise DirectoryError(f"okänd huvudman {data.huvudman!r}.", "huvudman")
    wanted = list(dict.fromkeys(data.bus_groups))
    groups = [db.session.get(BusGroup, g) for g in wanted]
    unknown = [g for g, found in zip(wanted, groups, strict=True) if not (found and found.active)]
    if unknown:
        raise DirectoryError(f"okänd BUS-grupp {sorted(unknown)}.", "bus_groups")
    chef = _active_person(data.chef, "chef", known) if data.chef else None
    deputies = [_active_person(e, "deputies", known) for e in dict.fromkeys(data.deputies)]
    if unit is None:
        unit = Unit(id=key, name=name, huvudman_id=huvudman.id, type=data.type, active=True)
        db.session.add(unit)
        log.added(unit)
    log.set(unit, "name", name)
    log.set(unit, "huvudman_id", huvudman.id)
    log.set(unit, "type", data.type)
    log.set(unit, "chef_id", chef.id if chef else None)
    if {d.id for d in unit.deputies} != {d.id for d in deputies}:
        unit.deputies = deputies
        log.mark(unit, "deputies")
    if {g.id for g in unit.groups} != set(wanted):
        unit.groups = [g for g in groups if g is not None]
        log.mark(unit, "bus_groups")
    log.set(unit, "active", data.active)
    return unit


def _new_id(model: type[Huvudman | BusGroup | Unit], name: str, fallback: str) -> str:
    """A slug of the name that no row (active or not) has had, and not "ny" (the admin
    pages' address for a new one)."""
    taken = {"ny", *db.session.scalars(select(model.id))}
    return slug(name, taken, fallback=fallback)


# --- the admin pages: one input, one transaction with its audit events ------------------------


def _save(actor: User, apply: Callable[[_Log], T]) -> Saved[T]:
    log = _Log()
    try:
        obj = apply(log)
        changes = log.finish()
        if changes:
            _record(actor, changes)
            db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return Saved(obj, changes)


def save_huvudman(actor: User, huvudman_id: str | None, data: HuvudmanInput) -> Saved[Huvudman]:
    """Add (`huvudman_id` None) or change a huvudman; deactivating one with active units is
    refused."""

    def apply(log: _Log) -> Huvudman:
        found = db.session.get(Huvudman, huvudman_id) if huvudman_id else None
        key = huvudman_id or _new_id(Huvudman, data.name, "huvudman")
        return _apply_huvudman(log, found, data, key)

    return _save(actor, apply)


def save_group(actor: User, group_id: str | None, data: GroupInput) -> Saved[BusGroup]:
    """Add or change a local BUS group; a deactivated group leaves its active units."""

    def apply(log: _Log) -> BusGroup:
        found = db.session.get(BusGroup, group_id) if group_id else None
        key = group_id or _new_id(BusGroup, data.name, "bus-grupp")
        return _apply_group(log, found, data, key)

    return _save(actor, apply)


def save_unit(actor: User, unit_id: str | None, data: UnitInput) -> Saved[Unit]:
    """Add or change a unit (a unit is deactivated, never deleted)."""

    def apply(log: _Log) -> Unit:
        found = db.session.get(Unit, unit_id) if unit_id else None
        key = unit_id or _new_id(Unit, data.name, "verksamhet")
        return _apply_unit(log, found, data, key)

    return _save(actor, apply)


def add_person(actor: User, data: PersonInput, *, mailbox: bool = False) -> Saved[User]:
    """A new person (`mailbox`: one of the BUS-sekretariat's mailboxes). An inactive person
    with the address is activated again, with the name given; an active one is refused."""

    def apply(log: _Log) -> User:
        existing = _user_by_email(normal_email(data.email))
        if existing is not None and existing.active:
            raise DirectoryError("det finns redan en person med den e-postadressen.", "email")
        user = _apply_person(log, data)
        log.set(user, "active", True)
        if mailbox:
            log.set(user, "is_secretariat", True)
        return user

    return _save(actor, apply)


def update_person(actor: User, user_id: int, data: PersonInput) -> Saved[User]:
    """Change a person's name or e-mail address."""
    return _save(actor, lambda log: _apply_person(log, data, _person(user_id)))


def deactivate_person(actor: User, user_id: int) -> Saved[User]:
    """ "Inaktivera": the person loses every role and all access at once (their session
    ends at the next request: `auth` loads only active people)."""

    def apply(log: _Log) -> User:
        user = _person(user_id)
        if user.id == actor.id:
            raise DirectoryError("Du kan inte inaktivera dig själv.")
        _deactivate_person(log, user)
        return user

    return _save(actor, apply)


def activate_person(actor: User, user_id: int) -> Saved[User]:
    """Active again, with no roles: they are given under Verksamheter and BUS-grupper."""

    def apply(log: _Log) -> User:
        user = _person(user_id)
        log.set(user, "active", True)
        return user

    return _save(actor, apply)


def _person(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise LookupError(user_id)
    return user


# --- the directory file (SPEC §9) -------------------------------------------------------------


class _Importer:
    """Reads a parsed file entry by entry; people are created, renamed and activated the
    first time their address appears."""

    def __init__(self) -> None:
        self.log = _Log()
        self.people: dict[str, User] = {}

    def person(self, entry: Any, where: str) -> User:
        if not isinstance(entry, dict) or "email" not in entry or "name" not in entry:
            raise DirectoryError(f"{where}: ange name och email.")
        with _located(where):
            email = normal_email(str(entry["email"]))
            if email not in self.people:
                user = _apply_person(self.log, PersonInput(str(entry["name"]), email))
                self.log.set(user, "active", True)
                self.people[email] = user
        return self.people[email]

    def optional_person(self, entry: Any, where: str) -> str | None:
        return None if entry is None else self.person(entry, where).email


@contextmanager
def _located(where: str) -> Iterator[None]:
    """Prefix a rule's refusal with where in the file it happened."""
    try:
        yield
    except DirectoryError as exc:
        raise DirectoryError(f"{where}: {exc}", exc.field) from exc


def import_directory(
    data: Any, actor: User | str = "system", *, keep_admin: User | None = None
) -> ImportSummary:
    """Apply a parsed directory file in one transaction; `keep_admin` (the administrator
    importing in the browser) must still be an administrator afterwards."""
    try:
        summary = _import(data, actor, keep_admin)
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    return summary


def preview_directory(data: Any, actor: User, *, keep_admin: User | None = None) -> ImportSummary:
    """What `import_directory` would change, computed in a transaction that is rolled back."""
    try:
        return _import(data, actor, keep_admin)
    finally:
        db.session.rollback()


def _import(data: Any, actor: User | str, keep_admin: User | None) -> ImportSummary:
    if not isinstance(data, dict):
        raise DirectoryError("Filen ska vara ett YAML-dokument med nycklarna huvudman, units ...")
    imp = _Importer()
    seen_huvudman = _huvudman(imp, data.get("huvudman") or [])
    seen_groups = _groups(imp, data.get("bus_groups") or [])
    seen_units = _units(imp, data.get("units") or [], seen_huvudman, seen_groups)
    secretariat = {
        imp.person(e, f"secretariat[{i}]").email for i, e in enumerate(_list(data, "secretariat"))
    }
    admins = {imp.person(e, f"admins[{i}]").email for i, e in enumerate(_list(data, "admins"))}
    for i, entry in enumerate(_list(data, "people")):
        imp.person(entry, f"people[{i}]")
    for user in db.session.scalars(select(User)):
        imp.log.set(user, "is_secretariat", user.email in secretariat)
        imp.log.set(user, "is_admin", user.email in admins)
    log = imp.log
    for unit in _not_seen(Unit, seen_units):  # units first: a group or huvudman leaving
        log.set(unit, "active", False)  # the file does not take them from a unit leaving it
    for group in _not_seen(BusGroup, seen_groups):
        _set_group_active(log, group, False)
    for huvudman in _not_seen(Huvudman, seen_huvudman):
        with _located(f"huvudman {huvudman.id}"):
            _set_huvudman_active(log, huvudman, False)
    for user in db.session.scalars(select(User).where(User.active)):
        if user.email not in imp.people:
            _deactivate_person(log, user)
    changes = log.finish()
    if keep_admin is not None and not (keep_admin.active and keep_admin.is_admin):
        raise DirectoryError(
            "Filen tar bort din egen behörighet som systemförvaltare. Lägg till dig själv "
            "under admins i filen."
        )
    _record(actor, changes)
    audit.record(actor, "directory.imported", changes=len(changes))
    return ImportSummary(changes)


def _list(data: dict, key: str) -> list:
    items = data.get(key) or []
    if not isinstance(items, list):
        raise DirectoryError(f"{key}: ska vara en lista.")
    return items


def _not_seen(model: type[Named], seen: set[str]) -> list[Named]:
    return [o for o in db.session.scalars(select(model).where(model.active)) if o.id not in seen]


def _entries(items: Any, name: str) -> list[dict]:
    if not isinstance(items, list) or not all(isinstance(i, dict) and i.get("id") for i in items):
        raise DirectoryError(f"{name}: varje post behöver ett id.")
    for item in items:
        key = str(item["id"])
        if len(key) > MAX_ID or "\x00" in key or "/" in key:
            raise DirectoryError(
                f"{name} {key[:MAX_ID]!r}: ett id har högst {MAX_ID} tecken och inget snedstreck."
            )
        if not item.get("name"):
            raise DirectoryError(f"{name} {item['id']}: ange name.")
    return items


@overload
def _integer(entry: dict, key: str, where: str) -> int | None: ...
@overload
def _integer(entry: dict, key: str, where: str, default: int) -> int: ...
def _integer(entry: dict, key: str, where: str, default: int | None = None) -> int | None:
    value = entry.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise DirectoryError(f"{where}: {key} ska vara ett heltal.")
    return value


def _huvudman(imp: _Importer, items: Any) -> set[str]:
    for entry in _entries(items, "huvudman"):
        key, where = str(entry["id"]), f"huvudman {entry['id']}"
        if huvudman_type(entry.get("type")) is None:
            raise DirectoryError(f"{where}: okänd typ {entry.get('type')!r}.")
        data = HuvudmanInput(name=str(entry["name"]), type=str(entry["type"]))
        with _located(where):
            _apply_huvudman(imp.log, db.session.get(Huvudman, key), data, key)
    return {str(e["id"]) for e in items}


def _groups(imp: _Importer, items: Any) -> set[str]:
    for entry in _entries(items, "bus_groups"):
        key = str(entry["id"])
        where = f"bus_groups {key}"
        data = GroupInput(
            name=str(entry["name"]),
            convener=imp.optional_person(entry.get("convener"), f"{where} convener"),
            secretary=imp.optional_person(entry.get("secretary"), f"{where} secretary"),
            bus_individ_convener_unit=_optional_id(entry, "bus_individ_convener_unit"),
            bus_individ_chair_unit=_optional_id(entry, "bus_individ_chair_unit"),
            answer_days=_integer(entry, "answer_days", where),
            answer_day_kind=_day_kind_entry(entry, where),
            meetings_per_term=_integer(entry, "meetings_per_term", where, MEETINGS_PER_HALF),
        )
        with _located(where):
            _apply_group(imp.log, db.session.get(BusGroup, key), data, key, imp.people)
    return {str(e["id"]) for e in items}


def _day_kind_entry(entry: dict, where: str) -> str:
    """`answer_day_kind` of a group in the file: kalenderdagar (the default) or arbetsdagar."""
    value = entry.get("answer_day_kind", CALENDAR_DAYS)
    if not isinstance(value, str) or value not in DAY_KINDS:
        raise DirectoryError(f"{where}: answer_day_kind ska vara kalenderdagar eller arbetsdagar.")
    return value


def _optional_id(entry: dict, key: str) -> str | None:
    value = entry.get(key)
    return None if value is None or value == "" else str(value)


def _units(imp: _Importer, items: Any, huvudman: set[str], groups: set[str]) -> set[str]:
    for entry in _entries(items, "units"):
        uid = str(entry["id"])
        where = f"units {uid}"
        if str(entry.get("huvudman")) not in huvudman:
            raise DirectoryError(f"{where}: okänd huvudman {entry.get('huvudman')!r}.")
        if str(entry.get("type")) not in UNIT_TYPES:
            raise DirectoryError(f"{where}: okänd typ {entry.get('type')!r}.")
        wanted = entry.get("bus_groups") or []
        if not isinstance(wanted, list):
            raise DirectoryError(f"{where}: bus_groups ska vara en lista.")
        unknown = {str(g) for g in wanted} - groups
        if unknown:
            raise DirectoryError(f"{where}: okänd BUS-grupp {sorted(unknown)}.")
        deputies = entry.get("deputies") or []
        if not isinstance(deputies, list):
            raise DirectoryError(f"{where} deputies: ska vara en lista.")
        data = UnitInput(
            name=str(entry["name"]),
            huvudman=str(entry["huvudman"]),
            type=str(entry["type"]),
            bus_groups=tuple(str(g) for g in wanted),
            chef=imp.optional_person(entry.get("chef"), f"{where} chef"),
            deputies=tuple(imp.person(d, f"{where} deputies").email for d in deputies),
        )
        with _located(where):
            _apply_unit(imp.log, db.session.get(Unit, uid), data, uid, imp.people)
    return {str(e["id"]) for e in items}


def export_directory() -> dict[str, Any]:
    """Today's directory in the file's format (SPEC §9): the active rows, people by name and
    address; `people` lists the active people no other entry names."""
    named: set[int] = set()

    def person(user: User) -> dict[str, str]:
        named.add(user.id)
        return {"name": user.name, "email": user.email}

    def by_name(model: type[Named]) -> list[Named]:
        return list(
            db.session.scalars(select(model).where(model.active).order_by(model.name, model.id))
        )

    people = list(
        db.session.scalars(select(User).where(User.active).order_by(User.name, User.email))
    )
    result: dict[str, Any] = {
        "huvudman": [{"id": h.id, "name": h.name, "type": h.type} for h in by_name(Huvudman)],
        "secretariat": [person(u) for u in people if u.is_secretariat],
        "bus_groups": [_group_entry(g, person) for g in by_name(BusGroup)],
        "units": [_unit_entry(u, person) for u in _export_units()],
        "admins": [person(u) for u in people if u.is_admin],
    }
    rest = [person(u) for u in people if u.id not in named]
    if rest:
        result["people"] = rest
    return result


def _export_units() -> list[Unit]:
    query = (
        select(Unit)
        .where(Unit.active)
        .options(joinedload(Unit.chef), selectinload(Unit.deputies), selectinload(Unit.groups))
        .order_by(Unit.name, Unit.id)
    )
    return list(db.session.scalars(query).unique())


def _group_entry(group: BusGroup, person: Callable[[User], dict]) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": group.id, "name": group.name}
    if group.convener is not None and group.convener.active:
        entry["convener"] = person(group.convener)
    if group.secretary is not None and group.secretary.active:
        entry["secretary"] = person(group.secretary)
    if group.bus_individ_convener_unit_id:
        entry["bus_individ_convener_unit"] = group.bus_individ_convener_unit_id
    if group.bus_individ_chair_unit_id:
        entry["bus_individ_chair_unit"] = group.bus_individ_chair_unit_id
    if group.answer_days is not None:
        entry["answer_days"] = group.answer_days
    if group.answer_day_kind != CALENDAR_DAYS:
        entry["answer_day_kind"] = group.answer_day_kind
    if group.meetings_per_term != MEETINGS_PER_HALF:
        entry["meetings_per_term"] = group.meetings_per_term
    return entry


def _unit_entry(unit: Unit, person: Callable[[User], dict]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": unit.id,
        "name": unit.name,
        "huvudman": unit.huvudman_id,
        "type": unit.type,
        "bus_groups": sorted(g.id for g in unit.groups if g.active),
    }
    if unit.chef is not None and unit.chef.active:
        entry["chef"] = person(unit.chef)
    deputies = sorted((d for d in unit.deputies if d.active), key=lambda d: d.email)
    if deputies:
        entry["deputies"] = [person(d) for d in deputies]
    return entry


def dump(data: Mapping[str, Any]) -> str:
    """The directory file's text."""
    body = yaml.safe_dump(dict(data), allow_unicode=True, sort_keys=False, width=100)
    return HEADER + body


def export_text(actor: User | str) -> str:
    """Today's directory as a file, the export audited (it names people)."""
    text = dump(export_directory())
    audit.record(actor, "directory.exported")
    db.session.commit()
    return text


def fingerprint() -> str:
    """A digest of today's directory: a preview is applied only to the directory it saw."""
    canonical = json.dumps(export_directory(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- reading for the admin pages --------------------------------------------------------------


def _contains(column: Any, text: str) -> Any:
    return func.lower(column).contains(text.strip().lower(), autoescape=True)


def _page(query: Any, number: int) -> Page:
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    number = max(1, number)
    rows = db.session.scalars(query.limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE))
    return Page(list(rows.unique()), total or 0, number, PAGE_SIZE)


def unit_page(query: ListQuery) -> Page:
    """Units by name, with huvudman, chef and groups, one page of `PAGE_SIZE`."""
    stmt = select(Unit).options(
        joinedload(Unit.huvudman), joinedload(Unit.chef), selectinload(Unit.groups)
    )
    if not query.inactive:
        stmt = stmt.where(Unit.active)
    if query.text.strip():
        stmt = stmt.where(_contains(Unit.name, query.text))
    return _page(stmt.order_by(Unit.name, Unit.id), query.page)


def person_page(query: ListQuery) -> Page:
    """People by name, searched by name or e-mail address."""
    stmt = select(User)
    if not query.inactive:
        stmt = stmt.where(User.active)
    if query.text.strip():
        stmt = stmt.where(or_(_contains(User.name, query.text), _contains(User.email, query.text)))
    return _page(stmt.order_by(User.name, User.email), query.page)


def all_groups() -> list[BusGroup]:
    query = select(BusGroup).options(joinedload(BusGroup.convener), joinedload(BusGroup.secretary))
    return list(db.session.scalars(query.order_by(BusGroup.active.desc(), BusGroup.name)))


def all_huvudman() -> list[Huvudman]:
    query = select(Huvudman).order_by(Huvudman.active.desc(), Huvudman.name)
    return list(db.session.scalars(query))


def mailboxes() -> list[User]:
    """The BUS-sekretariat's mailboxes (all active: an inactive person is no mailbox)."""
    query = select(User).where(User.is_secretariat, User.active).order_by(User.name)
    return list(db.session.scalars(query))


def choices(model: type[Huvudman | BusGroup | Unit]) -> list[tuple[str, str]]:
    """(id, name) of the active huvudman, groups or units, by name."""
    query = select(model.id, model.name).where(model.active).order_by(model.name, model.id)
    return [(row.id, row.name) for row in db.session.execute(query)]


def active_people() -> list[tuple[str, str]]:
    """(e-mail address, name) of the active people, by name: the forms' suggestions."""
    query = select(User.email, User.name).where(User.active).order_by(User.name, User.email)
    return [(row.email, row.name) for row in db.session.execute(query)]


@dataclass(frozen=True)
class Roles:
    """What a person leads in the active directory."""

    chef_of: list[Unit]
    deputy_of: list[Unit]
    convener_of: list[BusGroup]
    secretary_of: list[BusGroup]


def roles_of(user: User) -> Roles:
    deputy = select(unit_deputies.c.unit_id).where(unit_deputies.c.user_id == user.id)
    units = select(Unit).where(Unit.active).order_by(Unit.name)
    groups = select(BusGroup).where(BusGroup.active).order_by(BusGroup.name)
    return Roles(
        chef_of=list(db.session.scalars(units.where(Unit.chef_id == user.id))),
        deputy_of=list(db.session.scalars(units.where(Unit.id.in_(deputy)))),
        convener_of=list(db.session.scalars(groups.where(BusGroup.convener_id == user.id))),
        secretary_of=list(db.session.scalars(groups.where(BusGroup.secretary_id == user.id))),
    )


def unit_input(unit: Unit) -> UnitInput:
    """A unit as the form shows it."""
    return UnitInput(
        name=unit.name,
        huvudman=unit.huvudman_id,
        type=unit.type,
        bus_groups=tuple(sorted(g.id for g in unit.groups if g.active)),
        chef=unit.chef.email if unit.chef else None,
        deputies=tuple(sorted(d.email for d in unit.deputies)),
        active=unit.active,
    )


def huvudman_input(huvudman: Huvudman) -> HuvudmanInput:
    return HuvudmanInput(name=huvudman.name, type=huvudman.type, active=huvudman.active)


def group_input(group: BusGroup) -> GroupInput:
    return GroupInput(
        name=group.name,
        convener=group.convener.email if group.convener else None,
        secretary=group.secretary.email if group.secretary else None,
        bus_individ_convener_unit=group.bus_individ_convener_unit_id,
        bus_individ_chair_unit=group.bus_individ_chair_unit_id,
        answer_days=group.answer_days,
        answer_day_kind=group.answer_day_kind,
        meetings_per_term=group.meetings_per_term,
        active=group.active,
    )


# --- the groups of a case's units -------------------------------------------------------------


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
