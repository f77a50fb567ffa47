"""The role and route tables in code and in docs/roles.md say the same thing (C21)."""

from __future__ import annotations

import pytest

from safeclass.app import roles_doc, route_access, staff_roles
from safeclass.app.route_access import Caller, Reach, Scope
from safeclass.app.staff_roles import CAPABILITIES, Capability, may


# covers: C21, CLA-16, CRO-03, STJ-02
def test_docs_roles_md_is_written_from_the_role_and_route_tables():
    text = roles_doc.DOC.read_text("utf-8")
    assert roles_doc.render(text) == text, "docs/roles.md is out of date: run scripts/roles-doc"
    for capability in Capability:
        assert f"| `{capability.value}` |" in text
    for rule in route_access.RULES:
        assert f"| `{rule.method} {rule.path}` |" in text


def test_a_generated_section_without_its_markers_or_its_table_is_an_error():
    with pytest.raises(KeyError, match="routes"):
        roles_doc.render(
            "<!-- generated: capabilities (scripts/roles-doc) -->\n"
            "<!-- end generated: capabilities -->\n"
        )
    with pytest.raises(KeyError, match="nobody"):
        roles_doc.render(
            "<!-- generated: nobody (scripts/roles-doc) -->\n<!-- end generated: nobody -->\n"
        )


def test_every_capability_belongs_to_some_role_and_admins_never_run_sessions():
    assert set().union(*CAPABILITIES.values()) == set(Capability)
    assert set(staff_roles.MEANINGS) == set(Capability)
    assert not may("admin", Capability.RUN_SESSIONS)
    assert not may("admin", Capability.JOIN_ANY_SESSION)
    assert "admin" not in staff_roles.SESSION_ROLES
    assert not may("pupil", Capability.RUN_SESSIONS)


# covers: C21, CLA-16
def test_teachers_and_assistants_reach_only_the_sessions_they_are_on():
    for role in ("teacher", "assistant"):
        assert not staff_roles.may_reach_session(role, False)
        assert staff_roles.may_reach_session(role, True)
        assert not staff_roles.may_join_room(role, False)
    for role in ("dsl", "head", "admin"):
        assert staff_roles.may_reach_session(role, False)
    session_routes = [r for r in route_access.RULES if r.scope is Scope.SESSION]
    assert session_routes
    for rule in session_routes:
        assert route_access.staff_reach(rule, "teacher") in (Reach.ON_IT, Reach.NOTHING)


def test_a_refusal_names_the_roles_that_can():
    assert staff_roles.refusal(Capability.SCHEDULE_SESSIONS) == (
        "Only teachers, heads and admins can schedule or change sessions"
    )
    assert staff_roles.refusal(Capability.VIEW_RECORDINGS) == (
        "Only DSLs and heads can see recordings"
    )


def test_every_route_row_is_well_formed():
    for rule in route_access.RULES:
        if rule.capability is not None:
            assert rule.caller is Caller.STAFF, rule
        if rule.scope is Scope.SESSION:
            assert "{session_id}" in rule.path, rule
    with pytest.raises(route_access.NoRuleError, match="GET /nowhere"):
        route_access.rule_for("GET", "/nowhere")
