"""The demo school: everything a visitor needs to try safeclass in five minutes, made idempotently.

`prepare()` makes (or finds) a school running Claydon's protocol, open every day of the week
and all hours so the demo works whenever it is run; a class 2B of 30 pupils imported through
the real roster import; five staff accounts (teacher, assistant, DSL, head, admin) with
generated passwords; a 30-minute session starting within minutes; and one invitation link per
pupil, written as letters into the demo's own folder (the letters channel a server with no
email uses), made afresh on every run so the three it prints work (only the links' hashes are
kept, so an earlier run's links cannot be printed again: they stop). Every step goes through
the same use cases the real server uses.

So that the head's view, the compliance summary and the DSL's concerns page have something in
them, the first run also gives 2B a fortnight of past lessons (`PAST_DAYS` school days, one a
day) with their logs (`app/demo_history.py`): some pupils late or absent, notes and rewards, a
removal, one lesson where the assistant's connection dropped for 40 seconds (so the adults rule
did not hold), and one concern, with its record, that the DSL has not read yet. Each ends as a
room ends: its compliance result and the head's view's rows are stored at once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import random
import secrets
import string
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.auth.passwords import hash_password
from safeclass.adapters.notify.letters import LetterFolder, letters_folder
from safeclass.adapters.server_secret import ServerSecret, secret_path
from safeclass.adapters.store import EventLog, school_records
from safeclass.adapters.store.alerts import StoreAlerts
from safeclass.adapters.store.attendance import StoreAttendance
from safeclass.adapters.store.compliance_results import StoreComplianceResults
from safeclass.adapters.store.concerns import StoreConcerns
from safeclass.adapters.store.event_log import CHAIN_KEY
from safeclass.adapters.store.invitations import StoreInvitations
from safeclass.adapters.store.roster_import import StoreRoster
from safeclass.adapters.store.sessions import load_session
from safeclass.adapters.store.tables import Notification, Session, Staff
from safeclass.adapters.store.timetable import StoreTimetable
from safeclass.app import concerns, invitations, timetable
from safeclass.app.after_end import AfterEnd, keep_after_end
from safeclass.app.alerts import OutboxAlerts, OutboxWrite
from safeclass.app.delivery import Letter
from safeclass.app.demo_history import Adult, Happenings, lesson_events, school_days, write_lessons
from safeclass.app.roster import parse_roster
from safeclass.app.roster_import import import_roster
from safeclass.core import SessionKind, apply_all, new_room
from safeclass.core import events as ev
from safeclass.policy import Policy, loads
from safeclass.policy.loading import preset_path

KEY = "demo"
CLASS = "2B"
PRINTED_LINKS = 3  # pupils whose links the demo prints, to try at once
PAST_DAYS = 10  # the fortnight of past lessons
SUBJECTS = ("Maths", "Phonics", "Story time", "Science", "Show and tell")
PAST_TITLES = tuple(f"Year 2 {subject}" for subject in SUBJECTS)
REMOVAL_DAY, DROPOUT_DAY, CONCERN_DAY = 3, 6, 8  # which of the past lessons
CONCERN = (
    "Neglect",
    "Said at show and tell that there was no tea at home last night and nobody in until late. "
    "Looked tired and was wearing the same clothes as all week.",
)
STAFF = (
    ("teacher", "Mrs Khan", "teacher@demo.school"),
    ("assistant", "Mr Lee", "assistant@demo.school"),
    ("dsl", "Ms Patel", "dsl@demo.school"),
    ("head", "Dr Evans", "head@demo.school"),
    ("admin", "Mrs Ward", "office@demo.school"),
)
FORENAMES = (
    "Amelia",
    "Oliver",
    "Isla",
    "Noah",
    "Ava",
    "Leo",
    "Mia",
    "Arthur",
    "Freya",
    "Jack",
    "Siân",
    "Zoë-Mae",
    "Harry",
    "Ivy",
    "Theo",
    "Rosie",
    "Alfie",
    "Grace",
    "Oscar",
    "Lily",
    "Muhammad",
    "Aisha",
    "George",
    "Evie",
    "Jacob",
    "Poppy",
    "Charlie",
    "Ella",
    "Henry",
    "Sofia",
)
SURNAMES = (
    "Roberts",
    "Smith",
    "Jones",
    "O'Neill",
    "Evans",
    "Khan",
    "Taylor",
    "Brown",
    "Wilson",
    "Davies",
    "Hughes",
    "Patel",
    "Walker",
    "Wright",
    "Thompson",
)


@dataclasses.dataclass(frozen=True, slots=True)
class Demo:
    school_id: str
    session_id: str
    session_is_new: bool  # made by this run (else an earlier run's, not yet over, reused)
    starts_at: dt.datetime
    accounts_file: Path
    letters_dir: Path  # this session's letters
    new_passwords: dict[str, str]  # email -> password, only when the accounts were just made
    # (shown name, link) of the first few pupils, made this run: earlier runs' links stop
    pupil_links: tuple[tuple[str, str], ...] = dataclasses.field(default=(), repr=False)

    def passwords(self) -> dict[str, str]:
        """Every demo password there is: this run's, else those in the accounts file."""
        if self.new_passwords:
            return self.new_passwords
        try:
            lines = self.accounts_file.read_text(encoding="utf-8").splitlines()
        except OSError:
            return {}
        return dict(line.split()[:2] for line in lines[1:] if len(line.split()) >= 2)


class _KeepingLetters(LetterFolder):
    """The letters folder, remembering each link it wrote (to print the first few)."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.links: dict[str, str] = {}  # shown name -> link, this run's only

    async def deliver(self, letter: Letter) -> None:
        await super().deliver(letter)
        self.links[letter.shown_name] = letter.link


def demo_policy_toml() -> str:
    """Claydon's protocol, as the demo school's, open every day and all hours."""
    text = preset_path("claydon").read_text(encoding="utf-8")
    text = text.replace('key = "claydon"', f'key = "{KEY}"', 1)
    text = text.replace(
        'name = "Claydon Primary School"', 'name = "Claydon Primary School (demo)"', 1
    )
    start = text.index("[school_day]")
    end = text.index("[identity]")
    day = (
        "[school_day]  # the demo is open all hours, every day, so it can be tried at any time\n"
        'days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n'
        "starts = 00:00:00\nends = 23:59:00\n\n"
    )
    return text[:start] + day + text[end:]


def _roster_csv() -> str:
    lines = ["forename,surname,class,guardian_email,consent"]
    for i, forename in enumerate(FORENAMES):
        surname = SURNAMES[i % len(SURNAMES)]
        plain = "".join(ch for ch in forename.lower() if ch in string.ascii_lowercase)
        consent = "refused" if i == len(FORENAMES) - 1 else ""
        lines.append(f"{forename},{surname},{CLASS},parent.of.{plain}@example.invalid,{consent}")
    return "\n".join(lines) + "\n"


def _password() -> str:
    words = ("maple", "harbour", "violet", "comet", "pebble", "lantern", "meadow", "orbit")
    return "-".join(secrets.choice(words) for _ in range(3)) + f"-{secrets.randbelow(90) + 10}"


async def prepare(engine: AsyncEngine, data_dir: Path, public_url: str, now: dt.datetime) -> Demo:
    """Make whatever part of the demo school is missing; return where everything is."""
    toml = demo_policy_toml()
    policy = loads(toml, source="demo policy")
    async with engine.begin() as conn:
        school = await school_records.school_by_key(conn, KEY)
        if school is None:
            school = await school_records.create_school(conn, policy, toml, now=now)
    roster = parse_roster(_roster_csv(), source="demo roster")
    await import_roster(StoreRoster(engine), KEY, roster, now=now)

    accounts_file = data_dir / "DEMO-ACCOUNTS.txt"
    new_passwords: dict[str, str] = {}
    async with engine.begin() as conn:
        for role, name, email in STAFF:
            if await school_records.staff_by_email(conn, school.id, email) is None:
                password = _password()
                await school_records.add_staff(
                    conn,
                    school.id,
                    name=name,
                    email=email,
                    role=role,
                    password_hash=hash_password(password),
                    now=now,
                )
                new_passwords[email] = password
    if new_passwords:
        accounts_file.write_text(
            "safeclass demo accounts (school key: demo). Keep this file private.\n"
            + "".join(f"{email}  {password}\n" for email, password in new_passwords.items()),
            encoding="utf-8",
        )
        os.chmod(accounts_file, 0o600)

    await _past_lessons(engine, data_dir, school.id, now)
    session_id, starts_at, is_new = await _upcoming_session(engine, school.id, policy, now)
    letters = _KeepingLetters(letters_folder(data_dir))
    # Only the links' hashes are kept, so the links to print are made afresh each run (for
    # this run's address), and the earlier ones stop.
    report = await invitations.send_invitations(
        StoreInvitations(engine),
        school_id=school.id,
        session_id=session_id,
        channels=[letters],
        public_url=public_url,
        now=now,
        resend=True,
    )
    shown = tuple(
        (r.shown_name, letters.links[r.shown_name])
        for r in report.results
        if r.status is invitations.SendStatus.SENT and r.shown_name in letters.links
    )[:PRINTED_LINKS]
    return Demo(
        school.id,
        session_id,
        is_new,
        starts_at,
        accounts_file,
        letters.folder / session_id,
        new_passwords,
        shown,
    )


async def _upcoming_session(
    engine: AsyncEngine, school_id: str, policy: Policy, now: dt.datetime
) -> tuple[str, dt.datetime, bool]:
    """The demo's next session that has not ended, or a new one starting within minutes."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(Session.id, Session.starts_at, Session.minutes, Session.status)
                .where(Session.school_id == school_id, Session.status != "cancelled")
                .order_by(Session.starts_at.desc())
            )
        ).all()
        staff = dict(
            (
                await conn.execute(
                    select(Staff.role, Staff.id).where(
                        Staff.school_id == school_id, Staff.role.in_(["teacher", "assistant"])
                    )
                )
            ).all()
        )
        classes = await school_records.list_classes(conn, school_id)
    for sid, starts_at, minutes, status in rows:
        if status != "ended" and starts_at + dt.timedelta(minutes=minutes) > now:
            return sid, starts_at, False
    klass = next(c for c in classes if c.name == CLASS)
    start = (now + dt.timedelta(minutes=7)).replace(second=0, microsecond=0)
    start -= dt.timedelta(minutes=start.minute % 5)
    local = start.astimezone(ZoneInfo(policy.school.timezone)).replace(tzinfo=None)
    actor = _Actor(staff["teacher"], school_id, "teacher")
    request = timetable.SessionRequest(
        kind=SessionKind.CLASS,
        title="Year 2 Maths (demo)",
        starts_at=local,
        minutes=30,
        class_id=klass.id,
        staff_ids=(staff["teacher"], staff["assistant"]),
        agenda="Counting in fives; a story; show and tell.",
    )
    return await timetable.schedule(StoreTimetable(engine), actor, request, now), start, True


async def _past_lessons(
    engine: AsyncEngine, data_dir: Path, school_id: str, now: dt.datetime
) -> None:
    """2B's fortnight of ended lessons with their logs, unless an earlier run made them."""
    async with engine.connect() as conn:
        made = (
            await conn.execute(
                select(Session.id)
                .where(Session.school_id == school_id, Session.title.in_(PAST_TITLES))
                .limit(1)
            )
        ).first()
        if made is not None:
            return
        staff = {
            role: Adult(sid, name)
            for role, sid, name in (
                await conn.execute(
                    select(Staff.role, Staff.id, Staff.name).where(
                        Staff.school_id == school_id, Staff.role.in_(["teacher", "assistant"])
                    )
                )
            ).all()
        }
        classes = await school_records.list_classes(conn, school_id)
        version = await school_records.current_policy_version(conn, school_id)
    policy = version.load()
    zone = ZoneInfo(policy.school.timezone)
    klass = next(c for c in classes if c.name == CLASS)
    teacher, assistant = staff["teacher"], staff["assistant"]
    secret = ServerSecret.load_or_create(secret_path(data_dir))
    log = EventLog(engine, secret.derive(CHAIN_KEY))
    lessons: dict[str, list[ev.Event]] = {}
    writes: list[OutboxWrite] = []
    for i, day in enumerate(school_days(now.astimezone(zone).date(), PAST_DAYS)):
        local = dt.datetime.combine(day, dt.time(10, 0))
        start = local.replace(tzinfo=zone).astimezone(dt.UTC)
        request = timetable.SessionRequest(
            kind=SessionKind.CLASS,
            title=PAST_TITLES[i % len(PAST_TITLES)],
            starts_at=local,
            minutes=30,
            class_id=klass.id,
            staff_ids=(teacher.id, assistant.id),
            agenda="",
        )
        # scheduled as the teacher would have, the day before
        actor = _Actor(teacher.id, school_id, "teacher")
        sid = await timetable.schedule(
            StoreTimetable(engine), actor, request, start - dt.timedelta(days=1)
        )
        stored = await load_session(engine, sid)
        room = new_room(stored.plan, stored.policy)
        pupils = sorted(
            (pid, p.shown_name) for pid, p in stored.plan.expected.items() if room.consent_allows(p)
        )
        happenings = Happenings(
            notes=2 + i % 3,
            removal=i == REMOVAL_DAY,
            dropout=i == DROPOUT_DAY,
            concern=CONCERN[0] if i == CONCERN_DAY else None,
            concern_text=CONCERN[1],
        )
        events = lesson_events(
            random.Random(f"demo-{i}"),  # noqa: S311 (made-up lessons, not secrets)
            start,
            pupils,
            teacher,
            assistant,
            happenings,
            late_after_minutes=policy.timing.late_after_minutes,
            absent_chance=0.07,
            late_chance=0.12,
        )
        lessons[sid] = events
        raised = [e for e in events if isinstance(e, ev.ConcernRaised | ev.DslAlerted)]
        if raised:
            # the concern's record and the DSL's alert, written with the log as the room
            # writes them (`OutboxAlerts.outbox_write`)
            before = apply_all(room, [e for e in events if e.at < raised[0].at])
            alerts = OutboxAlerts(
                StoreAlerts(engine),
                StoreConcerns(engine),
                lambda: None,
                concern_key=secret.derive(concerns.CONCERN_KEY),
            )
            write = await alerts.outbox_write(sid, before, raised)
            if write is not None:
                writes.append(write)
    await write_lessons(log, lessons, writes)
    async with engine.begin() as conn:
        await conn.execute(
            update(Session).where(Session.id.in_(list(lessons))).values(status="ended")
        )
        for write in writes:  # the past alerts reached the DSL a moment after they were raised
            alert = next(e for e in lessons[write.session_id] if isinstance(e, ev.DslAlerted))
            await conn.execute(
                update(Notification)
                .where(Notification.session_id == write.session_id)
                .values(status="sent", sent_at=alert.at + dt.timedelta(seconds=4))
            )
    kept = AfterEnd(engine, log, StoreComplianceResults(engine), StoreAttendance(engine))
    for sid in lessons:  # as each room's end keeps them (`live.registry`)
        await keep_after_end(kept, sid, now)


@dataclasses.dataclass(frozen=True, slots=True)
class _Actor:
    staff_id: str
    school_id: str
    role: str
