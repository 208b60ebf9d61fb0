"""`formservice demo-data`: a synthetic county, written through the services (issue 16).

Every row is one the product itself writes: the directory goes through `import_directory`,
every report, answer, forwarding, withdrawal, SIP invitation and attendance, BUS-individ
record, steering-group meeting and closing through its service, the reminders through
`reminders.send_due` and the removal of identities through `retention`, in the order they
would have happened, with the service's clock set to each moment (`clock.travel`). The queue
is held meanwhile (`queue.held`): the generator settles each day's e-mails as the worker
would (`outbox.claim`, `mark_sent`; the last month's to one refusing mailbox per region unit
with `mark_failed`), and nothing but the digests is left to the worker. Only invented names;
personnummer only from the test series (födelsenummer 980–999, never given to a person).
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import count
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from flask import current_app
from sqlalchemy import func, select

from .. import clock, queue
from ..domain import deviation as rules
from ..domain.inputs import (
    AnswerInput,
    AttendanceInput,
    BusIndividInput,
    ClosingInput,
    DeviationInput,
    Measure,
    SipInput,
)
from ..domain.sip import parse_personnummer
from ..extensions import db
from ..models import BusGroup, BusIndivid, Deviation, GroupMeeting, SipMeeting, Unit, User
from ..services import (
    bus_individ,
    closing,
    deviations,
    digest,
    meetings,
    outbox,
    reminders,
    retention,
    sip,
)
from ..services.directory import import_directory


@dataclass(frozen=True)
class Volume:
    """What one local BUS group does in a year (issue 16: about 100,000 deviations and 50,000
    SIP meetings for 100 groups × 10 years)."""

    deviations: int = 100
    sip_meetings: int = 50
    bus_individ: int = 8
    meeting_months: tuple[int, ...] = (2, 4, 9, 11)  # two a term (domain.meetings)


#: The daily jobs of `_Generator.run`: after them the outbox needs no settling of its own.
DAILY = {"_retention", "_reminders", "_settle"}
#: The mailbox that refuses (SMTP 550) in the last days, so the failed deliveries show.
REFUSED = "recipient refused ([550])"
REFUSING_DAYS = 30


class NotEmpty(Exception):
    """The database holds a directory or cases already: demo-data fills an empty one only."""


@dataclass
class Summary:
    """What was written, for the command's last line and the tests."""

    groups: int = 0
    deviations: int = 0
    sip_meetings: int = 0
    bus_individ: int = 0
    meetings: int = 0
    digests: int = 0
    failed_deliveries: int = 0


# --- the directory ---------------------------------------------------------------------------

PLACE_START = (
    "Björk", "Ek", "Lind", "Sjö", "Berg", "Asp", "Hag", "Sol", "Granl", "Al", "Rönn", "Vass",
    "Mosse", "Ljung",
)  # fmt: skip
PLACE_END = ("vik", "dal", "holm", "berga", "torp", "sund", "by", "ås", "näs", "hed")
FIRST = (
    "Alva", "Bo", "Cecilia", "Dag", "Elsa", "Frej", "Gun", "Hugo", "Iris", "Jon", "Kerstin",
    "Lars", "Maja", "Nils", "Olga", "Pär", "Rut", "Sten", "Tova", "Ulf", "Vera", "Yngve",
)  # fmt: skip
LAST = (
    "Ankarberg", "Bäcklund", "Dunér", "Fjällgren", "Grankvist", "Hällsten", "Ingelmark",
    "Kvarnström", "Lövgård", "Mossberg", "Nordvall", "Palmgård", "Rönnqvist", "Sandvret",
    "Tallström", "Vindelgren", "Åkerlind", "Östervall",
)  # fmt: skip
#: Units of a municipality's local group: (id prefix, name pattern, type, has a deputy).
LOCAL_UNITS = (
    ("forskola", "Förskolan {p}", "forskola", False),
    ("grundskola", "{p} grundskola", "grundskola", False),
    ("elevhalsa", "Elevhälsan {p}", "elevhalsa", False),
    ("familjeenheten", "Familjeenheten {p}", "socialtjanst", True),
)
#: Region units and how many groups each serves (SPEC §2: BUP and HAB serve several).
REGION_UNITS = (("bup", "BUP {p}", "bup", 3), ("hab", "Habiliteringen {p}", "hab", 4))


def place_names(count_: int) -> list[str]:
    """`count_` invented place names, the same ones in the same order every time."""
    names = [start + end for end in PLACE_END for start in PLACE_START]
    return [names[n % len(names)] + (f" {n // len(names) + 1}" if n >= len(names) else "")
            for n in range(count_)]  # fmt: skip


def _slug(text: str) -> str:
    """An id from a name: lower case, å ä ö as a a o, hyphens for spaces."""
    table = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", " ": "-"})
    return text.lower().translate(table)


class _People:
    """Invented people with unique addresses."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.serial = count(1)

    def person(self, domain: str) -> dict[str, str]:
        """A new invented person with an address of their own in `domain`."""
        first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
        email = f"{_slug(first)}.{_slug(last)}.{next(self.serial)}@{domain}"
        return {"name": f"{first} {last}", "email": email}


def county(groups: int, rng: random.Random) -> dict:
    """A directory file (SPEC §9) of `groups` local BUS groups: a municipality per four
    groups, four local units per group, and region units each serving several groups."""
    people = _People(rng)
    places = place_names(groups)
    kommuner = [places[n] for n in range(0, groups, 4)]
    data: dict = {
        "huvudman": [
            *({"id": f"kommun-{_slug(k)}", "name": f"{k} kommun", "type": "kommun"}
              for k in kommuner),
            {"id": "region", "name": "Regionen", "type": "region"},
        ],
        "secretariat": [
            {"name": "BUS-avvikelser Kommunförbundet", "email": "bus-avvikelser@kommuner.example"},
            {"name": "BUS-avvikelser Regionen", "email": "bus-avvikelser@region.example"},
        ],
        "bus_groups": [],
        "units": [],
        "admins": [{"name": "Alva Admin", "email": "alva.admin@kommun.example"}],
    }  # fmt: skip
    for n, place in enumerate(places):
        slug = _slug(place)
        kommun = f"kommun-{_slug(kommuner[n // 4])}"
        domain = f"{_slug(kommuner[n // 4])}.example"
        data["bus_groups"].append(
            {
                "id": slug,
                "name": f"Lokal BUS {place}",
                "convener": people.person(domain),
                "secretary": people.person(domain),
                "bus_individ_convener_unit": f"familjeenheten-{slug}",
                "bus_individ_chair_unit": f"grundskola-{slug}",
            }
        )
        for prefix, pattern, kind, deputy in LOCAL_UNITS:
            unit: dict[str, object] = {
                "id": f"{prefix}-{slug}",
                "name": pattern.format(p=place),
                "huvudman": kommun,
                "type": kind,
                "bus_groups": [slug],
                "chef": people.person(domain),
            }
            if deputy:
                unit["deputies"] = [people.person(domain)]
            data["units"].append(unit)
    for prefix, pattern, kind, serves in REGION_UNITS:
        for first in range(0, groups, serves):
            served = [_slug(p) for p in places[first : first + serves]]
            data["units"].append(
                {
                    "id": f"{prefix}-{served[0]}",
                    "name": pattern.format(p=places[first]),
                    "huvudman": "region",
                    "type": kind,
                    "bus_groups": served,
                    "chef": people.person("region.example"),
                    "deputies": [people.person("region.example")],
                }
            )
    return data


# --- the year's events -----------------------------------------------------------------------

DESCRIPTIONS = (
    "Mottagande verksamhet har inte återkommit på förfrågan om samordning trots påminnelser.",
    "Överenskommen insats har inte påbörjats inom den tid som angavs i planen.",
    "Oklart vilken huvudman som ansvarar för insatsen; ärendet har blivit liggande.",
    "Information om ändrade förutsättningar har inte förts vidare till samverkande parter.",
    "Väntetiden för bedömning har blivit längre än vad som är rimligt för barnets behov.",
    "Remissen har avvisats utan att den remitterande verksamheten fått någon motivering.",
)
TRIED = (
    "Kontakt har tagits per telefon och e-post med ansvarig chef.",
    "Frågan har tagits upp på ett gemensamt möte utan att en lösning nåddes.",
    "Verksamheterna har försökt komma överens lokalt i två omgångar.",
)
PROPOSALS = ("Tydliggöra ansvarsfördelningen i en gemensam rutin.", "", "Gemensam genomgång.")
ASSESSMENTS = (
    "Vi delar bilden och har sett över våra rutiner för återkoppling.",
    "Ärendet har fördröjts av bemanningsskäl; en ny kontaktperson är utsedd.",
    "Vi gör delvis en annan bedömning men har bokat ett gemensamt möte.",
)
MEASURES = (
    "Ta fram en gemensam rutin för återkoppling",
    "Utse kontaktpersoner i båda verksamheterna",
    "Följa upp på nästa styrgruppsmöte",
)
QUESTIONS = (
    "Hur ska stödet i skolan och insatserna från socialtjänsten samordnas?",
    "Vem ansvarar för uppföljningen av barnets behandling och stöd i förskolan?",
    "Hur kan familjen få en sammanhållen plan för stödet?",
)
CHILD_FIRST = ("Alex", "Billie", "Charlie", "Eli", "Kim", "Love", "Noa", "Sam", "Vide", "Ilo")
CHILD_LAST = ("Testsson", "Exempeldotter", "Påhittsson", "Demoberg", "Provlund")
GENDERS: tuple[tuple[str, int], ...] = (("flicka", 46), ("pojke", 50), ("annat", 4))
AGE_GROUPS = ("0-5", "6-12", "13-17")
CATEGORIES = [code for code, _ in rules.DEFAULT_CATEGORIES]


def synthetic_personnummer(born: date, rng: random.Random) -> str:
    """A valid personnummer from the test series: födelsenummer 980–999, which the
    population register never gives a person (Skatteverket's test persons use them)."""
    serial = f"{born:%y%m%d}{rng.randint(980, 999):03d}"
    total = 0
    for n, digit in enumerate(serial):
        product = int(digit) * (2 if n % 2 == 0 else 1)
        total += product // 10 + product % 10
    return parse_personnummer(f"{born:%Y%m%d}{serial[6:]}{(10 - total % 10) % 10}")[0]


@dataclass
class _Group:
    """What the generator knows of one group: its units' chefs and its secretary (ids)."""

    id: str
    secretary_id: int
    units: list[str]
    chefs: dict[str, int]
    region_units: list[str]
    refusing: set[str] = field(default_factory=set)  # addresses that refuse at the end


def _groups(group_ids: list[str] | None) -> list[_Group]:
    """The active groups (or those named), with their units' chefs and refusing mailboxes."""
    query = select(BusGroup).where(BusGroup.active).order_by(BusGroup.id)
    if group_ids is not None:
        query = query.where(BusGroup.id.in_(group_ids))
    found = []
    for group in db.session.scalars(query):
        units = sorted((u for u in group.units if u.active and u.chef_id), key=lambda u: u.id)
        region = [u.id for u in units if u.huvudman.type == "region"]
        refusing = {d.email for u in units if u.id in region for d in u.deputies[:1]}
        assert group.secretary_id is not None, (
            "the demo plans each group's meetings as its secretary"
        )
        found.append(
            _Group(
                group.id,
                group.secretary_id,
                [u.id for u in units],
                {u.id: u.chef_id for u in units if u.chef_id is not None},
                region,
                refusing,
            )
        )
    return found


class _Generator:
    """Plans a group's years as events and runs them in time order under the clock."""

    def __init__(self, rng: random.Random, start: date, end: date, volume: Volume) -> None:
        self.rng, self.start, self.end, self.volume = rng, start, end, volume
        self.zone = ZoneInfo(clock.zone())
        self.events: list[tuple[datetime, int, Callable[[], None]]] = []
        self.serial = count()
        self.summary = Summary()
        self.refusing: set[str] = set()
        self.now_real = clock.now()
        self.written = True  # since the last settling: something may wait in the outbox

    # scheduling

    def at(self, moment: datetime, action: Callable[[], None]) -> None:
        """Schedule `action` at `moment`; nothing after the real now is done."""
        if moment <= self.now_real:
            heapq.heappush(self.events, (moment, next(self.serial), action))

    def moment(self, day: date, hour: int, minute: int = 0) -> datetime:
        """Local wall-clock time on `day` as a UTC moment."""
        return datetime.combine(day, time(hour, minute), tzinfo=self.zone).astimezone(UTC)

    def working_moment(self, day: date) -> datetime:
        """A moment in working hours on `day`, or on the Monday after a weekend."""
        while day.weekday() >= 5:
            day += timedelta(days=1)
        return self.moment(day, self.rng.randint(8, 15), self.rng.choice((0, 15, 30, 45)))

    def random_day(self) -> date:
        """A day in the generated period."""
        return self.start + timedelta(days=self.rng.randrange((self.end - self.start).days))

    def run(self) -> None:
        """Run every event in time order under the travelling clock, the daily jobs included."""
        # Nothing written here can be past the retention period before this day.
        retained = self.start + relativedelta(
            months=current_app.config["FORMSERVICE_RETENTION_MONTHS"]
        )
        day = self.start
        while day <= self.end:
            if day >= retained:
                self.at(self.moment(day, 2, 30), self._retention)
            self.at(self.moment(day, 7, 15), self._reminders)
            self.at(self.moment(day, 18, 0), self._settle)
            day += timedelta(days=1)
        with queue.held(), _quick_commits():
            while self.events:
                moment, _, action = heapq.heappop(self.events)
                with clock.travel(moment):
                    action()
                self.written = self.written or action.__name__ not in DAILY
        self._settle()

    # the whole installation's daily work

    def _retention(self) -> None:
        """The daily removal of identities past the retention period (02:30)."""
        retention.remove_expired_identities()

    def _reminders(self) -> None:
        """The daily reminders and escalations (07:15)."""
        self.written = reminders.send_due() > 0 or self.written

    def _settle(self) -> None:
        """The day's e-mails as the worker settles them: sent, or refused by a mailbox that
        has stopped taking mail in the last days (nothing to do on a day nothing was written)."""
        if not self.written:
            return
        self.written = False
        ids = outbox.due_ids(0)
        refuse_from = self.now_real - timedelta(days=REFUSING_DAYS)
        claimed = outbox.claim(ids)
        refused = [
            message
            for message in claimed
            if message.to_email in self.refusing and message.created_at >= refuse_from
        ]
        for message in refused:
            outbox.mark_failed(message, REFUSED, permanent=True, attempts=1, backoff=0)
        self.summary.failed_deliveries += len(refused)
        outbox.mark_all_sent([message for message in claimed if message not in refused])

    # one group

    def plan(self, group: _Group) -> None:
        """Schedule one group's years: reports, SIP meetings, BUS-individ, steering meetings."""
        self.refusing |= group.refusing
        years = (self.end - self.start).days / 365.25
        for _ in range(round(self.volume.deviations * years)):
            self._plan_deviation(group, self.working_moment(self.random_day()))
        for _ in range(round(self.volume.sip_meetings * years)):
            self._plan_sip(group, self.working_moment(self.random_day()))
        for _ in range(round(self.volume.bus_individ * years)):
            self._plan_bus_individ(group, self.random_day())
        for year in range(self.start.year, self.end.year + 1):
            for month in self.volume.meeting_months:
                day = date(year, month, self.rng.randint(10, 20))
                while day.weekday() >= 5:
                    day += timedelta(days=1)
                if self.start <= day <= self.end + timedelta(days=60):
                    self._plan_meeting(group, day)

    def _user(self, user_id: int) -> User:
        """The person, loaded again after the last commit."""
        return db.session.get_one(User, user_id)

    def _pair(self, group: _Group) -> tuple[str, str]:
        """A reporting and a receiving unit of the group."""
        reporting, receiving = self.rng.sample(group.units, 2)
        return reporting, receiving

    def _gender(self) -> str:
        """A child's gender for statistics, roughly as in the population."""
        codes, weights = zip(*GENDERS, strict=True)
        return self.rng.choices(codes, weights)[0]

    # deviations

    def _plan_deviation(
        self,
        group: _Group,
        moment: datetime,
        pair: tuple[str, str] | None = None,
        *,
        categories: list[str] | None = None,
        sip_id: int | None = None,
        bus_individ_id: int | None = None,
        bus_individ_date: date | None = None,
    ) -> None:
        """A report sent at `moment` and what becomes of it (answer, forward, withdrawal)."""
        reporting, receiving = pair or self._pair(group)
        categories = categories or sorted(self.rng.sample(CATEGORIES, self.rng.choice((1, 1, 2))))
        event_day = clock.local_date(moment) - timedelta(days=self.rng.randint(0, 20))
        data = DeviationInput(
            reporting_unit_id=reporting,
            receiving_unit_id=receiving,
            event_date=event_day,
            categories=categories,
            description=self.rng.choice(DESCRIPTIONS),
            actions_taken=self.rng.choice(TRIED),
            bus_individ=bool(bus_individ_id),
            bus_individ_date=bus_individ_date,
            proposal=self.rng.choice(PROPOSALS),
            child_gender=self._gender(),
            age_group=self.rng.choice(AGE_GROUPS),
            group_id=group.id,
            sip_id=sip_id,
            bus_individ_id=bus_individ_id,
        )
        fate = self.rng.random()
        delay = timedelta(days=self.rng.randint(2, 40), hours=self.rng.randint(0, 6))

        def send() -> None:
            """Send it now, and schedule what follows."""
            outcome = deviations.save(self._user(group.chefs[reporting]), data, send=True)
            self.summary.deviations += 1
            deviation_id = outcome.deviation_id
            assert deviation_id is not None, "save() reads the id before its commit"
            if fate < 0.07:
                self.at(moment + timedelta(days=self.rng.randint(1, 5)),
                        lambda: self._withdraw(deviation_id, group))  # fmt: skip
            elif fate < 0.19:
                self.at(moment + delay, lambda: self._forward(deviation_id, group))
            elif fate < 0.90:
                self.at(moment + delay, lambda: self._answer(deviation_id, group))
            # else: never answered (overdue once the deadline has passed)

        self.at(moment, send)

    def _withdraw(self, deviation_id: int, group: _Group) -> None:
        """Chef A takes the report back if it is still unanswered."""
        deviation = db.session.get_one(Deviation, deviation_id)
        if deviation.state == rules.SKICKAD:
            author = self._user(group.chefs[deviation.reporting_unit_id])
            deviations.withdraw(deviation, author)

    def _forward(self, deviation_id: int, group: _Group) -> None:
        """Chef B names another unit of the group; usually that unit answers later."""
        deviation = db.session.get_one(Deviation, deviation_id)
        if deviation.state != rules.SKICKAD:
            return
        taken = {deviation.reporting_unit_id, deviation.receiving_unit_id}
        candidates = [u for u in group.units if u not in taken]
        if not candidates:
            self._answer(deviation_id, group)
            return
        to_unit = db.session.get_one(Unit, self.rng.choice(candidates))
        by = self._user(group.chefs[deviation.receiving_unit_id])
        reason = "Frågan rör en insats som en annan verksamhet ansvarar för."
        deviations.forward(deviation, by, to_unit, reason)
        if self.rng.random() < 0.8:
            later = clock.now() + timedelta(days=self.rng.randint(3, 30))
            self.at(later, lambda: self._answer(deviation_id, group))

    def _answer(self, deviation_id: int, group: _Group) -> None:
        """The receiving unit's chef answers, with a planned measure."""
        deviation = db.session.get_one(Deviation, deviation_id)
        if deviation.state != rules.SKICKAD:
            return
        responder = self._user(group.chefs[deviation.receiving_unit_id])
        due = clock.today() + timedelta(days=self.rng.randint(20, 90))
        data = AnswerInput(
            responder_name=responder.name,
            assessment=self.rng.choice(ASSESSMENTS),
            actions_taken="Ärendet har gåtts igenom med berörd personal.",
            planned_measures=[
                {
                    "action": self.rng.choice(MEASURES),
                    "responsible": "Enhetschef",
                    "due": due.isoformat(),
                }
            ],  # fmt: skip
            agrees=self.rng.choice(("ja", "ja", "delvis", "nej")),
            raise_regional=self.rng.random() < 0.1,
        )
        deviations.answer(deviation, responder, data)

    # SIP meetings and BUS-individ

    def _plan_sip(self, group: _Group, sent: datetime, follows: int | None = None) -> None:
        """An invitation sent at `sent` (a follow-up of `follows`), its attendance after."""
        initiator = self.rng.choice(group.units)
        others = [u for u in group.units if u != initiator]
        called = sorted(self.rng.sample(others, self.rng.randint(1, min(3, len(others)))))
        sent_day = clock.local_date(sent)
        meeting_day = sent_day + timedelta(days=self.rng.randint(22, 40))
        while meeting_day.weekday() >= 5:
            meeting_day += timedelta(days=1)
        meeting_at = self.moment(meeting_day, self.rng.choice((9, 10, 13, 14)))
        born = meeting_day - timedelta(days=self.rng.randint(2 * 365, 17 * 365))
        over_15 = (meeting_day.year - born.year - ((meeting_day.month, meeting_day.day)
                   < (born.month, born.day))) >= 15  # fmt: skip
        given_by = ["vardnadshavare_1"] + (["barnet"] if over_15 else [])
        chef_name = ""  # filled when sent (the chef's name from the directory)
        child = f"{self.rng.choice(CHILD_FIRST)} {self.rng.choice(CHILD_LAST)}"
        data = SipInput(
            meeting_type="uppfoljning" if follows else "forsta",
            follows_id=follows,
            child_name=child,
            child_personnummer=synthetic_personnummer(born, self.rng)
            if self.rng.random() < 0.6
            else None,
            child_gender=self._gender(),
            child_over_15=over_15,
            guardians=[{"name": f"Vårdnadshavare {child.split()[1]}", "contact": "Via skolan"}],
            consent={
                "date": (sent_day - timedelta(days=self.rng.randint(1, 10))).isoformat(),
                "given_by": given_by,
                "form": self.rng.choice(("skriftligt", "muntligt")),
            },
            question=self.rng.choice(QUESTIONS),
            meeting_at=meeting_at,
            place="Familjecentralen, rum 2",
            initiator_unit_id=initiator,
            chair_name=chef_name,
            chair_unit_id=initiator,
            secretary_name="Handläggare",
            secretary_unit_id=initiator,
            called_unit_ids=called,
            invitees=[],
            short_notice=False,
            short_notice_reason=None,
            group_id=group.id,
        )

        def send() -> None:
            """Send it now, and schedule what follows."""
            author = self._user(group.chefs[initiator])
            data.chair_name = author.name
            meeting = sip.save(author, data, send=True).meeting
            self.summary.sip_meetings += 1
            meeting_id = meeting.id
            held = meeting_at + timedelta(hours=self.rng.randint(2, 50))
            self.at(held, lambda: self._attendance(meeting_id, group, initiator, called))

        self.at(sent, send)

    def _attendance(self, meeting_id: int, group: _Group, initiator: str, called: list) -> None:
        """Attendance after the meeting; an absence often leads to a deviation."""
        meeting = db.session.get_one(SipMeeting, meeting_id)
        outcome = {}
        for unit_id in called:
            roll = self.rng.random()
            outcome[unit_id] = (
                "franvarande" if roll < 0.08 else "ersattare" if roll < 0.16 else "narvarande"
            )
        planned = self.rng.random() < 0.85
        day = clock.today()
        data = AttendanceInput(outcome, planned, day if planned else None)
        sip.record_attendance(self._user(group.chefs[initiator]), meeting, data)
        for unit_id, attendance in sorted(outcome.items()):
            if attendance == "franvarande" and self.rng.random() < 0.7:
                later = self.working_moment(day + timedelta(days=self.rng.randint(1, 7)))
                self._plan_deviation(
                    group,
                    later,
                    (initiator, unit_id),
                    sip_id=meeting_id,
                    categories=[rules.ABSENT_FROM_SIP],
                )
        if self.rng.random() < 0.3:
            follow_up = self.working_moment(day + timedelta(days=self.rng.randint(30, 90)))
            self.at(follow_up, lambda: self._plan_follow_up(meeting_id, group))

    def _plan_follow_up(self, meeting_id: int, group: _Group) -> None:
        """A follow-up invitation of the meeting, sent now."""
        self._plan_sip(group, clock.now(), follows=meeting_id)

    def _plan_bus_individ(self, group: _Group, day: date) -> None:
        """Minutes of a BUS-individ meeting after one of the group's held SIP meetings."""

        def record() -> None:
            """Record the minutes now; without agreement, a deviation follows."""
            held = db.session.scalars(
                select(SipMeeting)
                .where(SipMeeting.group_id == group.id, SipMeeting.state == "genomford")
                .where(SipMeeting.meeting_at <= clock.now() - timedelta(days=7))
                .order_by(SipMeeting.meeting_at.desc())
                .limit(5)
            ).all()
            if not held:
                return
            sip_meeting = self.rng.choice(held)
            raising = sip_meeting.initiator_unit_id
            participants = sorted({raising, *(c.unit_id for c in sip_meeting.called)})
            reached = self.rng.random() < 0.7
            meeting_day = clock.today() - timedelta(days=1)
            data = BusIndividInput(
                raised_by_unit_id=raising,
                child_gender=sip_meeting.child_gender,
                consent={**sip_meeting.consent, "child_over_15": sip_meeting.child_over_15},
                participants=participants,
                question=self.rng.choice(QUESTIONS),
                meeting_date=meeting_day,
                agreement_reached=reached,
                follow_up=False,
                sip_id=sip_meeting.id,
                child_name=sip_meeting.child_name,
                agreements=[{"what": self.rng.choice(MEASURES), "who": "Enhetschef", "by_when": ""}]
                if reached
                else [],  # fmt: skip
                group_id=group.id,
            )
            outcome = bus_individ.record_minutes(self._user(group.chefs[raising]), data)
            self.summary.bus_individ += 1
            record_id = outcome.record.id
            if not reached:
                other = next((u for u in participants if u != raising), None)
                if other is not None:
                    later = self.working_moment(clock.today() + timedelta(days=3))
                    self._plan_deviation(
                        group,
                        later,
                        (raising, other),
                        bus_individ_id=record_id,
                        bus_individ_date=meeting_day,
                        categories=[rules.NO_AGREEMENT],
                    )

        self.at(self.working_moment(day), record)

    # the steering group

    def _plan_meeting(self, group: _Group, day: date) -> None:
        """A steering-group meeting planned a month ahead, decided two days after."""

        def plan() -> None:
            """The secretary plans the meeting now; the decisions follow it."""
            secretary = self._user(group.secretary_id)
            meeting = meetings.plan(secretary, group.id, day, "Stadsdelshuset, sammanträdesrum 1")
            self.summary.meetings += 1
            meeting_id = meeting.id
            self.at(self.working_moment(day + timedelta(days=2)),
                    lambda: self._decide(meeting_id, group, day))  # fmt: skip

        self.at(self.working_moment(day - timedelta(days=30)), plan)

    def _decide(self, meeting_id: int, group: _Group, day: date) -> None:
        """After the meeting the secretary records the decisions on most answered cases and
        on some long overdue ones."""
        meeting = db.session.get_one(GroupMeeting, meeting_id)
        cutoff = meetings.day_start(day - timedelta(days=7))
        cases = db.session.scalars(
            select(Deviation)
            .where(Deviation.group_id == group.id, Deviation.sent_at < cutoff)
            .where(Deviation.state.in_(meetings.OPEN_STATES))
            .order_by(Deviation.id)
        ).all()
        secretary = self._user(group.secretary_id)
        for deviation in cases:
            answered = deviation.state != rules.SKICKAD
            overdue = deviation.deadline is not None and deviation.deadline < day
            chance = 0.85 if answered else 0.4 if overdue else 0.0
            if self.rng.random() >= chance:
                continue
            unit_id = self.rng.choice((deviation.reporting_unit_id, deviation.receiving_unit_id))
            due = day + timedelta(days=self.rng.randint(30, 120))
            escalate = self.rng.random() < 0.05
            data = ClosingInput(
                meeting_id=meeting.id,
                assessment=self.rng.choice(("bekraftad", "bekraftad", "delvis", "ej")),
                measures=[Measure(self.rng.choice(MEASURES), unit_id, due.isoformat())],
                escalate=escalate,
                escalate_reason="Frågan berör flera huvudmän." if escalate else "",
            )
            closing.close(deviation, secretary, data)


@contextmanager
def _quick_commits() -> Iterator[None]:
    """Commits that do not wait for the disk, for the generator's connection only: a crash
    loses the last generated rows, never the database (SQLite's WAL with synchronous=NORMAL;
    PostgreSQL's synchronous_commit=off). Thousands of small commits then take seconds."""
    dialect = db.session.get_bind().dialect.name
    quick, usual = {
        "sqlite": ("PRAGMA synchronous=NORMAL", "PRAGMA synchronous=FULL"),
        "postgresql": ("SET synchronous_commit = off", "RESET synchronous_commit"),
    }.get(dialect, (None, None))
    connection = db.session.connection()
    if quick:
        connection.exec_driver_sql(quick)
    try:
        yield
    finally:
        if usual:
            db.session.rollback()
            db.session.connection().exec_driver_sql(usual)
            db.session.commit()


# --- entry points ----------------------------------------------------------------------------


def is_empty() -> bool:
    """No directory and no cases: what `demo-data` needs before it starts."""
    models = (BusGroup, Unit, Deviation, SipMeeting, BusIndivid, GroupMeeting)
    return all(db.session.scalar(select(func.count()).select_from(m)) == 0 for m in models)


def has_cases() -> bool:
    """Whether the database holds any case: a report, a meeting or a record."""
    models = (Deviation, SipMeeting, BusIndivid, GroupMeeting)
    return any((db.session.scalar(select(func.count()).select_from(m)) or 0) > 0 for m in models)


def generate(groups: int, years: int, seed: int = 1, volume: Volume | None = None) -> Summary:
    """Fill an empty database with a county of `groups` local BUS groups and `years` years of
    their work, ending today. Raises `NotEmpty` when there is a directory or a case already."""
    if not is_empty():
        raise NotEmpty()
    rng = random.Random(seed)
    import_directory(county(groups, rng), actor="demo-data")
    return fill(years, rng, volume=volume)


def fill(
    years: int,
    rng: random.Random,
    group_ids: list[str] | None = None,
    volume: Volume | None = None,
) -> Summary:
    """`years` years of work of the directory's groups (or `group_ids`), ending today; then
    a digest requested for each group's latest meeting, for the worker to compile."""
    end = clock.today()
    start = end - timedelta(days=round(365.25 * years))
    generator = _Generator(rng, start, end, volume or Volume())
    found = _groups(group_ids)
    for group in found:
        generator.plan(group)
    generator.run()
    generator.summary.groups = len(found)
    generator.summary.digests = _request_digests(found)
    return generator.summary


def _request_digests(groups: list[_Group]) -> int:
    """The latest held meeting of each group gets its digest compiled by the worker (the
    heavy part: LibreOffice); earlier meetings' decisions stand without one."""
    requested = 0
    for group in groups:
        held = meetings.held_meetings(group.id)
        if held:
            digest.request(held[0], db.session.get_one(User, group.secretary_id))
            requested += 1
    return requested


def events_of(summary: Summary) -> Iterator[tuple[str, int]]:
    """The summary's figures with their Swedish names, for the command's output."""
    yield "BUS-grupper", summary.groups
    yield "avvikelser", summary.deviations
    yield "SIP-möten", summary.sip_meetings
    yield "BUS-individ", summary.bus_individ
    yield "styrgruppsmöten", summary.meetings
    yield "sammanställningar att göra", summary.digests
    yield "misslyckade utskick", summary.failed_deliveries
