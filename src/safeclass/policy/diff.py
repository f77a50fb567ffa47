"""What changes between two policies, setting by setting, each change as a plain sentence.

Used by `safeclass policy diff` so a head teacher adopting a new version (or comparing their
school with a preset) sees every setting that differs, including the school's name and key.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import StrEnum

from safeclass.policy.model import Policy
from safeclass.policy.settings import describe, label, setting_names, value_at


@dataclass(frozen=True, slots=True)
class Change:
    """One setting whose value differs: `field` is dotted, e.g. 'staffing.min_staff'."""

    field: str
    old: object
    new: object
    sentence: str


def diff(a: Policy, b: Policy) -> list[Change]:
    """Every setting whose value differs from `a` to `b`, in the order of the model."""
    changes = []
    for field in setting_names():
        old, new = value_at(a, field), value_at(b, field)
        if old != new:
            changes.append(Change(field, old, new, _sentence(field, old, new)))
    return changes


def _sentence(field: str, old: object, new: object) -> str:
    if _is_texts(old) and _is_texts(new):
        return _texts_sentence(field, old, new)
    return f"{label(field)}: changes from {describe(field, old)} to {describe(field, new)}."


def _is_texts(value: object) -> bool:
    """A list of free texts; a list of choices such as weekdays is described as a whole."""
    return isinstance(value, tuple) and all(
        isinstance(v, str) and not isinstance(v, StrEnum) for v in value
    )


def _texts_sentence(field: str, old: object, new: object) -> str:
    """For lists of texts (expectations): what was added and removed, not two long lists."""
    before = [str(v) for v in old] if isinstance(old, tuple) else []
    after = [str(v) for v in new] if isinstance(new, tuple) else []
    added = list((Counter(after) - Counter(before)).elements())
    removed = list((Counter(before) - Counter(after)).elements())
    parts = [f"adds “{t}”" for t in added] + [f"removes “{t}”" for t in removed]
    if not parts:
        parts = ["the same items, in a different order"]
    return f"{label(field)}: {'; '.join(parts)}."
