"""Loading policy files (TOML) and the presets, with errors a head teacher or IT admin can act on.

Pydantic says *what* is wrong; this module adds *where* (the line in the file) and *how to fix it*
(the nearest known field for a typo, the allowed values for a wrong choice), so that
`safeclass policy check` never shows a traceback.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from safeclass.policy.model import Policy

PRESET_NAMES: tuple[str, ...] = ("claydon", "werrington", "st-josephs", "crofton", "s04")


@dataclass(frozen=True, slots=True)
class PolicyProblem:
    """One thing wrong with a policy file."""

    field: str
    line: int | None
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        text = f"{where}{self.field}: {self.message}" if self.field else f"{where}{self.message}"
        return f"{text} ({self.hint})" if self.hint else text


class PolicyError(ValueError):
    """A policy file that cannot be used, with every problem found in it."""

    def __init__(self, source: str, problems: list[PolicyProblem]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source}: the policy cannot be used:\n{lines}")


def preset_path(name: str) -> Path:
    """Where a built-in preset's file lives."""
    if name not in PRESET_NAMES:
        raise PolicyError(name, [_unknown_preset(name)])
    return Path(str(resources.files("safeclass.policy") / "presets" / f"{name}.toml"))


def load_preset(name: str) -> Policy:
    """One of the five seed-school presets by name."""
    return load_file(preset_path(name))


def load_all_presets() -> dict[str, Policy]:
    return {name: load_preset(name) for name in PRESET_NAMES}


def load(name_or_path: str) -> Policy:
    """A preset by name, or a policy file by path."""
    if name_or_path in PRESET_NAMES:
        return load_preset(name_or_path)
    path = Path(name_or_path)
    try:
        exists = path.exists()
    except OSError:  # a name too long for a path, or a folder we may not look in
        exists = False
    if not exists:
        raise PolicyError(name_or_path, [_unknown_preset(name_or_path)])
    return load_file(path)


def load_file(path: Path) -> Policy:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        problem = PolicyProblem(
            "", None, f"not UTF-8 text (byte {exc.start} cannot be read)", "save it as UTF-8"
        )
        raise PolicyError(str(path), [problem]) from None
    except OSError as exc:
        problem = PolicyProblem("", None, f"cannot read the file: {exc.strerror or exc}")
        raise PolicyError(str(path), [problem]) from None
    return loads(text, source=str(path))


def loads(text: str, source: str = "<policy>") -> Policy:
    """Parse and validate a policy from TOML text; raise PolicyError with every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _toml_error_line(str(exc))
        raise PolicyError(
            source,
            [PolicyProblem("", line, f"not valid TOML: {exc}", "check quotes, '=' and brackets")],
        ) from None
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(source, _problems(exc, text)) from None


def _unknown_preset(name: str) -> PolicyProblem:
    close = difflib.get_close_matches(name, PRESET_NAMES, n=1)
    hint = f"did you mean '{close[0]}'?" if close else "presets: " + ", ".join(PRESET_NAMES)
    return PolicyProblem("", None, f"no preset or file called '{name}'", hint)


def _toml_error_line(message: str) -> int | None:
    m = re.search(r"line (\d+)", message)
    return int(m.group(1)) if m else None


def _problems(exc: ValidationError, text: str) -> list[PolicyProblem]:
    problems = []
    for err in exc.errors():
        loc = [str(part) for part in err["loc"] if not isinstance(part, int)]
        field = ".".join(loc)
        line = _line_of(text, loc)
        kind = err["type"]
        message = str(err["msg"]).removeprefix("Value error, ")
        hint = ""
        if kind == "extra_forbidden":
            message = f"'{loc[-1]}' is not a setting safeclass knows"
            known = _known_fields(loc[:-1])
            close = difflib.get_close_matches(loc[-1], known, n=1, cutoff=0.6)
            if close:
                hint = f"did you mean '{close[0]}'?"
            elif known:
                hint = "known here: " + ", ".join(known)
        elif kind == "missing" and _is_section(loc):
            message = "is required but missing"
            hint = f"add a [{field}] table"
        elif kind == "missing":
            message = "is required but missing"
            hint = f"add '{loc[-1]} = …' under [{'.'.join(loc[:-1]) or 'top level'}]"
        elif kind == "value_error":
            # A contradiction between settings: blame the first setting the message names, and
            # split "what is wrong; how to fix it" into message and hint.
            field = _first_named_setting(loc, message) or field
            line = _line_of(text, field.split(".")) if field else None
            message, _, hint = message.partition("; ")
        elif kind == "enum":
            expected = err.get("ctx", {}).get("expected", "")
            hint = f"choose one of {expected}"
        elif kind.endswith("_type") or kind.endswith("_parsing"):
            hint = f"got {err.get('input')!r}"
        problems.append(PolicyProblem(field, line, message, hint))
    return problems


def _is_section(loc: list[str]) -> bool:
    return len(loc) == 1 and loc[0] in Policy.model_fields


def _first_named_setting(loc: list[str], message: str) -> str:
    """The setting a validator's message names first: 'staffing.min_staff', or '' if none."""
    if loc:  # a section's own check names its settings without the section: "mic_on_entry"
        spelled = {f"{'.'.join(loc)}.{leaf}": leaf for leaf in _known_fields(loc)}
    else:  # a check across sections names them in full: "staffing.min_staff"
        dotted = [f"{sec}.{leaf}" for sec in Policy.model_fields for leaf in _known_fields([sec])]
        spelled = {name: name for name in dotted}
    hits = []
    for name, words in spelled.items():
        match = re.search(rf"(?<![\w.]){re.escape(words)}(?!\w)", message)
        if match:
            hits.append((match.start(), name))
    return min(hits)[1] if hits else ""


def _known_fields(section: list[str]) -> list[str]:
    model: type[BaseModel] = Policy
    for part in section:
        field = model.model_fields.get(part)
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def _line_of(text: str, loc: list[str]) -> int | None:
    """The line that sets `loc` (or the line of its table), found by reading the TOML as text."""
    if not loc:
        return None
    lines = text.splitlines()
    table = ".".join(loc[:-1])
    key = loc[-1]
    current = ""
    table_line = None
    for number, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        header = re.match(r"^\[([^\[\]]+)\]", stripped)
        if header:
            current = header.group(1).strip()
            if current == ".".join(loc):
                return number
            if current == table:
                table_line = number
            continue
        if current == table and re.match(rf"^\"?{re.escape(key)}\"?\s*=", stripped):
            return number
    return table_line


def dump_dict(policy: Policy) -> dict[str, Any]:
    """The policy as plain data (for diffs and JSON)."""
    return policy.model_dump(mode="json")
