"""The administrator's changes to the directory (issue 14): each one transaction with its
audit events; a refusal writes nothing; deactivation removes access at once, sessions
included (both databases)."""

from __future__ import annotations

from datetime import date

import pytest
from flask import g
from sqlalchemy import func, select

from formservice import access
from formservice.domain.directory import GroupInput, HuvudmanInput, PersonInput, UnitInput
from formservice.extensions import db
from formservice.models import AuditEvent, BusGroup, Huvudman, Unit, User
from formservice.services import directory as directory_service
from formservice.services import meetings as meetings_service
from formservice.services.accounts import authenticate
from formservice.services.directory import DirectoryError
from tests.support.accounts import PASSWORD
from tests.support.app import login

from .helpers import ADMIN, CHEF_A, CHEF_B, CONVENER, DEPUTY_B, SECRETARY, user

NEW_CHEF = "nora.ny@stad.example"


def events(action: str | None = None) -> list[AuditEvent]:
    """The administrator's events (the directory fixture's import is the system's)."""
    query = select(AuditEvent).where(AuditEvent.actor == ADMIN).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def new_unit(**overrides) -> UnitInput:
    values = dict(
        name="Fritidsgården Skarpnäck",
        huvudman="stockholms-stad",
        type="annan",
        bus_groups=("skarpnack",),
        chef=CHEF_A,
        deputies=(),
    )
    return UnitInput(**(values | overrides))


def test_adding_a_unit_is_one_transaction_with_its_audit_event(directory):
    saved = directory_service.save_unit(user(ADMIN), None, new_unit())
    unit = db.session.get(Unit, "fritidsgarden-skarpnack")
    assert unit is saved.object and unit.active and unit.chef.email == CHEF_A
    assert [g.id for g in unit.groups] == ["skarpnack"]
    (event,) = events("unit.added")
    assert (event.actor, event.object_type, event.object_id) == (ADMIN, "unit", unit.id)
    assert "fritidsgarden-skarpnack" in access.managed_unit_ids(user(CHEF_A))
    # a second unit of the same name gets an id of its own
    again = directory_service.save_unit(user(ADMIN), None, new_unit())
    assert again.object.id == "fritidsgarden-skarpnack-2"


def test_changing_a_unit_names_the_changed_fields_and_no_change_writes_nothing(directory):
    unit_input = directory_service.unit_input(db.session.get(Unit, "bup-farsta"))
    before = len(events())
    unchanged = directory_service.save_unit(user(ADMIN), "bup-farsta", unit_input)
    assert unchanged.changes == [] and len(events()) == before

    changed = UnitInput(**(vars(unit_input) | {"chef": DEPUTY_B, "deputies": (CHEF_B,)}))
    saved = directory_service.save_unit(user(ADMIN), "bup-farsta", changed)
    assert [(c.kind, c.fields) for c in saved.changes] == [("changed", ("chef", "deputies"))]
    (event,) = events("unit.changed")
    assert event.object_id == "bup-farsta" and event.detail == {"fields": ["chef", "deputies"]}
    unit = db.session.get(Unit, "bup-farsta")
    assert unit.chef.email == DEPUTY_B and [d.email for d in unit.deputies] == [CHEF_B]


def test_a_deactivated_unit_stays_but_gives_no_access(directory, client):
    login(client, CHEF_B)  # chef of BUP Farsta only
    assert client.get("/avvikelser/ny").status_code == 200
    unit_input = directory_service.unit_input(db.session.get(Unit, "bup-farsta"))
    saved = directory_service.save_unit(
        user(ADMIN), "bup-farsta", UnitInput(**(vars(unit_input) | {"active": False}))
    )
    assert [c.kind for c in saved.changes] == ["deactivated"]
    assert events("unit.deactivated")[0].object_id == "bup-farsta"
    unit = db.session.get(Unit, "bup-farsta")
    assert not unit.active and unit.chef.email == CHEF_B  # kept, as history
    assert access.managed_unit_ids(user(CHEF_B)) == set() and unit.managers() == []
    g.pop("_login_user", None)
    assert client.get("/avvikelser/ny").status_code == 403  # at once, in the open session


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"chef": NEW_CHEF}, "chef", f"ingen aktiv person med e-postadressen {NEW_CHEF}"),
        ({"deputies": ("inte en adress",)}, "deputies", "ogiltig e-postadress"),
        ({"huvudman": "region-uppsala"}, "huvudman", "okänd huvudman"),
        ({"bus_groups": ("farsta",)}, "bus_groups", "okänd BUS-grupp"),
        ({"type": "skola"}, "type", "okänd typ"),
        ({"name": "  "}, "name", "ange ett namn"),
    ],
    ids=["unknown-chef", "bad-deputy", "unknown-huvudman", "unknown-group", "bad-type", "empty"],
)
def test_a_refused_unit_writes_nothing(directory, overrides, field, message):
    before = (count(Unit), len(events()))
    with pytest.raises(DirectoryError) as refused:
        directory_service.save_unit(user(ADMIN), None, new_unit(**overrides))
    assert refused.value.field == field and message in str(refused.value)
    assert (count(Unit), len(events())) == before


def test_adding_changing_and_refusing_people(directory):
    saved = directory_service.add_person(
        user(ADMIN), PersonInput("Nora Ny", " Nora.Ny@Stad.Example ")
    )
    nora = saved.object
    assert (nora.email, nora.name, nora.active) == (NEW_CHEF, "Nora Ny", True)
    assert nora.password_hash is None and not nora.is_admin and not nora.is_secretariat
    assert events("user.added")[0].object_id == str(nora.id)

    with pytest.raises(DirectoryError) as taken:
        directory_service.add_person(user(ADMIN), PersonInput("Nora Igen", NEW_CHEF))
    assert taken.value.field == "email" and "finns redan" in str(taken.value)
    with pytest.raises(DirectoryError) as invalid:
        directory_service.add_person(user(ADMIN), PersonInput("Utan Adress", "nora(at)stad"))
    assert invalid.value.field == "email"

    renamed = directory_service.update_person(
        user(ADMIN), nora.id, PersonInput("Nora Nyström", NEW_CHEF)
    )
    assert renamed.changes[0].fields == ("name",)
    with pytest.raises(DirectoryError) as other:
        directory_service.update_person(user(ADMIN), nora.id, PersonInput("Nora Nyström", CHEF_A))
    assert other.value.field == "email" and "en annan person" in str(other.value)
    moved = directory_service.update_person(
        user(ADMIN), nora.id, PersonInput("Nora Nyström", "nora.nystrom@stad.example")
    )
    assert moved.changes[0].fields == ("email",)
    assert [e.action for e in events() if e.object_type == "user"] == [
        "user.added",
        "user.changed",
        "user.changed",
    ]


def test_deactivating_a_person_ends_every_role_and_the_open_session(directory, client):
    login(client, CHEF_B)
    assert client.get("/avvikelser/ny").status_code == 200
    chef_b = user(CHEF_B)
    directory_service.save_group(
        user(ADMIN),
        "skarpnack",
        GroupInput(
            **(
                vars(directory_service.group_input(db.session.get(BusGroup, "skarpnack")))
                | {"secretary": CHEF_B}
            )
        ),
    )
    saved = directory_service.deactivate_person(user(ADMIN), chef_b.id)
    kinds = {(c.entity, c.kind, c.object_id) for c in saved.changes}
    assert ("user", "deactivated", str(chef_b.id)) in kinds
    assert ("unit", "changed", "bup-farsta") in kinds and (
        "bus_group",
        "changed",
        "skarpnack",
    ) in kinds
    db.session.expire_all()
    chef_b = user(CHEF_B)
    assert not chef_b.active and db.session.get(Unit, "bup-farsta").chef is None
    assert db.session.get(BusGroup, "skarpnack").secretary is None
    assert access.managed_unit_ids(chef_b) == set() and access.secretary_group_ids(chef_b) == set()
    assert events("user.deactivated")[0].actor == ADMIN

    g.pop("_login_user", None)
    response = client.get("/avvikelser/ny")  # the same browser session, the next request
    assert response.status_code == 302 and "/logga-in" in response.headers["Location"]
    assert authenticate(CHEF_B, PASSWORD) is None  # and no new one

    activated = directory_service.activate_person(user(ADMIN), chef_b.id)
    assert [c.kind for c in activated.changes] == ["activated"]
    assert user(CHEF_B).active and access.managed_unit_ids(user(CHEF_B)) == set()  # no roles


def test_an_administrator_cannot_deactivate_themselves(directory):
    admin = user(ADMIN)
    with pytest.raises(DirectoryError):
        directory_service.deactivate_person(admin, admin.id)
    assert user(ADMIN).active and not events("user.deactivated")


def test_a_group_and_its_settings(directory):
    data = GroupInput(
        name="Lokal BUS Farsta",
        convener=CONVENER,
        secretary=CHEF_A,
        bus_individ_convener_unit="familjeenheten-skarpnack",
        bus_individ_chair_unit="grundskola-skarpnack",
        answer_days=45,
        meetings_per_term=3,
    )
    group = directory_service.save_group(user(ADMIN), None, data).object
    assert (group.id, group.answer_days, group.meetings_per_term) == ("lokal-bus-farsta", 45, 3)
    assert group.secretary.email == CHEF_A and events("bus_group.added")
    assert "lokal-bus-farsta" in access.secretary_group_ids(user(CHEF_A))

    suggestions = meetings_service.overview("lokal-bus-farsta", on=date(2027, 1, 10)).suggestions
    assert suggestions == [date(2027, 2, 15), date(2027, 3, 15), date(2027, 4, 15)]
    default = meetings_service.overview("skarpnack", on=date(2027, 1, 10)).suggestions
    assert default == [date(2027, 2, 15), date(2027, 4, 15)]

    for bad, field in (
        ({"answer_days": 0}, "answer_days"),
        ({"answer_day_kind": "veckor"}, "answer_day_kind"),
        ({"meetings_per_term": 9}, "meetings_per_term"),
    ):
        with pytest.raises(DirectoryError) as refused:
            directory_service.save_group(
                user(ADMIN), "lokal-bus-farsta", GroupInput(**(vars(data) | bad))
            )
        assert refused.value.field == field


def test_a_deactivated_group_leaves_its_units_and_gives_no_access(directory):
    assert access.secretary_group_ids(user(SECRETARY)) == {"skarpnack"}
    current = directory_service.group_input(db.session.get(BusGroup, "skarpnack"))
    saved = directory_service.save_group(
        user(ADMIN), "skarpnack", GroupInput(**(vars(current) | {"active": False}))
    )
    assert ("bus_group", "deactivated") in {(c.entity, c.kind) for c in saved.changes}
    assert access.secretary_group_ids(user(SECRETARY)) == set()
    assert all(not u.groups for u in db.session.scalars(select(Unit).where(Unit.active)))
    group = db.session.get(BusGroup, "skarpnack")
    assert group.secretary.email == SECRETARY  # kept on the inactive group, as history


def test_huvudman_add_change_and_deactivate_only_without_active_units(directory):
    added = directory_service.save_huvudman(
        user(ADMIN), None, HuvudmanInput("Friskolan AB", "fristaende")
    )
    assert added.object.id == "friskolan-ab" and events("huvudman.added")
    with pytest.raises(DirectoryError) as refused:
        directory_service.save_huvudman(
            user(ADMIN),
            "region-stockholm",
            HuvudmanInput("Region Stockholm", "region", active=False),
        )
    assert refused.value.field == "active" and "2 aktiva verksamheter" in str(refused.value)
    assert db.session.get(Huvudman, "region-stockholm").active
    done = directory_service.save_huvudman(
        user(ADMIN), "friskolan-ab", HuvudmanInput("Friskolan i Skarpnäck AB", "fristaende", False)
    )
    assert [(c.kind, c.fields) for c in done.changes] == [("deactivated", ("name",))]


def test_a_mailbox_of_the_secretariat(directory):
    box = directory_service.add_person(
        user(ADMIN), PersonInput("BUS-avvikelser Syd", "bus-syd@storsthlm.example"), mailbox=True
    ).object
    assert access.is_secretariat(box) and box in directory_service.mailboxes()
    directory_service.deactivate_person(user(ADMIN), box.id)
    box = db.session.get(User, box.id)
    assert not access.is_secretariat(box) and not box.is_secretariat
    assert box not in directory_service.mailboxes()
