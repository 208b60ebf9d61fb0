"""The directory file (SPEC §9) both ways: export → import changes nothing, on the demo
directory, after the administrator's changes and on directories built by hypothesis; the
preview changes nothing; `formservice directory export` (both databases)."""

from __future__ import annotations

import copy

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from formservice.cli import main
from formservice.domain.directory import (
    HUVUDMAN_TYPES,
    UNIT_TYPES,
    GroupInput,
    HuvudmanInput,
    PersonInput,
    UnitInput,
)
from formservice.extensions import db
from formservice.models import AuditEvent, BusGroup, Unit
from formservice.services import directory as directory_service
from formservice.services.directory import DirectoryError, import_directory
from tests.support.app import reset_database
from tests.support.paths import DEMO_DIRECTORY

from .helpers import ADMIN, CHEF_B, user

DEMO = yaml.safe_load(DEMO_DIRECTORY.read_text(encoding="utf-8"))
TABLES = ["huvudman", "bus_groups", "units", "users", "unit_groups", "unit_deputies"]


def rows() -> dict[str, list[tuple]]:
    """Every row of the directory tables, in a stable order."""
    db.session.expire_all()
    snapshot = {}
    for name in TABLES:
        table = db.metadata.tables[name]
        query = select(table).order_by(*table.primary_key.columns)
        snapshot[name] = [tuple(row) for row in db.session.execute(query)]
    return snapshot


def assert_round_trip() -> None:
    """Export, import the export: no change, no row different; the export again the same."""
    before, exported = rows(), directory_service.export_directory()
    text = directory_service.dump(exported)
    summary = import_directory(yaml.safe_load(text))
    assert summary.changes == []
    assert rows() == before
    assert directory_service.export_directory() == exported


def test_the_demo_directory_round_trips(app):
    import_directory(copy.deepcopy(DEMO))
    assert_round_trip()
    exported = directory_service.export_directory()
    assert {u["id"] for u in exported["units"]} == {u["id"] for u in DEMO["units"]}
    assert exported["admins"] == DEMO["admins"] and "people" not in exported


def test_the_administrators_changes_round_trip(directory):
    admin = user(ADMIN)
    directory_service.add_person(
        admin, PersonInput("Nora Ny", "nora.ny@stad.example")
    )  # no role yet
    directory_service.deactivate_person(admin, user(CHEF_B).id)  # BUP Farsta loses its chef
    directory_service.save_huvudman(admin, None, HuvudmanInput("Friskolan AB", "fristaende"))
    group = directory_service.save_group(
        admin,
        None,
        GroupInput(
            "Lokal BUS Farsta",
            secretary="nora.ny@stad.example",
            answer_days=40,
            answer_day_kind="arbetsdagar",
            meetings_per_term=3,
        ),
    ).object
    directory_service.save_unit(
        admin,
        None,
        UnitInput(
            "Friskolan",
            "friskolan-ab",
            "grundskola",
            (group.id, "skarpnack"),
            chef="nora.ny@stad.example",
            deputies=("per.ersatt@region.example",),
        ),
    )
    current = directory_service.group_input(db.session.get(BusGroup, "skarpnack"))
    directory_service.save_group(
        admin, "skarpnack", GroupInput(**(vars(current) | {"active": False}))
    )
    hc = directory_service.unit_input(db.session.get(Unit, "hc-soderstaden"))
    directory_service.save_unit(
        admin, "hc-soderstaden", UnitInput(**(vars(hc) | {"active": False}))
    )
    assert_round_trip()
    exported = directory_service.export_directory()
    assert "hc-soderstaden" not in {u["id"] for u in exported["units"]}
    assert "skarpnack" not in {g["id"] for g in exported["bus_groups"]}
    farsta = next(g for g in exported["bus_groups"] if g["id"] == group.id)
    assert (farsta["answer_days"], farsta["meetings_per_term"]) == (40, 3)
    assert farsta["answer_day_kind"] == "arbetsdagar"
    others = [g for g in exported["bus_groups"] if g["id"] != group.id]
    assert all("answer_day_kind" not in g for g in others)  # kalenderdagar is the default


# --- directories built by hypothesis -----------------------------------------------------------

PEOPLE = [f"person{n}@stad.example" for n in range(8)]
NAMES = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzåäöÅÄÖ -"), min_size=1, max_size=20
).filter(str.strip)


@st.composite
def directories(draw) -> dict:
    names = {email: draw(NAMES) for email in PEOPLE}

    def person() -> dict:
        email = draw(st.sampled_from(PEOPLE))
        return {"name": names[email], "email": email}

    huvudman_ids = draw(st.lists(st.sampled_from(["h1", "h2", "h3"]), min_size=1, unique=True))
    group_ids = draw(st.lists(st.sampled_from(["g1", "g2", "g3"]), unique=True))
    unit_ids = draw(st.lists(st.sampled_from([f"u{n}" for n in range(6)]), unique=True))
    groups = []
    for gid in group_ids:
        entry = {"id": gid, "name": draw(NAMES)}
        for key in ("convener", "secretary"):
            if draw(st.booleans()):
                entry[key] = person()
        for key in ("bus_individ_convener_unit", "bus_individ_chair_unit"):
            if unit_ids and draw(st.booleans()):
                entry[key] = draw(st.sampled_from(unit_ids))
        if draw(st.booleans()):
            entry["answer_days"] = draw(st.integers(1, 365))
        if draw(st.booleans()):
            entry["answer_day_kind"] = draw(st.sampled_from(["kalenderdagar", "arbetsdagar"]))
        if draw(st.booleans()):
            entry["meetings_per_term"] = draw(st.integers(1, 4))
        groups.append(entry)
    units = []
    for uid in unit_ids:
        entry = {
            "id": uid,
            "name": draw(NAMES),
            "huvudman": draw(st.sampled_from(huvudman_ids)),
            "type": draw(st.sampled_from(sorted(UNIT_TYPES))),
            "bus_groups": draw(st.lists(st.sampled_from(group_ids), unique=True))
            if group_ids
            else [],
        }
        if draw(st.booleans()):
            entry["chef"] = person()
        entry["deputies"] = draw(st.lists(st.builds(person), max_size=2))
        units.append(entry)
    data = {
        "huvudman": [
            {"id": h, "name": draw(NAMES), "type": draw(st.sampled_from(sorted(HUVUDMAN_TYPES)))}
            for h in huvudman_ids
        ],
        "secretariat": draw(st.lists(st.builds(person), max_size=2)),
        "bus_groups": groups,
        "units": units,
        "admins": draw(st.lists(st.builds(person), max_size=2)),
    }
    if draw(st.booleans()):
        data["people"] = draw(st.lists(st.builds(person), max_size=3))
    return data


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(first=directories(), second=directories())
def test_any_directory_round_trips_even_after_another(app, first, second):
    """Import one directory, then another (so rows are deactivated, people leave roles and
    come back), and export → import changes nothing."""
    db.session.remove()  # the last example's reads end before the tables are emptied
    reset_database(app)
    import_directory(copy.deepcopy(first))
    assert_round_trip()
    import_directory(copy.deepcopy(second))
    assert_round_trip()
    exported = directory_service.export_directory()
    assert {u["id"] for u in exported["units"]} == {u["id"] for u in second["units"]}
    assert {g["id"] for g in exported["bus_groups"]} == {g["id"] for g in second["bus_groups"]}


# --- preview, refusals, the command ------------------------------------------------------------


def test_the_preview_changes_nothing_and_says_what_the_import_will(directory):
    changed = copy.deepcopy(DEMO)
    changed["units"] = [u for u in changed["units"] if u["id"] != "hc-soderstaden"]
    bup = next(u for u in changed["units"] if u["id"] == "bup-farsta")
    bup["name"] = "BUP Farsta-Skarpnäck"
    bup["deputies"] = [{"name": "Nora Ny", "email": "nora.ny@stad.example"}]
    before, audited = rows(), db.session.scalar(select(db.func.count(AuditEvent.id)))
    preview = directory_service.preview_directory(
        copy.deepcopy(changed), user(ADMIN), keep_admin=user(ADMIN)
    )
    assert rows() == before
    assert db.session.scalar(select(db.func.count(AuditEvent.id))) == audited
    seen = {(c.kind, c.entity, c.name, c.fields) for c in preview.changes}
    assert ("added", "user", "Nora Ny", ()) in seen
    assert ("changed", "unit", "BUP Farsta-Skarpnäck", ("name", "deputies")) in seen
    assert ("deactivated", "unit", "HC Söderstaden", ()) in seen
    assert ("deactivated", "user", "Per Ersatt", ()) in seen
    assert ("deactivated", "user", "Hanna Habilitering", ()) in seen

    applied = import_directory(copy.deepcopy(changed), user(ADMIN), keep_admin=user(ADMIN))
    # the same changes (a new person's id aside: PostgreSQL does not give a sequence back)
    assert [(c.kind, c.entity, c.name, c.fields) for c in applied.changes] == [
        (c.kind, c.entity, c.name, c.fields) for c in preview.changes
    ]
    assert not db.session.get(Unit, "hc-soderstaden").active
    actions = {
        e.action for e in db.session.scalars(select(AuditEvent).where(AuditEvent.actor == ADMIN))
    }
    assert {"directory.imported", "unit.changed", "unit.deactivated", "user.added"} <= actions


def test_a_file_that_removes_the_importing_administrator_is_refused(directory):
    without = copy.deepcopy(DEMO)
    without["admins"] = [{"name": "Nils Ny", "email": "nils.ny@stad.example"}]
    before = rows()
    for attempt in (directory_service.preview_directory, import_directory):
        with pytest.raises(DirectoryError, match="din egen behörighet som systemförvaltare"):
            attempt(copy.deepcopy(without), user(ADMIN), keep_admin=user(ADMIN))
        assert rows() == before


def test_directory_export_command_writes_a_file_that_imports_with_no_change(directory, tmp_path):
    runner = directory.test_cli_runner()
    printed = runner.invoke(main, ["directory", "export"])
    assert printed.exit_code == 0, printed.output
    assert yaml.safe_load(printed.stdout) == directory_service.export_directory()
    target = tmp_path / "katalog.yaml"
    written = runner.invoke(main, ["directory", "export", str(target)])
    assert written.exit_code == 0, written.output
    assert f"Katalogen är exporterad till {target}." in written.stdout
    before = rows()
    again = runner.invoke(main, ["directory", "import", str(target)])
    assert again.exit_code == 0, again.output
    assert "Katalogen är inläst: 0 ändringar." in again.stdout
    assert rows() == before
    exports = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "directory.exported")
    ).all()
    assert len(exports) == 2 and {e.actor for e in exports} == {"system"}


# --- hostile files: a refusal that says where, never another error, nothing written -----------

FIELDS = [
    "id", "name", "type", "email", "huvudman", "bus_groups", "chef", "deputies", "convener",
    "secretary", "bus_individ_convener_unit", "bus_individ_chair_unit", "answer_days",
    "answer_day_kind", "meetings_per_term",
]  # fmt: skip
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.text(max_size=90)
    | st.sampled_from(["", "\x00", "a" * 300, "ines.sved@region.example", "skarpnack", "bup"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(FIELDS), inner),
    max_leaves=8,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    section=st.sampled_from(["huvudman", "secretariat", "bus_groups", "units", "admins", "people"]),
    index=st.integers(0, 4),
    field=st.sampled_from(FIELDS),
    value=VALUES,
)
@example(section="units", index=0, field="name", value="BUP \x00")  # no database stores NUL
@example(section="units", index=1, field="huvudman", value=["a"])  # not a key of anything
@example(section="bus_groups", index=0, field="bus_individ_chair_unit", value="u" * 300)
def test_a_hostile_file_is_refused_with_a_reason_or_read(directory, section, index, field, value):
    """The demo file with one value replaced by anything YAML can hold."""
    data = copy.deepcopy(DEMO)
    entries = data.setdefault(section, [])
    if index < len(entries) and isinstance(entries[index], dict):
        entries[index][field] = value
    else:
        data[section] = value
    db.session.remove()
    before = rows()
    try:
        directory_service.preview_directory(data, user(ADMIN), keep_admin=user(ADMIN))
    except DirectoryError as refused:
        assert str(refused).strip()
    assert rows() == before
