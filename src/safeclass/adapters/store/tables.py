"""The database schema: school records and the hash-chained session event log.

One deployment can hold several schools (a trust or local authority); every school-owned row
carries `school_id`, and the store's queries always filter by it, so no school sees another's
data. Secrets never appear here: invitation tokens and staff passwords are stored only as hashes.
The same tables serve SQLite and PostgreSQL; Alembic migrations in `migrations/` create them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes on every database (SQLite keeps no zone, so it is stored as UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: safeclass stores aware UTC times only")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: UTCDateTime}


ID = String(36)


class School(Base):
    __tablename__ = "schools"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    key: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime]


class PolicyVersion(Base):
    """Every version of a school's policy that was ever in force (which governed which session)."""

    __tablename__ = "policy_versions"
    __table_args__ = (UniqueConstraint("school_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), index=True)
    version: Mapped[int]
    toml: Mapped[str] = mapped_column(Text)
    adopted: Mapped[dt.date] = mapped_column(Date)
    review: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime]


class Staff(Base):
    __tablename__ = "staff"
    __table_args__ = (UniqueConstraint("school_id", "email"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(20))  # teacher, assistant, dsl, head, admin
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime]


class SchoolClass(Base):
    """A class (e.g. 2B) or a teaching group; pupils belong to one class and any groups."""

    __tablename__ = "classes"
    __table_args__ = (UniqueConstraint("school_id", "name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    is_group: Mapped[bool] = mapped_column(Boolean, default=False)


class Pupil(Base):
    __tablename__ = "pupils"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), index=True)
    class_id: Mapped[str | None] = mapped_column(ForeignKey("classes.id"), index=True)
    mis_id: Mapped[str | None] = mapped_column(String(64))  # the MIS's own id, when exported
    forename: Mapped[str] = mapped_column(String(60))
    surname: Mapped[str] = mapped_column(String(60))
    date_of_birth: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class GroupMember(Base):
    __tablename__ = "group_members"

    group_id: Mapped[str] = mapped_column(ForeignKey("classes.id"), primary_key=True)
    pupil_id: Mapped[str] = mapped_column(ForeignKey("pupils.id"), primary_key=True)


class Guardian(Base):
    __tablename__ = "guardians"
    __table_args__ = (UniqueConstraint("pupil_id", "email"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), index=True)
    pupil_id: Mapped[str] = mapped_column(ForeignKey("pupils.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))


class ConsentRecord(Base):
    """Consent per pupil (C17): basis implied / given / refused, when and from where."""

    __tablename__ = "consents"

    pupil_id: Mapped[str] = mapped_column(ForeignKey("pupils.id"), primary_key=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), index=True)
    basis: Mapped[str] = mapped_column(String(20))
    recorded_at: Mapped[dt.datetime]
    source: Mapped[str] = mapped_column(String(100))


class ConsentChange(Base):
    """Every change of a pupil's consent (C17, C23), appended and never overwritten.

    `consents` holds the current state only; this is its history: what the consent became, when
    it was recorded here (`changed_at`), the time the consent itself carries (`recorded_at`, e.g.
    the MIS's consent date), where it came from (the roster file, "parent, by link", …) and, for
    a change made through a family's link, the lesson whose link it was.
    """

    __tablename__ = "consent_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), index=True)
    pupil_id: Mapped[str] = mapped_column(ForeignKey("pupils.id"), index=True)
    basis: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[dt.datetime]
    changed_at: Mapped[dt.datetime]
    session_id: Mapped[str | None] = mapped_column(ForeignKey("sessions.id"))


class Session(Base):
    """A scheduled live session and the policy version that governs it."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), index=True)
    policy_version_id: Mapped[int] = mapped_column(ForeignKey("policy_versions.id"))
    kind: Mapped[str] = mapped_column(String(20))  # class, group, one_to_one
    title: Mapped[str] = mapped_column(String(200))
    class_id: Mapped[str | None] = mapped_column(ForeignKey("classes.id"))
    starts_at: Mapped[dt.datetime]
    minutes: Mapped[int]
    agenda: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="scheduled")  # …, cancelled, ended
    created_by: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[dt.datetime]


class SessionStaff(Base):
    __tablename__ = "session_staff"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), primary_key=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), primary_key=True)


class SessionPupil(Base):
    """Who is expected: the session's own copy of each pupil's shown name and consent."""

    __tablename__ = "session_pupils"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), primary_key=True)
    pupil_id: Mapped[str] = mapped_column(ForeignKey("pupils.id"), primary_key=True)
    shown_name: Mapped[str] = mapped_column(String(80))


class Invitation(Base):
    """One link per invited pupil per session (C2). Only the token's hash is stored."""

    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("session_id", "pupil_id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), index=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    pupil_id: Mapped[str] = mapped_column(ForeignKey("pupils.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]


class ParentReport(Base):
    """What a parent told the school through their child's link (C23, CRO-16), each kept once.

    `emailed` says whether it went to the staff: a repeat of an earlier report, or one past the
    few a link may email per session, is kept but not sent again.
    """

    __tablename__ = "parent_reports"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), index=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    pupil_id: Mapped[str] = mapped_column(ForeignKey("pupils.id"))
    reason: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    emailed: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime]


class Concern(Base):
    """A safeguarding concern (C16), kept as long as the policy says (default: pupil aged 25).

    Never edited once written (app/concerns.py): `summary` is the account in the writer's
    words, `raised_at` when it was recorded, `happened_at` when it was seen or heard (earlier,
    for one written afterwards), `pupil_id` the first of its pupils (all in `concern_pupils`),
    `event_seq`/`event_hash` its ConcernRaised entry in the session's log when raised in the
    room. Additions, actions and "read" are `concern_entries`, hash-chained from the account.
    `status` (open, read) only repeats what the entries say, for the DSL's list.
    """

    __tablename__ = "concerns"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), index=True)
    session_id: Mapped[str | None] = mapped_column(ForeignKey("sessions.id"))
    pupil_id: Mapped[str | None] = mapped_column(ForeignKey("pupils.id"))
    raised_by: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
    raised_at: Mapped[dt.datetime]
    summary: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")
    keep_until: Mapped[dt.date | None] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(80), default="", server_default="")
    happened_at: Mapped[dt.datetime | None]
    event_seq: Mapped[int | None]
    event_hash: Mapped[str | None] = mapped_column(String(64))
    # the last entry's seq, sealed with its hash under the concern key (app/concerns.py)
    head_seq: Mapped[int | None]
    head_seal: Mapped[str | None] = mapped_column(String(64))


class ConcernPupil(Base):
    """A pupil a concern is about (one or more)."""

    __tablename__ = "concern_pupils"

    concern_id: Mapped[str] = mapped_column(ForeignKey("concerns.id"), primary_key=True)
    pupil_id: Mapped[str] = mapped_column(ForeignKey("pupils.id"), primary_key=True, index=True)


class ConcernEntry(Base):
    """One entry of a concern's record: its account (1), then additions, actions taken and
    "read", each chained to the one before by an HMAC under the server's concern key."""

    __tablename__ = "concern_entries"
    __table_args__ = (UniqueConstraint("concern_id", "seq", name="uq_concern_entries_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    concern_id: Mapped[str] = mapped_column(ForeignKey("concerns.id"), index=True)
    seq: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))  # account, addition, action, read
    at: Mapped[dt.datetime]  # when it was written
    happened_at: Mapped[dt.datetime | None]  # when what it tells happened, if earlier
    by_staff: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
    by_name: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Notification(Base):
    """The outbox: alerts to the DSL and notices to parents, sent and retried by a worker.

    One row per channel and recipient: `channel` "email" (`recipient` an address) or "webhook"
    (`recipient` "parents" or "staff": which of the school's webhooks; `body` the JSON to sign),
    so each is retried on its own and one that fails never sends the other again. `pupil_id`
    names the pupil a parents' notice is about (the timeline and staff pages say whose).
    """

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), index=True)
    session_id: Mapped[str | None] = mapped_column(ForeignKey("sessions.id"))
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(10), default="email", server_default="email")
    pupil_id: Mapped[str | None] = mapped_column(String(36))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    send_after: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class Recording(Base):
    """Where a recording's file is, whose media it holds, and when the retention job deletes it.

    One row per participant's file (audio and video in one WebM). `shown_name` is the name the
    room showed (the roster's, e.g. "Amelia R."): the record says whom it shows without a join.
    """

    __tablename__ = "recordings"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), index=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    path: Mapped[str] = mapped_column(String(500))
    participant_id: Mapped[str | None] = mapped_column(String(36))
    shown_name: Mapped[str | None] = mapped_column(String(120))
    kinds: Mapped[str | None] = mapped_column(String(20))  # "audio video", "video", …
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    started_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
    delete_after: Mapped[dt.datetime]
    deleted_at: Mapped[dt.datetime | None]


class SessionResource(Base):
    """A link or a file a lesson's pupils can open from their link beforehand (C15).

    A file is kept under the server's data folder by a random name (`stored_name`), never by
    the name it was uploaded with, and is only ever sent back as a download. Removing one keeps
    the row (who added and removed it, when) for the register, and deletes the file.
    """

    __tablename__ = "session_resources"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), index=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(2000))  # a link's address
    filename: Mapped[str | None] = mapped_column(String(200))  # a file's name, made safe
    content_type: Mapped[str | None] = mapped_column(String(100))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    stored_name: Mapped[str | None] = mapped_column(String(64))
    added_by: Mapped[str] = mapped_column(ForeignKey("staff.id"))
    added_at: Mapped[dt.datetime]
    removed_by: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
    removed_at: Mapped[dt.datetime | None]


class SessionEvent(Base):
    """One entry of a session's append-only log, chained to the one before it by hash.

    `digest` is the SHA-256 of the canonical payload and is what the chain covers, so the
    retention job can blank a payload (`payload` NULL, `redacted` true) without breaking the
    chain; the redaction itself is a later entry of the same chain.
    """

    __tablename__ = "session_events"
    __table_args__ = (
        UniqueConstraint("session_id", "seq", name="uq_session_events_seq"),
        Index("ix_session_events_type", "session_id", "type"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    session_id: Mapped[str] = mapped_column(String(36))
    seq: Mapped[int]
    type: Mapped[str] = mapped_column(String(40))
    at: Mapped[str] = mapped_column(String(40))  # ISO 8601, exactly as hashed
    payload: Mapped[str | None] = mapped_column(Text)  # canonical JSON
    digest: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    redacted: Mapped[bool] = mapped_column(Boolean, default=False)


class SessionLogHead(Base):
    """The last entry of each session's log, so a deleted tail is noticed too.

    `seal` is an HMAC of the row under the server's log-chain key, so the head cannot be moved
    back to hide a deleted tail; `legacy_seq` (sealed with it) is where the entries written
    before keyed chains end, for logs that predate them (NULL for every log begun since).
    """

    __tablename__ = "session_log_heads"

    session_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    last_seq: Mapped[int]
    last_hash: Mapped[str] = mapped_column(String(64))
    legacy_seq: Mapped[int | None]
    seal: Mapped[str | None] = mapped_column(String(64))


class StaffLogin(Base):
    """A signed-in staff browser. The cookie holds a random token; only its hash is stored.

    Signing out (or an admin disabling the account) revokes it, and the live-room server closes
    that login's sockets.
    """

    __tablename__ = "staff_logins"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), index=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), index=True)
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None] = mapped_column(index=True)  # watched


class StaffDevice(Base):
    """A browser a member of staff has signed in on before (OWASP's "device cookie").

    Its cookie holds a random token; only the hash is stored. It is not a login and opens
    nothing: it only lets sign-in attempts from that browser be judged by that browser's own
    failures, so a guesser elsewhere cannot lock its owner out.
    """

    __tablename__ = "staff_devices"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), index=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), index=True)
    created_at: Mapped[dt.datetime]
    last_used_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]


class PupilPass(Base):
    """What an invitation link is exchanged for on one device: a short-lived pupil cookie.

    The token leaves the URL at once; the pass (its hash stored) admits only that pupil, only to
    that session's waiting room, and its id is the device identity the one-device rule uses.
    """

    __tablename__ = "pupil_passes"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invitation_id: Mapped[str] = mapped_column(ForeignKey("invitations.id"), index=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    pupil_id: Mapped[str] = mapped_column(ForeignKey("pupils.id"))
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), index=True)
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None] = mapped_column(index=True)  # watched


class ComplianceResult(Base):
    """One session's compliance report in short (app/reports/compliance.py): held or not, rule
    by rule, and the log head it was computed from, so the school-wide summary reads one row per
    session instead of replaying and verifying every log. It is computed again when the log's
    head has moved (`head_hash`), or when it waited on an alert not yet delivered (`settled`
    false); the session's own page verifies its log afresh every time and updates this row.
    """

    __tablename__ = "compliance_results"
    __table_args__ = (Index("ix_compliance_results_school_start", "school_id", "starts_at"),)

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), primary_key=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"))
    starts_at: Mapped[dt.datetime]
    head_hash: Mapped[str] = mapped_column(String(64))
    last_seq: Mapped[int]
    verified: Mapped[bool] = mapped_column(Boolean)
    outcomes: Mapped[str] = mapped_column(Text)  # JSON: {rule key: "held" | "not_held" | ...}
    breaches: Mapped[int]
    settled: Mapped[bool] = mapped_column(Boolean)
    computed_at: Mapped[dt.datetime]


class AttendanceMark(Base):
    """One pupil's line of one ended session's register, kept so the head's view (C19) adds up
    a term of sessions in SQL instead of replaying every log (`app/oversight.py`).

    Derived from the log, never typed in: rebuilt whenever the log's head moves past the stamp
    (`AttendanceStamp`), and deleted with the log. No free text is kept here.
    """

    __tablename__ = "attendance_marks"
    __table_args__ = (
        # covering indexes: the pupils who were late or absent most, and one class's pupils
        Index("ix_attendance_marks_school_mark", "school_id", "mark", "starts_at", "pupil_id"),
        Index(
            "ix_attendance_marks_school_class",
            "school_id",
            "class_id",
            "starts_at",
            "pupil_id",
            "mark",
        ),
        Index("ix_attendance_marks_pupil", "pupil_id", "starts_at"),
    )

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), primary_key=True)
    pupil_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"))
    class_id: Mapped[str | None] = mapped_column(String(36))  # the session's class
    starts_at: Mapped[dt.datetime]  # the session's planned start
    status: Mapped[str] = mapped_column(String(20))  # register.Attendance
    mark: Mapped[int] = mapped_column(Integer)  # 0 on time, 1 late, 2 absent, 3 other
    late_seconds: Mapped[int | None]  # past the planned start, when late by the policy
    seconds_present: Mapped[int]
    left_early: Mapped[bool] = mapped_column(Boolean)


class BehaviourMark(Base):
    """One behaviour note, reward, incident, removal, camera turned off or concern in an ended
    session (C19, CRO-02, CRO-09): where it is in the log, never what it says (the text stays in
    the log, and a concern's text is only ever the DSL's)."""

    __tablename__ = "behaviour_marks"
    __table_args__ = (Index("ix_behaviour_marks_school_at", "school_id", "at"),)

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"))
    class_id: Mapped[str | None] = mapped_column(String(36))
    at: Mapped[dt.datetime]
    kind: Mapped[str] = mapped_column(String(20))  # incident, behaviour, reward, note, …
    pupil_id: Mapped[str | None] = mapped_column(String(36))
    by: Mapped[str | None] = mapped_column(String(36))  # the staff member's id


class AttendanceStamp(Base):
    """Which entry of a session's log its marks were computed from (the head's `last_seq`), and
    by which version of the rules: marks whose stamp is behind are computed again."""

    __tablename__ = "attendance_stamps"
    __table_args__ = (Index("ix_attendance_stamps_school_start", "school_id", "starts_at"),)

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), primary_key=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"))
    log_seq: Mapped[int]
    rules: Mapped[int]
    computed_at: Mapped[dt.datetime]
    # the session's own sums, so weeks and classes add up 840 rows, not 24,000
    class_id: Mapped[str | None] = mapped_column(String(36))
    starts_at: Mapped[dt.datetime]
    on_time: Mapped[int]
    late: Mapped[int]
    absent: Mapped[int]
    other: Mapped[int]


class Worker(Base):
    """One worker of a cluster (docs/cluster.md), alive while it keeps `alive_until` ahead of
    the database's clock. Its address is where the others relay a room's sockets to it."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[dt.datetime]
    alive_until: Mapped[dt.datetime]


class RoomLease(Base):
    """Which worker owns a live room, and the epoch it took it under: every append of the room
    names the epoch, so an owner that lost the room (another took it over) cannot write to it."""

    __tablename__ = "room_leases"

    session_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    worker_id: Mapped[str] = mapped_column(String(64), index=True)
    epoch: Mapped[int]
    taken_at: Mapped[dt.datetime]


class LimitCount(Base):
    """One shared count of a cluster's sign-in or family-lookup limits (store/shared_limits.py).

    `key` is a keyed hash of what is counted (an account, a device's id, an address), never the
    thing itself. A window's row counts its events from `at` until `expires_at`; an address's
    bucket keeps its level as it was at `at`, and is empty again at `expires_at`. Rows past
    `expires_at` mean nothing and are deleted as the limiters go.
    """

    __tablename__ = "limit_counts"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[float] = mapped_column(Float)
    at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class ClusterJob(Base):
    """When a job that runs once across a cluster (retention, checkpoints) last finished, by the
    database's clock, and which worker ran it (app/run_once.py)."""

    __tablename__ = "cluster_jobs"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    done_at: Mapped[dt.datetime]
    done_by: Mapped[str] = mapped_column(String(100))
