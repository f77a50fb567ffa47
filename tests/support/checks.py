"""Shared checks for the room tests: the five presets, policy variants, refused-and-unchanged.

A refusal must change nothing: `refused_unchanged` brings the clock up to date first (so the only
thing under test is the command), then checks the room and its log are exactly as they were.
"""

from __future__ import annotations

from typing import Any, TypeVar

from safeclass.core import Refusal, RefusalCode, Role
from safeclass.core import commands as c
from safeclass.core.events import Event
from safeclass.policy import Policy, load_preset
from tests.support.rooms import Driver, FromDevice

PRESETS = ("claydon", "werrington", "st-josephs", "crofton", "s04")
TWO_ADULT_PRESETS = ("claydon", "werrington", "st-josephs", "s04")  # no single-adult fallback

_E = TypeVar("_E", bound=Event)


def variant(preset: str, **sections: dict[str, Any]) -> Policy:
    """The preset with some settings changed: variant("claydon", chat={"default": "on"})."""
    data = load_preset(preset).model_dump(mode="python")
    for section, changes in sections.items():
        data[section] = {**data[section], **changes}
    return Policy.model_validate(data)


def refused_unchanged(
    d: Driver, command: c.Command | FromDevice, code: RefusalCode | None = None
) -> Refusal:
    """Run `command`, which must be refused, and check the room did not change at all."""
    d.ok(c.Tick())
    before, logged = d.state, len(d.log)
    refusal = d.refused(command)
    assert d.state == before
    assert d.log[logged:] == []
    if code is not None:
        assert refusal.code is code, refusal
    return refusal


def only(events: list[Event], kind: type[_E]) -> _E:
    """The one event of type `kind` among `events`."""
    found = [e for e in events if isinstance(e, kind)]
    assert len(found) == 1, [e.type_name for e in events]
    return found[0]


def staff_in(d: Driver, *staff: str) -> None:
    """Staff join (the first as teacher, the rest as assistants); nobody is admitted."""
    for i, sid in enumerate(staff or ("t1", "t2")):
        d.staff_join(sid, Role.TEACHER if i == 0 else Role.ASSISTANT)
