"""What a subject access archive does to other children in free text (UK GDPR art. 15)."""

from __future__ import annotations

from safeclass.app.subject_access import _Scrubber


def _scrub() -> _Scrubber:
    # Amelia Roberts asks; her twin Ben Roberts and her classmate Will Smith are in her lessons
    others = {
        "p2": {"Ben Roberts", "Ben", "Roberts", "Ben R."},
        "p3": {"Will Smith", "Will", "Smith", "Will S."},
    }
    return _Scrubber(others, own={"Amelia", "Roberts", "Amelia Roberts"})


# covers: C17
def test_other_childrens_names_go_and_the_pupils_own_stay():
    scrub = _scrub()
    assert (
        scrub.text("Amelia Roberts said Ben Roberts and Will S. took her pencil")
        == "Amelia Roberts said [another pupil] and [another pupil] took her pencil"
    )
    assert (
        scrub.text("Ben cried; Mrs Roberts was told")
        == "[another pupil] cried; Mrs Roberts was told"
    )


# covers: C17
def test_a_name_that_is_also_a_word_is_not_blanked_in_lower_case():
    assert _scrub().text("She will tell Will tomorrow") == "She will tell [another pupil] tomorrow"


# covers: C17
def test_other_childrens_ids_become_another_pupil_and_lists_keep_only_the_pupil():
    scrub = _scrub()
    payload = {"pupil": "p2", "by": "t1", "disconnected": ["p1", "p2", "p3", "t1"]}
    assert scrub.payload(payload, "p1") == {
        "pupil": "another-pupil",
        "by": "t1",
        "disconnected": ["p1", "t1"],
    }
