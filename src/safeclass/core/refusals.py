"""Refusals: a command the room will not carry out, said so a teacher knows what to do next.

Every refusal names the clause it protects, in the school's own numbering where the policy is a
seed preset ("Cannot admit Amelia R.: 1 of 2 required staff present (CLA-02)"), or the capability
ID where the school's protocol has no such clause ("(C4)"): `clause_for` never gives another
school's. The message is written for whoever acted: a pupil is never told staff numbers, and staff
are never told to wait for their teacher.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from safeclass.policy.clauses import Rule, clause_for
from safeclass.policy.model import Policy


class RefusalCode(StrEnum):
    NOT_PERMITTED = "not_permitted"  # the actor's role may not do this: logged as an attempt
    NOT_HERE = "not_here"  # the actor or target is not in the room
    RULE = "rule"  # a safeguarding rule forbids it now
    ENDED = "ended"
    INVALID = "invalid"  # the command itself is malformed


@dataclass(frozen=True, slots=True)
class Refusal:
    code: RefusalCode
    message: str
    clause: str

    def __str__(self) -> str:
        return f"{self.message} ({self.clause})"


def refuse(
    policy: Policy, rule: Rule, message: str, code: RefusalCode = RefusalCode.RULE
) -> Refusal:
    return Refusal(code=code, message=message, clause=clause_for(policy.school.key, rule))
