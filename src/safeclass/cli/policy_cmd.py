"""`safeclass policy …`: list, explain, check and compare school policies, never with a traceback.

Every failure is a PolicyError from safeclass.policy.loading, printed to stderr as one line per
problem (where, which setting, what is wrong, a hint) with exit code 1.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, NoReturn
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from safeclass.policy.diff import diff
from safeclass.policy.explain import explain, review_date_has_passed, review_notice
from safeclass.policy.loading import PolicyError, load, load_all_presets
from safeclass.policy.model import Policy
from safeclass.policy.wording import count

policy_app = typer.Typer(
    help="School safeguarding policies: list the presets, explain, check and compare them.",
    no_args_is_help=True,
)

Source = Annotated[
    str,
    typer.Argument(
        metavar="NAME|FILE",
        help="A preset (claydon, werrington, st-josephs, crofton, s04) or a policy TOML file.",
        show_default=False,
    ),
]


@policy_app.command("list")
def list_presets() -> None:
    """List the built-in presets, one per seed school."""
    try:
        presets = load_all_presets()
    except PolicyError as err:
        _fail(err)
    table = Table(title="Built-in policy presets")
    table.add_column("Name", no_wrap=True)
    table.add_column("School", overflow="fold")
    for heading in ("Min staff", "Max minutes", "Recording", "Review date"):
        table.add_column(heading, overflow="fold")
    for name, p in presets.items():
        row = (
            name,
            p.school.name,
            str(p.staffing.min_staff),
            str(p.timing.max_minutes),
            p.recording.mode.value,
            p.school.review.isoformat(),
        )
        table.add_row(*(Text(cell) for cell in row))
    Console().print(table)


@policy_app.command()
def show(
    source: Source,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the validated policy as JSON instead.")
    ] = False,
) -> None:
    """Explain a policy in plain English, section by section."""
    policy = _load_or_fail(source)
    if as_json:
        typer.echo(policy.model_dump_json(indent=2))
        return
    console = Console(highlight=False)
    plain = not console.is_terminal  # piped: one line per sentence, so grep finds it
    console.print(Text(f"{policy.school.name}: policy version {policy.school.version}", "bold"))
    for heading, sentences in explain(policy):
        console.print()
        console.print(Text(heading, "bold underline"), soft_wrap=plain)
        if plain:
            for sentence in sentences:
                console.print(Text(f"  • {sentence}"), soft_wrap=True)
        else:
            grid = Table.grid(padding=(0, 1))
            grid.add_column(width=3, justify="right")
            grid.add_column()
            for sentence in sentences:
                grid.add_row("•", Text(sentence))
            console.print(grid)
    today = _today(policy)
    console.print()
    style = "bold yellow" if review_date_has_passed(policy, today) else ""
    console.print(Text(review_notice(policy, today), style), soft_wrap=plain)


@policy_app.command()
def check(
    file: Annotated[
        str,
        typer.Argument(metavar="FILE", help="The policy TOML file to check.", show_default=False),
    ],
) -> None:
    """Check a policy file: say OK, or list every problem with its line and a hint."""
    policy = _load_or_fail(file)
    typer.echo(f"OK: {policy.school.name} policy v{policy.school.version} is valid")


@policy_app.command("diff")
def diff_policies(
    a: Source,
    b: Source,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the changes as JSON (field, old, new, sentence).")
    ] = False,
) -> None:
    """Show every setting that differs between two policies, A first, then B."""
    errors: list[PolicyError] = []
    loaded: list[Policy] = []
    for source in (a, b):
        try:
            loaded.append(load(source))
        except PolicyError as err:
            errors.append(err)
    if errors:
        _fail(*errors)
    changes = diff(loaded[0], loaded[1])
    if as_json:
        rows = [
            {"field": c.field, "old": _plain(c.old), "new": _plain(c.new), "sentence": c.sentence}
            for c in changes
        ]
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not changes:
        typer.echo(f"No differences: {a} and {b} have the same settings.")
        return
    table = Table(title=Text(f"{a} → {b}: {count(len(changes), 'setting')} differ"))
    table.add_column("Setting", no_wrap=True)
    table.add_column("What changes", overflow="fold")
    for change in changes:
        table.add_row(Text(change.field), Text(change.sentence))
    Console().print(table)


def _load_or_fail(source: str) -> Policy:
    try:
        return load(source)
    except PolicyError as err:
        _fail(err)


def _fail(*errors: PolicyError) -> NoReturn:
    """Print each error's problems to stderr and exit with status 1."""
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    for err in errors:
        heading = f"Error: {err.source}: the policy cannot be used"
        console.print(Text(f"{heading} ({count(len(err.problems), 'problem')}):", "bold red"))
        for problem in err.problems:
            where = ", ".join(
                part
                for part in (f"line {problem.line}" if problem.line else "", problem.field)
                if part
            )
            console.print(
                Text(f"  - {where}: {problem.message}" if where else f"  - {problem.message}")
            )
            if problem.hint:
                console.print(Text(f"    hint: {problem.hint}"))
    raise typer.Exit(1)


def _plain(value: object) -> object:
    """A setting's value as JSON data, as written in the policy file."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return value


def _today(policy: Policy) -> dt.date:
    """Today in the school's time zone (the model has checked the zone exists)."""
    return dt.datetime.now(ZoneInfo(policy.school.timezone)).date()
