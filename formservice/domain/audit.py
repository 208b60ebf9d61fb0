"""The audit log's vocabulary and the inputs of its two readers: the log follow-up
(granskningslogg) and the GDPR extract (registerutdrag). Pure: no Flask, no database.

The log stores event codes; the Swedish names live here, as the deviation states' do, and are
rendered by the pages, the CSV and the extract."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from .sip import InvalidPersonnummer, parse_personnummer

#: Every event code the service writes, by area, with its Swedish name. A code missing here
#: (a new one) is shown as the code itself, under "Övrigt".
EVENT_GROUPS: dict[str, dict[str, str]] = {
    "Avvikelser": {
        "deviation.saved": "Avvikelse sparad som utkast",
        "deviation.created": "Avvikelse skapad",
        "deviation.sent": "Avvikelse skickad",
        "deviation.viewed": "Avvikelse visad",
        "deviation.viewed_by_link": "Avvikelse visad via länk",
        "deviation.downloaded": "Avvikelse nedladdad",
        "deviations.exported": "Avvikelselista nedladdad som CSV",
        "attachment.downloaded": "Bilaga nedladdad",
        "attachment.downloaded_by_link": "Bilaga nedladdad via länk",
        "deviation.answered": "Avvikelse besvarad",
        "deviation.forwarded": "Avvikelse vidarebefordrad",
        "deviation.withdrawn": "Avvikelse återkallad",
        "deviation.reminder_before": "Påminnelse före svarsfristen",
        "deviation.reminder_due": "Påminnelse på svarsfristen",
        "deviation.reminder_escalate": "Obesvarad efter svarsfristen, styrgruppen meddelad",
        "deviation.feedback_given": "Återkoppling på svaret lämnad",
        "deviation.viewed_by_supplement_link": "Avvikelse visad via länk för kompletterande svar",
        "deviation.supplemented": "Kompletterande svar lämnat",
        "deviation.supplement_reminder_before": "Påminnelse före fristen för kompletterande svar",
        "deviation.supplement_reminder_due": "Påminnelse på fristen för kompletterande svar",
        "deviation.on_agenda": "Avvikelse på styrgruppens dagordning",
        "deviation.closed": "Ärendet avslutat",
        "outbox.retried": "Utskick försökt igen",
    },
    "SIP-möten": {
        "sip.saved": "SIP-kallelse sparad som utkast",
        "sip.created": "SIP-kallelse skapad",
        "sip.sent": "SIP-kallelse skickad",
        "sip.cancelled": "SIP-möte inställt",
        "sip.viewed": "SIP-möte visat",
        "sip.downloaded": "SIP-kallelse nedladdad",
        "sip.attendance_recorded": "Närvaro registrerad",
        "sip.documents_built": "Kallelsens dokument skapade",
        "sip.documents_failed": "Kallelsens dokument kunde inte skapas",
        "sip.documents_retried": "Kallelsens dokument skapas igen",
        "sip.identity_removed": "Barnets identitet gallrad",
        "sip.extract_listed": "Visat i sökning för registerutdrag",
        "sip.extract_downloaded": "Med i registerutdrag",
    },
    "BUS-individ": {
        "bus_individ.created": "Protokoll från BUS-individ skapat",
        "bus_individ.viewed": "BUS-individ visat",
        "bus_individ.downloaded": "Protokoll från BUS-individ nedladdat",
        "bus_individ.documents_built": "Protokollets dokument skapade",
        "bus_individ.documents_failed": "Protokollets dokument kunde inte skapas",
        "bus_individ.documents_retried": "Protokollets dokument skapas igen",
        "bus_individ.identity_removed": "Barnets identitet gallrad",
        "bus_individ.extract_listed": "Visat i sökning för registerutdrag",
        "bus_individ.extract_downloaded": "Med i registerutdrag",
    },
    "Styrgrupp och statistik": {
        "meeting.planned": "Styrgruppsmöte planerat",
        "meeting.changed": "Styrgruppsmöte ändrat",
        "meeting.cancelled": "Styrgruppsmöte inställt",
        "pattern.notified": "Återkommande avvikelser meddelade",
        "digest.requested": "Sammanställning beställd",
        "digest.compiled": "Sammanställning klar",
        "digest.downloaded": "Sammanställning nedladdad",
        "statistics.exported": "Statistik nedladdad",
        "measure.reminder_before": "Påminnelse före datum för beslutad åtgärd",
        "measure.reminder_due": "Påminnelse på datum för beslutad åtgärd",
        "measure.viewed_by_link": "Beslutad åtgärd visad via länk",
        "measure.done": "Beslutad åtgärd rapporterad genomförd",
    },
    "Inloggning och konton": {
        "login": "Inloggning",
        "login.failed": "Misslyckad inloggning",
        "login.locked": "Inloggning spärrad efter för många försök",
        "logout": "Utloggning",
        "login.code_failed": "Fel kod vid inloggning",
        "login.sign_on_unknown": "Inloggning med organisationens konto: okänd person",
        "login.sign_on_refused": "Inloggning med organisationens konto nekad",
        "account.password_set": "Lösenord satt",
        "account.password_change_failed": "Misslyckat byte av lösenord",
        "account.invited": "Inbjudan skickad",
        "account.reset_requested": "Länk för nytt lösenord begärd",
        "account.unlocked": "Inloggningsspärr hävd",
        "account.second_factor_enrolled": "Tvåstegsverifiering påslagen",
        "account.second_factor_disabled": "Tvåstegsverifiering avstängd",
        "account.second_factor_reset": "Tvåstegsverifiering återställd av administratör",
        "account.recovery_code_used": "Reservkod använd",
        "account.recovery_codes_renewed": "Nya reservkoder",
    },
    "Administration": {
        "directory.imported": "Katalogen inläst",
        "directory.exported": "Katalogen nedladdad",
        "huvudman.added": "Huvudman tillagd",
        "huvudman.changed": "Huvudman ändrad",
        "huvudman.activated": "Huvudman aktiverad",
        "huvudman.deactivated": "Huvudman inaktiverad",
        "bus_group.added": "BUS-grupp tillagd",
        "bus_group.changed": "BUS-grupp ändrad",
        "bus_group.activated": "BUS-grupp aktiverad",
        "bus_group.deactivated": "BUS-grupp inaktiverad",
        "unit.added": "Verksamhet tillagd",
        "unit.changed": "Verksamhet ändrad",
        "unit.activated": "Verksamhet aktiverad",
        "unit.deactivated": "Verksamhet inaktiverad",
        "user.added": "Person tillagd",
        "user.changed": "Person ändrad",
        "user.activated": "Person aktiverad",
        "user.deactivated": "Person inaktiverad",
        "form.version_created": "Ny version av avvikelseblanketten",
        "audit_log.viewed": "Granskningsloggen läst",
        "audit_log.exported": "Granskningsloggen nedladdad",
        "extract.searched": "Sökning för registerutdrag",
    },
}
EVENT_LABELS: dict[str, str] = {
    code: label for codes in EVENT_GROUPS.values() for code, label in codes.items()
}
OTHER_EVENTS = "Övrigt"

#: Seeing or taking away what the service holds: the log follow-up's "who has seen it".
READS = frozenset(
    {
        "deviation.viewed",
        "deviation.viewed_by_link",
        "deviation.viewed_by_supplement_link",
        "deviation.downloaded",
        "measure.viewed_by_link",
        "deviations.exported",
        "attachment.downloaded",
        "attachment.downloaded_by_link",
        "sip.viewed",
        "sip.downloaded",
        "sip.extract_listed",
        "sip.extract_downloaded",
        "bus_individ.viewed",
        "bus_individ.downloaded",
        "bus_individ.extract_listed",
        "bus_individ.extract_downloaded",
        "digest.downloaded",
        "statistics.exported",
        "audit_log.viewed",
        "audit_log.exported",
        "extract.searched",
    }
)
#: The event filter's value for every code in READS.
READS_CHOICE = "visningar"

OBJECT_LABELS = {
    "deviation": "Avvikelse",
    "attachment": "Bilaga",
    "sip": "SIP-möte",
    "bus_individ": "BUS-individ",
    "digest": "Sammanställning",
    "meeting": "Styrgruppsmöte",
    "measure": "Beslutad åtgärd",
    "outbox": "Utskick",
    "user": "Person",
    "unit": "Verksamhet",
    "bus_group": "BUS-grupp",
    "huvudman": "Huvudman",
    "statistics": "Statistik",
    "form_version": "Blankettversion",
    "audit_log": "Granskningslogg",
}
#: The names of the keys an event's detail may hold (others are shown as they are).
DETAIL_LABELS = {
    "format": "Format",
    "page": "Sida",
    "rows": "Rader",
    "matches": "Träffar",
    "by": "Sökt på",
    "person": "Person",
    "case_number": "Ärendenummer",
    "record_type": "Typ av journal",
    "record_id": "Journalens nummer",
    "event": "Händelse",
    "start": "Från",
    "end": "Till",
    "meeting": "Möte",
    "deviation": "Avvikelse",
    "group": "BUS-grupp",
    "period": "Period",
    "kind": "Slag",
    "to_unit": "Till verksamhet",
    "verdict": "Återkoppling",
    "absent": "Frånvarande",
    "short_notice": "Kortare kallelsetid",
    "files_deleted": "Borttagna filer",
    "cases": "Ärenden",
    "assessment": "Bedömning",
    "escalate": "Lyfts till BUS-sekretariatet",
    "changes": "Ändringar",
    "method": "Inloggningssätt",
    "reason": "Orsak",
    "receiving_unit": "Mottagande verksamhet",
    "key": "Gemensam verksamhet eller kategori",
    "fields": "Ändrade uppgifter",
}
#: The records that hold a child's identity (SPEC §7), as object types of the log.
RECORD_TYPES = {"sip": "SIP-möte", "bus_individ": "BUS-individ"}


CASE_NUMBER = re.compile(r"BUS-\d{4}-\d{4,}")


def normal_case_number(text: str) -> str | None:
    """BUS-ÅÅÅÅ-NNNN in capitals, or None when the text is not a case number."""
    number = text.strip().upper()
    return number if CASE_NUMBER.fullmatch(number) else None


def event_label(code: str) -> str:
    return EVENT_LABELS.get(code, code)


def object_label(object_type: str | None) -> str:
    return OBJECT_LABELS.get(object_type or "", object_type or "")


def detail_text(detail: dict | None) -> str:
    """An event's detail as "Namn: värde; …" (lists joined with commas)."""
    parts = []
    for key, value in sorted((detail or {}).items()):
        if isinstance(value, list | tuple):
            value = ", ".join(str(item) for item in value)
        elif isinstance(value, bool):
            value = "ja" if value else "nej"
        parts.append(f"{DETAIL_LABELS.get(key, key)}: {value}")
    return "; ".join(parts)


@dataclass(frozen=True)
class LogFilter:
    """What the log follow-up asks for; empty values ask for everything."""

    person: str = ""  # e-mail address or name, whole or a part
    case_number: str = ""  # BUS-ÅÅÅÅ-NNNN
    record_type: str = ""  # "sip" or "bus_individ"
    record_id: int | None = None
    action: str = ""  # an event code, or READS_CHOICE
    start: date | None = None  # local dates, both included
    end: date | None = None

    def as_detail(self) -> dict[str, str]:
        """The filter for the audit event of reading the log: the given values as text."""
        values = {
            "person": self.person,
            "case_number": self.case_number,
            "record_type": self.record_type,
            "record_id": "" if self.record_id is None else str(self.record_id),
            "event": self.action,
            "start": self.start.isoformat() if self.start else "",
            "end": self.end.isoformat() if self.end else "",
        }
        return {key: value for key, value in values.items() if value}


@dataclass(frozen=True)
class ExtractQuery:
    """A search for a child's records: the personnummer's written forms and/or a name."""

    personnummer_forms: tuple[str, ...] = ()
    name: str = ""

    @property
    def by(self) -> list[str]:
        """What was searched on, without the values (for the audit log)."""
        given = (("personnummer", self.personnummer_forms), ("namn", self.name))
        return [kind for kind, value in given if value]


def personnummer_forms(text: str) -> tuple[str, ...]:
    """Every way a valid personnummer or samordningsnummer may be stored: 12 digits with and
    without the hyphen, 10 digits with its separator ("-", or "+" from age 100) and without.
    Raises InvalidPersonnummer (without the number) when it is not valid."""
    from personnummer.personnummer import Personnummer, PersonnummerException

    long_form, _ = parse_personnummer(text)  # ÅÅÅÅMMDD-NNNN, or InvalidPersonnummer
    try:
        short = Personnummer(long_form).format()  # ÅÅMMDD-NNNN, "+" from age 100
    except (PersonnummerException, ValueError):
        raise InvalidPersonnummer() from None
    digits = long_form.replace("-", "")
    return (long_form, digits, short, digits[2:])
