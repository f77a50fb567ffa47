"""docs/roles.md's tables, written from the code's tables so the page and the server agree.

The page keeps its prose; each generated table sits between two markers,

    <!-- generated: NAME (scripts/roles-doc) -->
    ...
    <!-- end generated: NAME -->

and `render` rewrites what is between them from `SECTIONS[NAME]`. `scripts/roles-doc` writes
the page (`--check` only says whether it is up to date); a test fails while they differ. One more
table is one more function in SECTIONS and one more pair of markers on the page.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from safeclass.app import route_access, staff_roles
from safeclass.app.route_access import Caller, Reach, Scope
from safeclass.core import permissions

DOC = Path(__file__).resolve().parents[3] / "docs" / "roles.md"
_MARKERS = re.compile(
    r"(<!-- generated: (?P<name>[\w-]+) \(scripts/roles-doc\) -->\n)(?P<body>.*?)"
    r"(<!-- end generated: (?P=name) -->)",
    re.DOTALL,
)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def capabilities_table() -> str:
    """Each capability, the roles that have it, and what it means."""
    lines = [
        _row(["capability", *staff_roles.ROLES, "what it means"]),
        _row(["---"] * (len(staff_roles.ROLES) + 2)),
    ]
    for capability in staff_roles.Capability:
        marks = ["✓" if staff_roles.may(role, capability) else "" for role in staff_roles.ROLES]
        lines.append(_row([f"`{capability.value}`", *marks, staff_roles.MEANINGS[capability][1]]))
    return "\n".join(lines) + "\n"


_WHO = {
    Caller.ANYONE: "anyone",
    Caller.LINK: "the link's holder",
    Caller.STAFF: "staff",
    Caller.ROOM: "the session's pupils, and staff",
    Caller.OPERATOR: "the metrics token",
}
_CELL = {Reach.ALL: "✓", Reach.ON_IT: "on it", Reach.NOTHING: ""}


def _needs(rule: route_access.Rule) -> str:
    parts = [f"`{rule.capability.value}`"] if rule.capability is not None else []
    if rule.caller is Caller.ROOM:
        parts.append("`run_sessions` and on it, or `join_any_session`")
    elif rule.scope is Scope.SESSION:
        parts.append("a session they reach")
    elif rule.scope is Scope.SCHOOL:
        parts.append("their school's")
    return ", ".join(parts)


def routes_table() -> str:
    """Every HTTP route: who may call it, and how far each staff role gets with it."""
    lines = [
        _row(["route", "who", *staff_roles.ROLES, "needs", "what"]),
        _row(["---"] * (len(staff_roles.ROLES) + 4)),
    ]
    for rule in route_access.RULES:
        cells = [_CELL[route_access.staff_reach(rule, role)] for role in staff_roles.ROLES]
        route = f"`{rule.method} {rule.path}`"
        lines.append(_row([route, _WHO[rule.caller], *cells, _needs(rule), rule.what]))
    return "\n".join(lines) + "\n"


def room_commands_table() -> str:
    """Every live-room command and who may send it (`core.permissions`, the room's own table)."""
    lines = [_row(["command", "who may send it", "staff command refused to others as"])]
    lines.append(_row(["---"] * 3))
    for command, who in permissions.ROOM_COMMANDS.items():
        doing = permissions.DOING.get(command)
        refusal = f"“Only staff can {doing}”" if doing else ""
        lines.append(_row([f"`{command.__name__}`", who.value, refusal]))
    return "\n".join(lines) + "\n"


SECTIONS: Mapping[str, Callable[[], str]] = {
    "capabilities": capabilities_table,
    "routes": routes_table,
    "room-commands": room_commands_table,
}


def render(text: str) -> str:
    """The page with every generated table rewritten; a marker with no section is an error."""

    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in SECTIONS:
            raise KeyError(f"docs/roles.md has a generated section {name!r} that no table makes")
        return match.group(1) + SECTIONS[name]() + match.group(4)

    rendered = _MARKERS.sub(replace, text)
    found = {m.group("name") for m in _MARKERS.finditer(text)}
    if found != set(SECTIONS):
        raise KeyError(f"docs/roles.md lacks the markers of {sorted(set(SECTIONS) - found)}")
    return rendered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write docs/roles.md's tables from the code.")
    parser.add_argument("--check", action="store_true", help="only say whether it is up to date")
    parser.add_argument("--doc", type=Path, default=DOC)
    args = parser.parse_args(argv)
    text = args.doc.read_text("utf-8")
    rendered = render(text)
    if args.check:
        if rendered != text:
            print(f"{args.doc} is out of date: run scripts/roles-doc", file=sys.stderr)
            return 1
        return 0
    if rendered != text:
        args.doc.write_text(rendered, "utf-8")
        print(f"{args.doc} rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
