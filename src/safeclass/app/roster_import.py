"""Applying a checked roster to one school, in one transaction: create, update in place, or leave.

A roster with bad rows is refused whole (nothing is written) unless the caller asks to skip them.
Pupils are matched to the school's records by MIS id when the row has one, otherwise by
forename, surname, class and date of birth (see `safeclass.app.roster`). Importing the same file
twice changes no row. Pupils missing from the file are left alone: an import never deletes.

Blank cells never erase what is on record: a blank MIS id, date of birth or guardian keeps the
stored one, and a blank (implied) consent cell never overwrites a recorded "given" or "refused".
A parent's opt-out (CRO-16, S04-18) must not be lost to a re-import of an older MIS export:
nor is a consent a parent withdrew through their child's link (C23) lost to a file whose
"given" carries no consent date after the withdrawal (`withdrawn_by_family_since`).

The records are read and written through `RosterRecords` (on the database:
`safeclass.adapters.store.roster_import`), in one transaction of the port's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from safeclass.app.roster import Roster, RosterRow, RowProblem, class_key, pupil_key
from safeclass.app.school_records import (
    ClassRecord,
    ConsentState,
    GuardianRecord,
    NewPupil,
    PupilRecord,
    SchoolRecord,
)
from safeclass.app.transactions import Transactions
from safeclass.core import Consent
from safeclass.core.commands import PARENT_BY_LINK

Progress = Callable[[int], None]
BATCH = 500  # new pupils inserted per statement (SQLite limits the bound parameters)


class RosterRecords(Transactions, Protocol):
    """A school's pupils, their guardians and consent, and its classes, as an import reads and
    writes them; every method runs in the caller's transaction (`begin`)."""

    async def require_school(self, conn: AsyncConnection, key: str) -> SchoolRecord:
        """The school with this key (else SchoolNotFoundError)."""

    async def lock_school(self, conn: AsyncConnection, school_id: str) -> None:
        """Serialise writers of the school's records until the transaction ends, so two imports
        into one school cannot both create the same pupil."""

    async def list_pupils(self, conn: AsyncConnection, school_id: str) -> list[PupilRecord]:
        """The school's pupils with their guardians and consent."""

    async def list_classes(self, conn: AsyncConnection, school_id: str) -> list[ClassRecord]:
        """The school's classes and groups, by name."""

    async def upsert_class(
        self, conn: AsyncConnection, school_id: str, name: str
    ) -> tuple[ClassRecord, bool]:
        """The class called `name`, created if the school has none; (record, created). A
        group's name is refused (RecordsError)."""

    async def add_pupils(
        self, conn: AsyncConnection, school_id: str, new: Sequence[NewPupil], *, now: dt.datetime
    ) -> list[str]:
        """Many new pupils with their guardians and consent, in a few statements; their ids."""

    async def update_pupil(
        self,
        conn: AsyncConnection,
        school_id: str,
        pupil_id: str,
        changes: Mapping[str, Any],
        *,
        now: dt.datetime,
    ) -> None:
        """Change some of a pupil's own fields (forename, surname, class_id, mis_id,
        date_of_birth)."""

    async def add_guardian(
        self,
        conn: AsyncConnection,
        school_id: str,
        pupil_id: str,
        *,
        name: str | None,
        email: str | None,
        phone: str | None,
        now: dt.datetime,
    ) -> None:
        """A parent or carer of the pupil."""

    async def update_guardian(
        self,
        conn: AsyncConnection,
        school_id: str,
        guardian_id: int,
        *,
        name: str | None,
        email: str | None,
        phone: str | None,
        now: dt.datetime,
    ) -> None:
        """New details of a guardian."""

    async def set_consent(
        self,
        conn: AsyncConnection,
        school_id: str,
        pupil_id: str,
        basis: Consent,
        *,
        source: str,
        recorded_at: dt.datetime,
        now: dt.datetime,
    ) -> None:
        """Record the pupil's consent (given or refused at `recorded_at`), and append it to
        their consent history."""


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class PupilChange:
    """What the import did with one row: which pupil, and which of their details changed."""

    line: int
    name: str
    outcome: Outcome
    changed: tuple[str, ...] = ()
    pupil_id: str | None = None


@dataclass(frozen=True, slots=True)
class ImportSummary:
    school_key: str
    source: str
    changes: tuple[PupilChange, ...]
    skipped: tuple[RowProblem, ...] = ()
    classes_created: tuple[str, ...] = ()
    consent_kept: tuple[str, ...] = ()  # explicit consents a blank cell did not overwrite

    def count(self, outcome: Outcome) -> int:
        return sum(1 for c in self.changes if c.outcome is outcome)

    @property
    def created(self) -> int:
        return self.count(Outcome.CREATED)

    @property
    def updated(self) -> int:
        return self.count(Outcome.UPDATED)

    @property
    def unchanged(self) -> int:
        return self.count(Outcome.UNCHANGED)

    @property
    def skipped_rows(self) -> int:
        return len({p.line for p in self.skipped})


class RosterRefusedError(ValueError):
    """The roster has bad rows and skipping them was not asked for: nothing was written."""

    def __init__(self, roster: Roster) -> None:
        self.roster = roster
        self.problems = roster.problems
        rows = len(roster.bad_lines)
        super().__init__(
            f"{roster.source}: {rows} row{'s' if rows != 1 else ''} cannot be imported; "
            "nothing was written"
        )


async def import_roster(
    records: RosterRecords,
    school_key: str,
    roster: Roster,
    *,
    skip_bad: bool = False,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Bring one school's pupils, guardians and consent in line with `roster`, atomically.

    Raises RosterRefusedError (before writing) if the roster has problems and not `skip_bad`;
    SchoolNotFoundError for an unknown key. `progress(n)` is called as rows are done.
    """
    if roster.problems and not skip_bad:
        raise RosterRefusedError(roster)
    now = now or dt.datetime.now(dt.UTC)
    source = f"roster import {roster.source}"[:100]
    changes: list[PupilChange] = []
    kept: list[str] = []
    async with records.begin() as conn:
        school = await records.require_school(conn, school_key)
        await records.lock_school(conn, school.id)
        existing = await records.list_pupils(conn, school.id)
        classes, created_classes = await _classes(records, conn, school.id, roster.rows)
        matches = match_pupils(existing, roster.rows)
        writer = _Writer(records, conn, school.id, now, source)
        new: list[tuple[RosterRow, str]] = []
        for row in roster.rows:
            pupil = matches.get(row.line)
            class_id = classes[class_key(row.class_name)]
            if pupil is None:
                new.append((row, class_id))  # added together below, a few statements in all
                continue
            changed, kept_consent = await writer.update(row, pupil, class_id)
            outcome = Outcome.UPDATED if changed else Outcome.UNCHANGED
            changes.append(PupilChange(row.line, row.full_name, outcome, changed, pupil.id))
            if kept_consent:
                why = (
                    "the file's consent cell is blank or implied"
                    if row.consent is Consent.IMPLIED
                    else "a parent withdrew consent through their child's link after the file's "
                    "consent date"
                )
                kept.append(f"line {row.line}: {row.full_name} stays '{kept_consent}' ({why})")
            if progress:
                progress(1)
        for start in range(0, len(new), BATCH):
            batch = new[start : start + BATCH]
            ids = await writer.create(batch)
            for (row, _), pupil_id in zip(batch, ids, strict=True):
                changes.append(PupilChange(row.line, row.full_name, Outcome.CREATED, (), pupil_id))
            if progress:
                progress(len(batch))
    changes.sort(key=lambda change: change.line)
    return ImportSummary(
        school.key, roster.source, tuple(changes), roster.problems, created_classes, tuple(kept)
    )


def match_pupils(
    existing: Sequence[PupilRecord], rows: Sequence[RosterRow]
) -> dict[int, PupilRecord]:
    """Which stored pupil each row is (by line); rows without a match are new pupils.

    A row's MIS id finds its pupil first. Failing that, the same names and class find a pupil
    whose birth date is the row's, or is unknown on one side (an export without the DOB column
    must not duplicate every pupil); one stored without an MIS id is preferred, so a later
    export that adds UPNs adopts the pupils already there. No stored pupil is matched twice.
    """
    by_mis: dict[str, PupilRecord] = {}
    by_name: dict[tuple[str, str, str], list[PupilRecord]] = {}
    for pupil in existing:
        if pupil.mis_id:
            by_mis.setdefault(pupil.mis_id.casefold(), pupil)
        key = pupil_key(pupil.forename, pupil.surname, pupil.class_name or "", None)
        by_name.setdefault(key[:3], []).append(pupil)
    claimed: set[str] = set()
    found: dict[int, PupilRecord] = {}
    for row in rows:  # MIS ids first: they are certain
        hit = by_mis.get(row.mis_id.casefold()) if row.mis_id else None
        if hit is not None and hit.id not in claimed:
            found[row.line] = hit
            claimed.add(hit.id)
    for row in rows:
        if row.line in found:
            continue
        born = row.date_of_birth
        candidates = [
            p
            for p in by_name.get(row.natural_key[:3], ())
            if p.id not in claimed
            and (born is None or p.date_of_birth is None or p.date_of_birth == born)
            and not (row.mis_id and p.mis_id)  # a different MIS id is a different child
        ]
        if candidates:
            candidates.sort(
                key=lambda p: (p.date_of_birth != born, p.mis_id is not None, p.created_at, p.id)
            )
            found[row.line] = candidates[0]
            claimed.add(candidates[0].id)
    return found


def pupil_changes(row: RosterRow, pupil: PupilRecord, class_id: str) -> dict[str, Any]:
    """The pupil's own fields the row changes (blank MIS id and birth date keep the stored)."""
    wanted: dict[str, Any] = {
        "forename": row.forename,
        "surname": row.surname,
        "class_id": class_id,
    }
    if row.mis_id:
        wanted["mis_id"] = row.mis_id
    if row.date_of_birth:
        wanted["date_of_birth"] = row.date_of_birth
    current: Mapping[str, Any] = {
        "forename": pupil.forename,
        "surname": pupil.surname,
        "class_id": pupil.class_id,
        "mis_id": pupil.mis_id,
        "date_of_birth": pupil.date_of_birth,
    }
    return {name: value for name, value in wanted.items() if current[name] != value}


def guardian_change(
    row: RosterRow, guardians: Sequence[GuardianRecord]
) -> tuple[GuardianRecord | None, dict[str, str | None]] | None:
    """(the guardian to update, or None to add one; their details), or None if nothing changes.

    The row's guardian is the stored one with the same email, else the first on record. A blank
    cell keeps that guardian's stored detail, unless the row names a different email: then it
    is another person, and none of the old details are kept.
    """
    if not row.has_guardian:
        return None
    values = {"name": row.guardian_name, "email": row.guardian_email, "phone": row.guardian_phone}
    email = (row.guardian_email or "").casefold()
    same = [g for g in guardians if email and (g.email or "").casefold() == email]
    target = same[0] if same else (guardians[0] if guardians else None)
    if target is not None and (same or not email):
        stored = {"name": target.name, "email": target.email, "phone": target.phone}
        values = {k: v if v is not None else stored[k] for k, v in values.items()}
    if target is not None and (target.name, target.email, target.phone) == tuple(values.values()):
        return None
    return target, values


def consent_change(
    row: RosterRow, stored: ConsentState | None, now: dt.datetime
) -> tuple[tuple[Consent, dt.datetime] | None, Consent | None]:
    """(new basis and time, or None), and the explicit basis kept over a blank cell, if any."""
    when = _consent_time(row)
    if stored is None:
        return (row.consent, when or now), None
    if withdrawn_by_family_since(row, stored):
        return None, stored.basis  # the family's word through their link is newer than the file
    if row.consent is Consent.IMPLIED and stored.basis is not Consent.IMPLIED:
        return None, stored.basis  # never lose a recorded "given" or "refused" to a blank cell
    if row.consent is stored.basis:
        if when is not None and stored.recorded_at.date() != row.consent_date:
            return (row.consent, when), None
        return None, None
    return (row.consent, when or now), None


def withdrawn_by_family_since(row: RosterRow, stored: ConsentState) -> bool:
    """A parent withdrew consent through their child's link (C23), and this file says otherwise
    with no consent date after that day: the file predates the family's word, which holds until
    the school hears from them again (a "given" dated after the withdrawal is that)."""
    if stored.source != PARENT_BY_LINK or stored.basis is not Consent.REFUSED:
        return False
    if row.consent is Consent.REFUSED:
        return False
    return row.consent_date is None or row.consent_date <= stored.recorded_at.date()


def _consent_time(row: RosterRow) -> dt.datetime | None:
    """The file's consent date as the start of that day, UTC."""
    if row.consent_date is None:
        return None
    return dt.datetime.combine(row.consent_date, dt.time(), dt.UTC)


async def _classes(
    records: RosterRecords, conn: AsyncConnection, school_id: str, rows: Sequence[RosterRow]
) -> tuple[dict[str, str], tuple[str, ...]]:
    """Class ids by class key, creating the classes the school does not have yet."""
    classes = await records.list_classes(conn, school_id)
    # A group's name is not a class: upsert_class refuses it below, and the import with it.
    ids = {class_key(c.name): c.id for c in classes if not c.is_group}
    created: list[str] = []
    for row in rows:
        key = class_key(row.class_name)
        if key not in ids:
            record, _ = await records.upsert_class(conn, school_id, row.class_name)
            ids[key] = record.id
            created.append(record.name)
    return ids, tuple(created)


class _Writer:
    """The writes of one import: every statement on the one connection, at the one `now`."""

    def __init__(
        self,
        records: RosterRecords,
        conn: AsyncConnection,
        school_id: str,
        now: dt.datetime,
        source: str,
    ) -> None:
        self.records, self.conn = records, conn
        self.school_id, self.now, self.source = school_id, now, source

    async def create(self, rows: Sequence[tuple[RosterRow, str]]) -> list[str]:
        """New pupils (row, class id) with their guardian and consent, in a few statements."""
        return await self.records.add_pupils(
            self.conn,
            self.school_id,
            [
                NewPupil(
                    forename=row.forename,
                    surname=row.surname,
                    class_id=class_id,
                    mis_id=row.mis_id,
                    date_of_birth=row.date_of_birth,
                    guardian_name=row.guardian_name,
                    guardian_email=row.guardian_email,
                    guardian_phone=row.guardian_phone,
                    consent=row.consent,
                    consent_at=_consent_time(row) or self.now,
                    consent_source=self.source,
                )
                for row, class_id in rows
            ],
            now=self.now,
        )

    async def update(
        self, row: RosterRow, pupil: PupilRecord, class_id: str
    ) -> tuple[tuple[str, ...], Consent | None]:
        changed: list[str] = []
        fields = pupil_changes(row, pupil, class_id)
        if fields:
            await self.records.update_pupil(
                self.conn, self.school_id, pupil.id, fields, now=self.now
            )
            changed += ["class" if name == "class_id" else name for name in fields]
        guardian = guardian_change(row, pupil.guardians)
        if guardian is not None:
            target, values = guardian
            if target is None:
                await self.records.add_guardian(
                    self.conn, self.school_id, pupil.id, **values, now=self.now
                )
            else:
                await self.records.update_guardian(
                    self.conn, self.school_id, target.id, **values, now=self.now
                )
            changed.append("guardian")
        consent, kept = consent_change(row, pupil.consent, self.now)
        if consent is not None:
            await self._consent(pupil.id, *consent)
            changed.append("consent")
        return tuple(changed), kept

    async def _consent(self, pupil_id: str, basis: Consent, when: dt.datetime) -> None:
        await self.records.set_consent(
            self.conn,
            self.school_id,
            pupil_id,
            basis,
            source=self.source,
            recorded_at=when,
            now=self.now,
        )
