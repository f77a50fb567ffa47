"""The role table in code and in docs/roles.md say the same thing (C21)."""

from __future__ import annotations

from pathlib import Path

import pytest

from safeclass.app import staff_roles
from safeclass.app.staff_roles import CAPABILITIES, ROLES, Capability, may
from safeclass.web.deps import require_role

DOC = Path(__file__).parents[2] / "docs" / "roles.md"


def _doc_table() -> dict[str, set[str]]:
    lines = [line for line in DOC.read_text("utf-8").splitlines() if line.startswith("| `")]
    header = next(
        line for line in DOC.read_text("utf-8").splitlines() if line.startswith("| capability")
    )
    roles = [cell.strip() for cell in header.strip("|").split("|")][1:-1]
    table: dict[str, set[str]] = {role: set() for role in roles}
    for line in lines:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        capability = cells[0].strip("`")
        for role, mark in zip(roles, cells[1:-1], strict=True):
            if mark == "✓":
                table[role].add(capability)
    return table


# covers: C21, CLA-16, CRO-03, STJ-02
def test_docs_roles_md_lists_exactly_what_each_role_may_do():
    table = _doc_table()
    assert list(table) == list(ROLES)
    assert table == {role: {c.value for c in CAPABILITIES[role]} for role in ROLES}


def test_every_capability_belongs_to_some_role_and_admins_never_run_sessions():
    assert set().union(*CAPABILITIES.values()) == set(Capability)
    assert not may("admin", Capability.RUN_SESSIONS)
    assert not may("admin", Capability.JOIN_ANY_SESSION)
    assert "admin" not in staff_roles.SESSION_ROLES
    assert not may("pupil", Capability.RUN_SESSIONS)


def test_require_role_refuses_a_role_that_does_not_exist_when_the_route_is_defined():
    with pytest.raises(ValueError, match="require_role"):
        require_role("teacher", "caretaker")
    with pytest.raises(ValueError, match="require_role"):
        require_role()
