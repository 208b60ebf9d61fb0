"""The categories of the deviation form ("Avvikelsen avser"), version by version (SPEC §3).

Each version of the form is a row of `form_versions`: its categories in order as
[{code, label}]. A report stores the codes it was filed with and the version of the form it
was filled in on (`Deviation.form_version`), so its page, DOCX and digest show the labels of
that version however the form changes later. Statistics count by code and label each code by
the newest version that has it: a renamed category stays one category, and a retired one still
shows for the periods where it was used. The versions are read once per request (or job).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from flask import g
from sqlalchemy import select

from .. import clock
from ..domain.deviation import next_categories, statistics_categories
from ..extensions import db
from ..models import Deviation, FormVersion, User
from . import audit


def _versions() -> dict[int, list[dict]]:
    """Every version of the form, oldest first: one query per request (they are few)."""
    versions = g.get("_form_versions")
    if versions is None:
        query = select(FormVersion.version, FormVersion.categories).order_by(FormVersion.version)
        versions = g._form_versions = dict(db.session.execute(query).all())
    return versions


def current_version() -> int:
    """The version new reports are filed on: the newest."""
    versions = _versions()
    if not versions:
        raise LookupError("form_versions is empty: run `formservice db upgrade`")
    return max(versions)


def categories(version: int | None = None) -> list[dict]:
    """The categories of a version (default: the current one) in the form's order."""
    return _versions()[current_version() if version is None else version]


def labels(version: int | None = None) -> dict[str, str]:
    """code -> label on a version of the form (default: the current one)."""
    return {c["code"]: c["label"] for c in categories(version)}


def choices() -> list[tuple[str, str]]:
    """(code, label) of the current form, for its checkboxes."""
    return [(c["code"], c["label"]) for c in categories()]


def labels_of(codes: Iterable[str], version: int) -> list[str]:
    """The labels a report filed on `version` with these codes shows. A code that version
    lacks (never so by the service) shows under its newest label, else as itself."""
    own, newest = labels(version), statistics_labels()
    return [own.get(code) or newest.get(code, code) for code in codes]


def labels_for(deviation: Deviation) -> list[str]:
    """A report's categories as it was filed: the labels of its own version of the form."""
    return labels_of(deviation.categories or [], deviation.form_version)


def statistics_order() -> list[tuple[str, str, bool]]:
    """Every category ever on the form as (code, newest label, on the current form): the
    current form's first, in its order, then the retired ones."""
    order = g.get("_form_categories_order")
    if order is None:
        order = g._form_categories_order = statistics_categories(list(_versions().values()))
    return order


def statistics_labels() -> dict[str, str]:
    """code -> the label of the newest version that has it."""
    return {code: label for code, label, _ in statistics_order()}


def new_version(
    actor: User | str,
    *,
    add: Sequence[str] = (),
    rename: Mapping[str, str] | None = None,
    retire: Iterable[str] = (),
) -> int:
    """A new version of the form from the current one: categories added (new codes), renamed
    (same code, new label) or retired (left off the form; reports keep them); one
    transaction with its audit event. The new version's number."""
    versions = _versions()
    every_code = {c["code"] for version in versions.values() for c in version}
    result = next_categories(categories(), every_code, add=add, rename=rename or {}, retire=retire)
    number = current_version() + 1
    db.session.add(FormVersion(version=number, created_at=clock.now(), categories=result))
    db.session.flush()
    audit.record(actor, "form.version_created", "form_version", number)
    db.session.commit()
    forget()
    return number


def forget() -> None:
    """Read the versions again at the next question (after a new version)."""
    g.pop("_form_versions", None)
    g.pop("_form_categories_order", None)
