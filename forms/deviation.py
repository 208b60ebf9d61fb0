"""The deviation form "Avvikelse i BUS-samverkan" (SPEC §3), and B's forwarding form."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    MultipleFileField,
    SubmitField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import Optional

from formservice.documents.uploads import UploadRejected, inspect_upload
from formservice.domain.deviation import AGE_GROUPS, GENDERS
from formservice.domain.inputs import DeviationInput, Upload

from .fields import (
    YES_NO,
    BusGroupField,
    CheckboxesField,
    ChoiceField,
    DatumField,
    Deidentified,
    Named,
    NotInFuture,
    RadioChoiceField,
    Required,
    RequiredIf,
    allowed_email_domains,
    given,
    selected,
    text,
)

if TYPE_CHECKING:
    from formservice.models import Deviation

MAX_FILES = 10


class DeviationForm(FlaskForm):
    reporting_unit = ChoiceField("Rapporterande verksamhet", validators=[Required()])
    receiving_unit = ChoiceField("Mottagande verksamhet", validators=[Required()])
    bus_group = BusGroupField(
        case="rapporten",
        description=(
            "Behövs när rapporten kan gälla flera lokala BUS-grupper. Rapporten går bara till "
            "den valda gruppens sekreterare och räknas i dess statistik."
        ),
    )
    event_date = DatumField(
        "Datum för händelsen",
        validators=[Required(), NotInFuture()],
        description="Skriv datumet som ÅÅÅÅ-MM-DD.",
    )
    categories = CheckboxesField(
        "Avvikelsen avser",
        validators=[Required()],
        description="Välj ett eller flera alternativ.",
    )
    description = TextAreaField(
        "Beskrivning av avvikelsen",
        validators=[Required(), Deidentified()],
        description="Skriv utan namn, personnummer, telefonnummer eller e-postadresser.",
    )
    actions_taken = TextAreaField(
        "Vad har gjorts för att lösa problemet?",
        validators=[Required(), Deidentified()],
        description="Enligt överenskommelsen ska problemet först försöka lösas lokalt.",
    )
    bus_individ = RadioChoiceField(
        "Har ärendet behandlats i BUS-individ?", choices=YES_NO, validators=[Required()]
    )
    bus_individ_date = DatumField(
        "Datum för BUS-individ",
        validators=[RequiredIf("bus_individ", "ja"), Optional(), NotInFuture()],
        description="Fyll i om ärendet har behandlats i BUS-individ.",
    )
    proposal = TextAreaField("Förslag till åtgärd", validators=[Optional(), Deidentified()])
    child_gender = RadioChoiceField(
        "Barnets kön",
        choices=GENDERS,
        validators=[Required()],
        description="Används bara för statistik.",
    )
    age_group = RadioChoiceField(
        "Åldersgrupp",
        choices=AGE_GROUPS,
        validators=[Optional()],
        description="Används bara för statistik.",
    )
    attachments = MultipleFileField(
        "Bilagor",
        description="PDF, Word (DOCX), PNG eller JPEG. Bilagor ska också vara avidentifierade.",
    )
    attest = BooleanField("Jag intygar att rapporten är avidentifierad")
    sip_id = HiddenField()
    bus_individ_id = HiddenField()
    send = SubmitField("Skicka avvikelsen")
    save_draft = SubmitField("Spara som utkast")

    def __init__(
        self,
        *args: Any,
        own_units: Iterable[Named] = (),
        all_units: Iterable[Named] = (),
        categories: Iterable[tuple[str, str]] = (),
        retired: Iterable[tuple[str, str]] = (),
        **kwargs: Any,
    ) -> None:
        """`categories`: (code, label) of the current form; `retired`: (code, label) of
        categories a draft has that the current form no longer offers (shown, not allowed)."""
        super().__init__(*args, **kwargs)
        self.retired = {code: label for code, label in retired}
        self.categories.choices = [
            *categories,
            *((code, f"{label} (finns inte längre)") for code, label in self.retired.items()),
        ]
        self.reporting_unit.choices = [(u.id, u.name) for u in own_units]
        self.receiving_unit.choices = [("", "Välj verksamhet")] + [
            (u.id, u.name) for u in all_units
        ]
        self.uploads: list[Upload] = []

    @property
    def sending(self) -> bool:
        return not self.save_draft.data

    def group_units(self) -> tuple[str | None, str | None]:
        """The units the report's group depends on, as chosen so far (the view offers their
        groups under "BUS-grupp")."""
        return selected(self.reporting_unit), selected(self.receiving_unit) or None

    def validate_receiving_unit(self, field: Field) -> None:
        if field.data and field.data == self.reporting_unit.data:
            raise ValidationError(
                f"{field.label.text}: välj en annan verksamhet än den rapporterande."
            )

    def validate_categories(self, field: Field) -> None:
        gone = [self.retired[code] for code in field.data or [] if code in self.retired]
        if gone:
            raise ValidationError(
                f"{field.label.text}: {', '.join(gone)} finns inte längre på blanketten. "
                "Välj en annan kategori."
            )

    def validate_attest(self, field: Field) -> None:
        if self.sending and not field.data:
            raise ValidationError(f"{field.label.text}: kryssa i rutan innan du skickar.")

    def validate_attachments(self, field: Field) -> None:
        files = [f for f in field.data or [] if f and f.filename]
        if len(files) > MAX_FILES:
            raise ValidationError(f"{field.label.text}: högst {MAX_FILES} filer.")
        limit = current_app.config["FORMSERVICE_MAX_UPLOAD_MB"] * 1024 * 1024
        for storage in files:
            data = storage.read(limit + 1)
            try:
                inspected = inspect_upload(storage.filename, data, limit, allowed_email_domains())
            except UploadRejected as exc:
                raise ValidationError(f"{field.label.text}: {exc}") from exc
            self.uploads.append(
                Upload(
                    name=inspected.safe_name,
                    content_type=inspected.content_type,
                    sha256=inspected.sha256,
                    data=data,
                    page_count=inspected.page_count,
                )
            )

    def to_input(self) -> DeviationInput:
        return DeviationInput(
            reporting_unit_id=self.reporting_unit.data,
            receiving_unit_id=self.receiving_unit.data,
            event_date=given(self.event_date.data),
            categories=list(self.categories.data or []),
            description=text(self.description),
            actions_taken=text(self.actions_taken),
            bus_individ=self.bus_individ.data == "ja",
            bus_individ_date=self.bus_individ_date.data,
            proposal=(self.proposal.data or "").strip(),
            child_gender=self.child_gender.data,
            age_group=self.age_group.data or None,
            uploads=self.uploads,
            sip_id=_int_or_none(self.sip_id.data),
            bus_individ_id=_int_or_none(self.bus_individ_id.data),
            group_id=self.bus_group.data or None,
        )

    def fill_from(self, deviation: Deviation) -> None:
        """Pre-fill from a stored draft (GET of the edit page)."""
        self.reporting_unit.data = deviation.reporting_unit_id
        self.receiving_unit.data = deviation.receiving_unit_id
        self.event_date.data = deviation.event_date
        self.categories.data = list(deviation.categories)
        self.description.data = deviation.description
        self.actions_taken.data = deviation.actions_taken
        self.bus_individ.data = "ja" if deviation.bus_individ else "nej"
        self.bus_individ_date.data = deviation.bus_individ_date
        self.proposal.data = deviation.proposal
        self.child_gender.data = deviation.child_gender
        self.age_group.data = deviation.age_group
        self.sip_id.data = str(deviation.sip_id or "")
        self.bus_individ_id.data = str(deviation.bus_individ_id or "")
        self.bus_group.data = deviation.group_id or ""


class ForwardForm(FlaskForm):
    to_unit = ChoiceField("Rätt mottagande verksamhet", validators=[Required()])
    reason = TextAreaField(
        "Skäl till att avvikelsen skickas vidare", validators=[Required(), Deidentified()]
    )
    forward = SubmitField("Skicka vidare")

    def __init__(
        self,
        *args: Any,
        units: Iterable[Named] = (),
        current_unit_id: str = "",
        reporting_unit_id: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.reporting_unit_id = reporting_unit_id
        self.to_unit.choices = [("", "Välj verksamhet")] + [
            (u.id, u.name) for u in units if u.id not in (current_unit_id, reporting_unit_id)
        ]

    def validate_to_unit(self, field: Field) -> None:
        if field.data and field.data == self.reporting_unit_id:
            field.errors = []  # instead of "välj ett av alternativen": say why
            raise ValidationError(
                f"{field.label.text}: avvikelsen kan inte skickas vidare till den "
                "rapporterande verksamheten."
            )


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None
