"""Policy profiles: a school's safeguarding protocol as validated, versioned settings."""

from safeclass.policy.loading import (
    PRESET_NAMES,
    PolicyError,
    PolicyProblem,
    load,
    load_all_presets,
    load_file,
    load_preset,
    loads,
)
from safeclass.policy.model import Policy

__all__ = [
    "PRESET_NAMES",
    "Policy",
    "PolicyError",
    "PolicyProblem",
    "load",
    "load_all_presets",
    "load_file",
    "load_preset",
    "loads",
]
