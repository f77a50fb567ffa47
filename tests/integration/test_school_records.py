"""School records on SQLite and PostgreSQL: schools, policy versions, staff, classes, pupils."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from safeclass.adapters.store import pupil_records as pupils
from safeclass.adapters.store import school_records as schools
from safeclass.adapters.store.records import StoreRecords
from safeclass.adapters.store.school_records import (
    NotInSchoolError,
    RecordsError,
    SchoolExistsError,
    SchoolNotFoundError,
    StaffRole,
)
from safeclass.adapters.store.tables import Pupil
from safeclass.core import Consent
from safeclass.policy import load_preset, loads
from safeclass.policy.loading import preset_path
from safeclass.policy.model import NameRule
from tests.integration.seed import seed_session

NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
HASH = "$argon2id$v=19$not-a-real-hash"  # the store keeps whatever hash auth gives it


def preset_text(name: str, old: str = "", new: str = "") -> str:
    text = preset_path(name).read_text(encoding="utf-8")
    if old:
        assert text.count(old) == 1
        text = text.replace(old, new)
    return text


async def add_school(
    conn: AsyncConnection, preset: str = "claydon", key: str | None = None
) -> schools.SchoolRecord:
    text = preset_text(preset)
    return await schools.create_school(conn, loads(text), text, key=key, now=NOW)


async def add_class_of(
    conn: AsyncConnection, school_id: str, names: list[tuple[str, str]], class_name: str = "2B"
) -> tuple[str, list[str]]:
    klass, _ = await schools.upsert_class(conn, school_id, class_name)
    ids = [
        await pupils.add_pupil(conn, school_id, forename=f, surname=s, class_id=klass.id, now=NOW)
        for f, s in names
    ]
    return klass.id, ids


# --- schools and policy versions ----------------------------------------------------------------


async def test_a_school_is_created_from_a_preset_with_its_policy_as_version_1(
    engine: AsyncEngine,
) -> None:
    # covers: C20, STJ-01, CRO-17
    async with engine.begin() as conn:
        school = await add_school(conn)
    async with engine.connect() as conn:
        found = await schools.school_by_key(conn, "claydon")
        assert found == school
        assert found.name == "Claydon Primary School"
        (version,) = await schools.policy_versions(conn, school.id)
        assert version.version == 1
        assert version.toml == preset_text("claydon")
        assert (version.adopted, version.review) == (dt.date(2021, 1, 4), dt.date(2022, 1, 4))
        assert await schools.current_policy(conn, school.id) == load_preset("claydon")


async def test_a_school_key_is_used_once_and_must_be_a_plain_key(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await add_school(conn)
    async with engine.begin() as conn:
        with pytest.raises(SchoolExistsError, match="a school with key 'claydon' already exists"):
            await add_school(conn)
        with pytest.raises(RecordsError, match="cannot be a school key"):
            await add_school(conn, key="Claydon School")
        second = await add_school(conn, key="claydon-east")
    async with engine.connect() as conn:
        assert [s.key for s in await schools.list_schools(conn)] == ["claydon", "claydon-east"]
        assert second.name == "Claydon Primary School"
        with pytest.raises(SchoolNotFoundError, match="no school with key 'nowhere'"):
            await schools.require_school(conn, "nowhere")


async def test_the_stored_policy_text_must_be_the_policy_itself(engine: AsyncEngine) -> None:
    # The TOML is what governs sessions later, so a mismatch is refused, not stored.
    async with engine.begin() as conn:
        with pytest.raises(RecordsError, match="does not match"):
            await schools.create_school(
                conn, load_preset("claydon"), preset_text("crofton"), now=NOW
            )


async def test_a_new_policy_version_governs_from_now_and_the_old_one_is_kept(
    engine: AsyncEngine,
) -> None:
    # covers: C20, CRO-17
    async with engine.begin() as conn:
        school = await add_school(conn)
        first = await schools.current_policy_version(conn, school.id)
    revised = preset_text("claydon", "max_minutes = 30 ", "max_minutes = 45 ").replace(
        "version = 1", "version = 2"
    )
    async with engine.begin() as conn:
        second = await schools.add_policy_version(
            conn, school.id, loads(revised), revised, now=NOW + dt.timedelta(days=1)
        )
    async with engine.connect() as conn:
        assert [v.version for v in await schools.policy_versions(conn, school.id)] == [1, 2]
        assert (await schools.current_policy(conn, school.id)).timing.max_minutes == 45
        # a session scheduled under version 1 still finds the rules it ran under
        old = await schools.policy_version(conn, school.id, first.id)
        assert old.load().timing.max_minutes == 30
        assert second.version == 2
        assert second.created_at == NOW + dt.timedelta(days=1)


async def test_policy_versions_are_numbered_per_school(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        a = await add_school(conn, "claydon")
        b = await add_school(conn, "crofton")
        text = preset_text("claydon")
        await schools.add_policy_version(conn, a.id, loads(text), text, now=NOW)
    async with engine.connect() as conn:
        assert [v.version for v in await schools.policy_versions(conn, a.id)] == [1, 2]
        assert [v.version for v in await schools.policy_versions(conn, b.id)] == [1]
        a_first = (await schools.policy_versions(conn, a.id))[0]
        with pytest.raises(NotInSchoolError):
            await schools.policy_version(conn, b.id, a_first.id)


# --- staff ----------------------------------------------------------------------------------------


async def test_staff_are_listed_by_role_and_the_dsl_is_found(engine: AsyncEngine) -> None:
    # covers: C21, CLA-16, CRO-03, STJ-02
    async with engine.begin() as conn:
        school = await add_school(conn)
        for name, email, role in [
            ("Ms Teacher", "teacher@claydon.sch.uk", StaffRole.TEACHER),
            ("Mr Assistant", "ta@claydon.sch.uk", StaffRole.ASSISTANT),
            ("Mrs Lead", "DSL@Claydon.sch.uk", StaffRole.DSL),
            ("Dr Head", "head@claydon.sch.uk", "head"),
            ("Office", "office@claydon.sch.uk", "admin"),
        ]:
            await schools.add_staff(
                conn, school.id, name=name, email=email, role=role, password_hash=HASH, now=NOW
            )
    async with engine.connect() as conn:
        (dsl,) = await schools.staff_by_role(conn, school.id, StaffRole.DSL)
        assert (dsl.name, dsl.email, dsl.role) == ("Mrs Lead", "dsl@claydon.sch.uk", StaffRole.DSL)
        assert len(await schools.staff_by_role(conn, school.id)) == 5
        found = await schools.staff_by_email(conn, school.id, " Head@claydon.sch.uk")
        assert found is not None
        assert found.role is StaffRole.HEAD
        assert found.password_hash == HASH
        assert "password_hash" not in repr(found)


async def test_a_staff_email_is_used_once_per_school_and_a_role_must_be_known(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        a = await add_school(conn, "claydon")
        b = await add_school(conn, "crofton")
        await schools.add_staff(conn, a.id, name="Ms T", email="t@x.org", role="teacher")
        # the same person may work at two schools of a trust
        await schools.add_staff(conn, b.id, name="Ms T", email="t@x.org", role="teacher")
        with pytest.raises(RecordsError, match="already a member of staff"):
            await schools.add_staff(conn, a.id, name="Ms T", email="T@X.org", role="dsl")
        with pytest.raises(ValueError, match="'caretaker' is not a valid StaffRole"):
            await schools.add_staff(conn, a.id, name="Mr C", email="c@x.org", role="caretaker")
        with pytest.raises(RecordsError, match="not an email address"):
            await schools.add_staff(conn, a.id, name="Mr C", email="c at x", role="teacher")
    async with engine.connect() as conn:
        assert [s.school_id for s in await schools.staff_by_role(conn, a.id)] == [a.id]


# --- classes, groups and pupils -------------------------------------------------------------------


async def test_classes_are_upserted_by_name_whatever_its_case(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        school = await add_school(conn)
        first, created = await schools.upsert_class(conn, school.id, "2B")
        again, created_again = await schools.upsert_class(conn, school.id, " 2b ")
        group, _ = await schools.upsert_class(conn, school.id, "Phonics", is_group=True)
        with pytest.raises(RecordsError, match="'Phonics' is already a group"):
            await schools.upsert_class(conn, school.id, "phonics")
    assert (created, created_again) == (True, False)
    assert again == first
    async with engine.connect() as conn:
        assert [c.name for c in await schools.list_classes(conn, school.id)] == ["2B", "Phonics"]
        assert group.is_group


async def test_a_class_shows_names_by_the_policy_rule_with_clashes_told_apart(
    engine: AsyncEngine,
) -> None:
    # covers: C4, CLA-15, CRO-11
    async with engine.begin() as conn:
        school = await add_school(conn)
        class_id, ids = await add_class_of(
            conn,
            school.id,
            [("Amelia", "Roberts"), ("Amelia", "Richards"), ("Zoë-Mae", "O'Neill"), ("Siân", "Ng")],
        )
    async with engine.connect() as conn:
        shown = {
            p.id: p.display_name for p in await pupils.pupils_of_class(conn, school.id, class_id)
        }
        full = await pupils.pupils_of_class(conn, school.id, class_id, NameRule.FULL_NAME)
    assert shown == {
        ids[0]: "Amelia Ro.",
        ids[1]: "Amelia Ri.",
        ids[2]: "Zoë-Mae O.",
        ids[3]: "Siân N.",
    }
    assert {p.display_name for p in full} >= {"Zoë-Mae O'Neill", "Amelia Roberts"}


async def test_a_group_lists_its_members_from_any_class(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        school = await add_school(conn)
        _, two_b = await add_class_of(conn, school.id, [("Amelia", "Roberts"), ("Ben", "Ali")])
        _, three_c = await add_class_of(conn, school.id, [("Chloe", "Smith")], "3C")
        group, _ = await schools.upsert_class(conn, school.id, "Reading", is_group=True)
        for pupil_id in (two_b[1], three_c[0], three_c[0]):  # adding twice is harmless
            await pupils.add_group_member(conn, school.id, group.id, pupil_id)
    async with engine.connect() as conn:
        members = await pupils.pupils_of_class(conn, school.id, group.id)
    assert [p.display_name for p in members] == ["Ben A.", "Chloe S."]


async def test_malformed_names_never_become_pupils(engine: AsyncEngine) -> None:
    # covers: C4, CLA-15, CRO-15
    async with engine.begin() as conn:
        school = await add_school(conn)
        for forename, surname in [("bob123", "Smith"), ("", "Smith"), ("Amelia", "R.")]:
            with pytest.raises(RecordsError, match="cannot be a pupil's"):
                await pupils.add_pupil(conn, school.id, forename=forename, surname=surname)
        pupil_id = await pupils.add_pupil(conn, school.id, forename="Amelia", surname="Roberts")
        with pytest.raises(RecordsError, match="cannot be a pupil's"):
            await pupils.update_pupil(conn, school.id, pupil_id, {"surname": "R0berts"})
        with pytest.raises(RecordsError, match="no field"):
            await pupils.update_pupil(conn, school.id, pupil_id, {"school_id": "x"})


async def test_a_pupil_is_kept_with_guardians_and_consent(engine: AsyncEngine) -> None:
    # covers: C17, CLA-14, WER-13, S04-18
    async with engine.begin() as conn:
        school = await add_school(conn)
        _, (pupil_id,) = await add_class_of(conn, school.id, [("Siân", "O'Neill")])
        await pupils.add_guardian(
            conn, school.id, pupil_id, name="Rhian O'Neill", email="r@example.org", now=NOW
        )
        await pupils.set_consent(
            conn, school.id, pupil_id, Consent.REFUSED, source="parent's email", now=NOW
        )
    async with engine.connect() as conn:
        pupil = await pupils.get_pupil(conn, school.id, pupil_id)
    assert (pupil.forename, pupil.surname, pupil.class_name) == ("Siân", "O'Neill", "2B")
    assert [(g.name, g.email) for g in pupil.guardians] == [("Rhian O'Neill", "r@example.org")]
    assert pupil.consent == pupils.ConsentState(Consent.REFUSED, NOW, "parent's email")
    assert pupil.consent_basis is Consent.REFUSED
    assert pupil.created_at.tzinfo is dt.UTC
    later = NOW + dt.timedelta(days=3)
    async with engine.begin() as conn:
        await pupils.set_consent(conn, school.id, pupil_id, "given", source="form", now=later)
    async with engine.connect() as conn:
        pupil = await pupils.get_pupil(conn, school.id, pupil_id)
        assert pupil.consent == pupils.ConsentState(Consent.GIVEN, later, "form")
        assert pupil.updated_at == later


async def test_a_pupil_without_a_consent_record_counts_as_implied(engine: AsyncEngine) -> None:
    # covers: C17, CLA-14
    async with engine.begin() as conn:
        school = await add_school(conn)
        class_id, _ = await add_class_of(conn, school.id, [("Amelia", "Roberts")])
    async with engine.connect() as conn:
        (shown,) = await pupils.pupils_of_class(conn, school.id, class_id)
    assert shown.consent is Consent.IMPLIED


# --- no school sees another's ---------------------------------------------------------------------


async def test_two_schools_never_see_or_change_each_others_pupils(engine: AsyncEngine) -> None:
    # covers: C21, STJ-01
    async with engine.begin() as conn:
        a = await add_school(conn, "claydon")
        b = await add_school(conn, "crofton")
        a_class, (a_pupil,) = await add_class_of(conn, a.id, [("Amelia", "Roberts")])
        b_class, (b_pupil,) = await add_class_of(conn, b.id, [("Ben", "Ali")])
    async with engine.connect() as conn:
        assert [p.id for p in await pupils.list_pupils(conn, a.id)] == [a_pupil]
        assert [p.id for p in await pupils.list_pupils(conn, b.id)] == [b_pupil]
        assert await pupils.count_pupils(conn, a.id) == 1
        # another school's pupil is "not found", word for word like one that does not exist
        with pytest.raises(NotInSchoolError) as theirs:
            await pupils.get_pupil(conn, b.id, a_pupil)
        with pytest.raises(NotInSchoolError) as nobody:
            await pupils.get_pupil(conn, b.id, "no-such-pupil")
        assert str(theirs.value).replace(a_pupil, "ID") == str(nobody.value).replace(
            "no-such-pupil", "ID"
        )
        with pytest.raises(NotInSchoolError, match="no class"):
            await pupils.pupils_of_class(conn, b.id, a_class)
        with pytest.raises(NotInSchoolError, match="no class"):
            await schools.class_in_school(conn, a.id, b_class)
    async with engine.begin() as conn:
        attempts = [
            pupils.update_pupil(conn, b.id, a_pupil, {"surname": "Smith"}),
            pupils.set_consent(conn, b.id, a_pupil, Consent.REFUSED, source="x"),
            pupils.add_guardian(conn, b.id, a_pupil, email="x@y.org"),
            pupils.update_pupil(conn, a.id, a_pupil, {"class_id": b_class}),
        ]
        for attempt in attempts:
            with pytest.raises(NotInSchoolError):
                await attempt
    async with engine.connect() as conn:
        pupil = await pupils.get_pupil(conn, a.id, a_pupil)
        assert (pupil.surname, pupil.class_id, pupil.guardians, pupil.consent) == (
            "Roberts",
            a_class,
            (),
            None,
        )
        assert (
            await conn.execute(select(Pupil.school_id).where(Pupil.id == a_pupil))
        ).scalar() == a.id


async def test_a_group_cannot_take_a_pupil_of_another_school(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        a = await add_school(conn, "claydon")
        b = await add_school(conn, "crofton")
        _, (a_pupil,) = await add_class_of(conn, a.id, [("Amelia", "Roberts")])
        group, _ = await schools.upsert_class(conn, b.id, "Reading", is_group=True)
        with pytest.raises(NotInSchoolError, match="no pupil"):
            await pupils.add_group_member(conn, b.id, group.id, a_pupil)
        with pytest.raises(NotInSchoolError, match="no class"):
            await pupils.add_group_member(conn, a.id, group.id, a_pupil)


# --- the consent watch's mark -------------------------------------------------------------------


async def test_a_sessions_consent_mark_changes_with_any_change_to_its_pupils_consent(
    engine: AsyncEngine,
) -> None:
    # covers: C17, CRO-16 (the consent watch compares a room again only when its mark moves)
    session_id = await seed_session(engine, pupils=3)
    records = StoreRecords(engine)
    marks = await records.consent_marks([session_id, "no-such-session"])
    assert list(marks) == [session_id]  # a row a session that has pupils
    first = marks[session_id]
    assert await records.consent_marks([session_id]) == {session_id: first}  # nothing changed

    async with engine.begin() as conn:
        school_id = (
            await conn.execute(select(Pupil.school_id).where(Pupil.id == "p2"))
        ).scalar_one()
        await pupils.set_consent(conn, school_id, "p2", Consent.REFUSED, source="parent", now=NOW)
    refused = (await records.consent_marks([session_id]))[session_id]
    assert refused != first
    async with engine.begin() as conn:  # and back again: the basis is as before, the mark not
        await pupils.set_consent(conn, school_id, "p2", Consent.IMPLIED, source="parent", now=NOW)
    again = (await records.consent_marks([session_id]))[session_id]
    assert again not in (first, refused)
    found = {c.pupil_id: c.consent for c in await records.recorded_consents([session_id])}
    assert found == {"p1": Consent.IMPLIED, "p2": Consent.IMPLIED, "p3": Consent.IMPLIED}
