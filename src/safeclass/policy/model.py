"""The policy model: one school's safeguarding protocol as settings the server can enforce.

Every field maps to a capability (C1–C24) and the clauses behind it in REQUIREMENTS.md. The model
rejects unknown keys (a typo must never silently weaken a rule) and contradictions between
settings (a policy that forbids 1-to-1 sessions yet lets one adult sit with one pupil).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class NameRule(StrEnum):
    """How a pupil's shown name is built from the roster (C4)."""

    FIRST_NAME_SURNAME_INITIAL = "first_name_surname_initial"  # "Amelia R." (CLA-15)
    FIRST_NAME = "first_name"  # "Amelia"
    FULL_NAME = "full_name"  # "Amelia Roberts"


class EntryState(StrEnum):
    """Whether a pupil's mic or camera is open when they are admitted (C7)."""

    OFF = "off"
    ON = "on"


class PupilCamera(StrEnum):
    """Who decides whether a pupil's camera is on once they are in (CLA-11, CRO-14)."""

    TEACHER_DECIDES = "teacher_decides"  # pupils turn it on only when staff allow (CLA-11)
    ON_UNLESS_AGREED = "on_unless_agreed"  # expected on; staff may turn it off (CRO-14)
    PUPIL_CHOICE = "pupil_choice"  # the pupil may turn it on or off


class ChatMode(StrEnum):
    """Whether chat is open when the session starts (C8). Messages are always public."""

    OFF_UNTIL_ALLOWED = "off_until_allowed"  # CLA-13
    ON = "on"


class RecordingMode(StrEnum):
    """When a session may be recorded (C13)."""

    NEVER = "never"  # CLA-09, S04-10
    WITH_NOTICE = "with_notice"  # STJ-09: everyone told before it starts
    ONE_TO_ONE_EXCEPTION = "one_to_one_exception"  # WER-10: only a 1-to-1 without a parent


class WithoutParent(StrEnum):
    """What happens in a 1-to-1 when the parent cannot be in the room (C6)."""

    REFUSE = "refuse"  # the pupil is not admitted, or is held, until a parent is present
    RECORD_WITH_NOTICE = "record_with_notice"  # WER-10: record, tell the parent, alert the DSL


class ConsentBasis(StrEnum):
    """What counts as consent to take part (C17)."""

    IMPLIED_UNTIL_GIVEN = "implied_until_given"  # CLA-14, WER-13, S04-18
    EXPLICIT = "explicit"  # only pupils whose consent has been given may join


class ParentToldWhen(StrEnum):
    """When a parent hears that their child was removed or had their camera turned off."""

    END_OF_SESSION = "end_of_session"  # STJ-06, S04-16
    IMMEDIATELY = "immediately"


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


WEEKDAY_ORDER = list(Weekday)

PositiveMinutes = Annotated[int, Field(ge=1, le=24 * 60)]


class SchoolInfo(_Section):
    """Which school and which version of its protocol this is (C20: STJ-01, CRO-17)."""

    name: str = Field(min_length=1, max_length=200)
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    version: int = Field(ge=1)
    adopted: dt.date
    review: dt.date
    timezone: str = "Europe/London"
    source: str = ""

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        # The room reads the school day in this zone; a misspelt zone must fail here, in
        # `safeclass policy check`, not later when a teacher schedules a session.
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(
                f"'{value}' is not a time zone this server knows; use a name such as "
                "'Europe/London'"
            ) from None
        return value

    @model_validator(mode="after")
    def _review_after_adoption(self) -> Self:
        if self.review <= self.adopted:
            raise ValueError(
                f"review date {self.review} is not after the adoption date {self.adopted}; "
                "set review to a later date (CRO-17)"
            )
        return self


class Staffing(_Section):
    """The two-adult rule and its one fallback (C5: CLA-02, S04-11, CRO-04, STJ-06)."""

    min_staff: int = Field(ge=1, le=10)
    single_adult_fallback: bool = False
    hold_ends_session_after_minutes: PositiveMinutes = 5
    staff_may_leave_pupils: bool = False


class Timing(_Section):
    """Session length, warnings, the waiting room and lateness (C3, C11, C14: CLA-06, WER-04,
    S04-04, CRO-02, STJ-11)."""

    max_minutes: PositiveMinutes
    warnings_minutes_before_end: tuple[int, ...] = (5, 1)
    waiting_room_opens_minutes_before: int = Field(default=5, ge=0, le=60)
    # A pupil is late who first joins the waiting room more than this after the planned start
    # (C14, C19: CRO-02, STJ-11); 0 makes any join after the start late.
    late_after_minutes: int = Field(default=5, ge=0, le=60)

    @model_validator(mode="after")
    def _warnings_inside_session(self) -> Self:
        for w in self.warnings_minutes_before_end:
            if not 0 < w < self.max_minutes:
                raise ValueError(
                    f"a warning {w} minutes before the end does not fit a "
                    f"{self.max_minutes}-minute session; use values between 1 and "
                    f"{self.max_minutes - 1}"
                )
        return self


class SchoolDay(_Section):
    """When sessions may be scheduled (C1: CRO-05)."""

    days: tuple[Weekday, ...] = (Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI)
    starts: dt.time = dt.time(8, 30)
    ends: dt.time = dt.time(15, 30)

    @model_validator(mode="after")
    def _window_is_a_window(self) -> Self:
        if self.ends <= self.starts:
            raise ValueError(
                f"the school day ends ({self.ends:%H:%M}) before it starts "
                f"({self.starts:%H:%M}); swap the two times"
            )
        if not self.days:
            raise ValueError("the school day has no days; list at least one, e.g. days = ['mon']")
        return self


class Identity(_Section):
    """Roster-bound names and one device per pupil (C4: CLA-15, CRO-11, CRO-15, STJ-11)."""

    name_rule: NameRule = NameRule.FIRST_NAME_SURNAME_INITIAL
    one_device_per_pupil: bool = True


class Entry(_Section):
    """Mic and camera on entry and during the session (C7: CLA-05, WER-06, S04-06, CRO-13/14)."""

    mic_on_entry: EntryState = EntryState.OFF
    camera_on_entry: EntryState = EntryState.OFF
    pupil_camera: PupilCamera = PupilCamera.TEACHER_DECIDES
    pupils_may_unmute_themselves: bool = False

    @model_validator(mode="after")
    def _entry_consistent(self) -> Self:
        if self.mic_on_entry is EntryState.ON and not self.pupils_may_unmute_themselves:
            raise ValueError(
                "mic_on_entry = 'on' opens every pupil's mic although pupils may not unmute "
                "themselves; set mic_on_entry = 'off' (CLA-05, WER-06, S04-06)"
            )
        if (
            self.camera_on_entry is EntryState.ON
            and self.pupil_camera is PupilCamera.TEACHER_DECIDES
        ):
            raise ValueError(
                "camera_on_entry = 'on' turns cameras on before the teacher says so while "
                "pupil_camera = 'teacher_decides'; set camera_on_entry = 'off' (CLA-11)"
            )
        return self


class Chat(_Section):
    """Chat default (C8: CLA-13, CRO-12). There is no private chat in safeclass at all."""

    default: ChatMode = ChatMode.OFF_UNTIL_ALLOWED
    max_message_chars: int = Field(default=300, ge=1, le=2000)


class Recording(_Section):
    """Whether a session may be recorded and how people are told (C13)."""

    mode: RecordingMode = RecordingMode.NEVER
    notice_seconds: int = Field(default=10, ge=0, le=300)

    @model_validator(mode="after")
    def _notice_before_recording(self) -> Self:
        if self.mode is not RecordingMode.NEVER and self.notice_seconds < 5:
            raise ValueError(
                f"recording.notice_seconds = {self.notice_seconds} starts recording before "
                "anyone can read the notice; use at least 5 seconds (STJ-09)"
            )
        return self


class OneToOne(_Section):
    """1-to-1 sessions (reading, pastoral) and the parent in the room (C6)."""

    allowed: bool = False
    min_staff: int = Field(default=2, ge=1, le=10)
    parent_must_be_present: bool = True
    without_parent: WithoutParent = WithoutParent.REFUSE


class Removal(_Section):
    """Removal and camera-off, and when the parent hears of it (C10: STJ-06, S04-16, CLA-08)."""

    parent_told: ParentToldWhen = ParentToldWhen.END_OF_SESSION
    tell_parent_when_camera_turned_off: bool = False


class Notices(_Section):
    """Other things the parents are told, at the end of the session (C10, C14: CRO-02, CRO-16)."""

    # An expected pupil who never came, and whose family had not told the school so already.
    absence: bool = False


class Consent(_Section):
    """The consent basis (C17: CLA-14, WER-13, CRO-16, S04-18)."""

    basis: ConsentBasis = ConsentBasis.IMPLIED_UNTIL_GIVEN


class Expectations(_Section):
    """What pupils and parents are asked to do, shown at join and at the start (C18)."""

    pupil: tuple[str, ...] = ()
    parent: tuple[str, ...] = ()
    must_acknowledge: bool = True
    remind_at_start: bool = True


# The categories a concern is filed under unless the school lists its own (KCSIE's kinds of
# abuse and the risks schools record most; CPOMS and MyConcern both take a free category).
DEFAULT_CONCERN_CATEGORIES: tuple[str, ...] = (
    "Physical abuse",
    "Emotional abuse",
    "Sexual abuse",
    "Neglect",
    "Child-on-child abuse",
    "Online safety",
    "Mental health or self-harm",
    "Domestic abuse",
    "Exploitation (criminal or sexual)",
    "Radicalisation (Prevent)",
    "Other",
)


class Concerns(_Section):
    """Safeguarding concerns (C16): the school's categories a concern is filed under."""

    categories: tuple[str, ...] = DEFAULT_CONCERN_CATEGORIES

    @field_validator("categories")
    @classmethod
    def _listed_once(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        names = tuple(c.strip() for c in v)
        if not names:
            raise ValueError("concerns.categories needs at least one category (e.g. 'Other')")
        if any(not c or len(c) > 80 for c in names):
            raise ValueError("each of concerns.categories needs 1 to 80 characters")
        if len(set(names)) != len(names):
            raise ValueError("concerns.categories lists a category twice")
        return names


class Retention(_Section):
    """How long each kind of record is kept before the retention job deletes it."""

    chat_messages_days: int = Field(default=0, ge=0, le=3650)
    invitations_days: int = Field(default=7, ge=0, le=3650)
    register_days: int = Field(default=400, ge=1, le=3650)
    session_log_days: int = Field(default=400, ge=1, le=3650)
    recordings_days: int = Field(default=30, ge=1, le=3650)
    concerns_until_pupil_age: int = Field(default=25, ge=18, le=100)


class Policy(_Section):
    """A whole school protocol. Built only through `safeclass.policy.load_*` or `Policy(...)`."""

    school: SchoolInfo
    staffing: Staffing
    timing: Timing
    school_day: SchoolDay = SchoolDay()
    identity: Identity = Identity()
    entry: Entry = Entry()
    chat: Chat = Chat()
    recording: Recording = Recording()
    one_to_one: OneToOne = OneToOne()
    removal: Removal = Removal()
    notices: Notices = Notices()
    consent: Consent = Consent()
    expectations: Expectations = Expectations()
    concerns: Concerns = Concerns()
    retention: Retention = Retention()

    @model_validator(mode="after")
    def _no_contradictions(self) -> Self:
        s, o = self.staffing, self.one_to_one
        if s.min_staff < 2 and not s.single_adult_fallback and not o.allowed:
            raise ValueError(
                f"staffing.min_staff = {s.min_staff} lets one adult sit with one pupil, but "
                "one_to_one.allowed = false forbids exactly that; set staffing.min_staff = 2 "
                "(CLA-02), or turn on staffing.single_adult_fallback so one adult admits "
                "pupils only two or more at a time (CRO-04)"
            )
        if s.single_adult_fallback and s.min_staff < 2:
            raise ValueError(
                "staffing.single_adult_fallback only matters when min_staff is 2 or more; "
                "set staffing.min_staff = 2 or single_adult_fallback = false"
            )
        if self.recording.mode is RecordingMode.ONE_TO_ONE_EXCEPTION and not (
            o.allowed and o.without_parent is WithoutParent.RECORD_WITH_NOTICE
        ):
            raise ValueError(
                "recording.mode = 'one_to_one_exception' records only a 1-to-1 held without a "
                "parent, but this policy never holds one; set one_to_one.allowed = true and "
                "one_to_one.without_parent = 'record_with_notice' (WER-10), or recording.mode "
                "= 'never'"
            )
        if (
            o.allowed
            and o.without_parent is WithoutParent.RECORD_WITH_NOTICE
            and self.recording.mode is RecordingMode.NEVER
        ):
            raise ValueError(
                "one_to_one.without_parent = 'record_with_notice' needs a recording, but "
                "recording.mode = 'never'; set recording.mode = 'one_to_one_exception' "
                "(WER-10) or one_to_one.without_parent = 'refuse'"
            )
        if o.allowed and o.min_staff < 2 and not o.parent_must_be_present:
            raise ValueError(
                "one_to_one.min_staff = 1 with parent_must_be_present = false leaves one adult "
                "alone with one child; set one_to_one.parent_must_be_present = true (WER-09) "
                "or one_to_one.min_staff = 2"
            )
        return self

    def min_staff_for(self, one_to_one: bool) -> int:
        """Adults required in the room for this kind of session."""
        return self.one_to_one.min_staff if one_to_one else self.staffing.min_staff
