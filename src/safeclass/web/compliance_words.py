# ruff: noqa: E501 - each sentence on one line, as the catalogue keeps it
"""The compliance report's words (app/reports/compliance.py), marked here for gettext.

The report's sentences are built in the app layer, which has no translations of its own; this
list puts each of them into the pages' catalogue so the page and the PDF read in Welsh too. A
test (tests/unit/test_compliance_words.py) fails when a sentence of the report is missing here.
The short names are the columns of the school-wide summary.
"""

from __future__ import annotations

from collections.abc import Mapping


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "mark, do not translate yet"
    return message


WORDS = (
    N_("The log's chain verified"),
    N_("Enough adults present throughout"),
    N_("A parent present throughout the 1-to-1"),
    N_("Within the policy's time limit"),
    N_("Everyone admitted was on the class list"),
    N_("Everyone admitted had consent"),
    N_("Everyone came in through the waiting room"),
    N_("Microphones off on entry"),
    N_("Chat public only, and off until staff allowed it"),
    N_("Nobody came back after being removed"),
    N_("Recording only as the policy allows, with notice"),
    N_("Everyone out at the end"),
    N_("Every concern reached the DSL"),
    N_("Held"),
    N_("Not held"),
    N_("Cannot be shown"),
    N_("The log does not verify"),
    N_("The log verifies"),
    N_(
        "The log does not verify (problems found: %(num)s), so no rule below can be shown to have held."
    ),
    N_("This cannot be shown: the log does not verify, so its evidence is not proof."),
    N_("The session has no log: its room never opened."),
    N_("The retention job deleted this log on its day, as the policy says."),
    N_("This cannot be shown now."),
    N_(
        "Events in the log: %(num)s, each chained to the one before under the server's key; none changed, deleted, inserted or moved."
    ),
    N_("The log has no end: the session has not ended."),
    N_("Never recorded."),
    N_("Not recorded."),
    N_("Adults the policy needs in the room while pupils are in it: %(num)s."),
    N_("Planned %(start)s to %(end)s (%(planned)s); the policy allows at most %(limit)s."),
    N_("Pupils in from %(start)s to %(end)s: %(span)s."),
    N_("Pupils admitted: %(num)s; on the class list: %(expected)s."),
    N_("Only pupils whose consent is given may take part."),
    N_("Pupils take part unless their family has refused."),
    N_("Admissions with the microphone off: %(num)s."),
    N_("There is no private chat: every message is seen by everyone in the room."),
    N_("Chat messages: %(num)s."),
    N_(
        "Everyone out at %(time)s, disconnected at once: %(num)s (pupils: %(pupils)s, staff: %(staff)s)."
    ),
    N_("DSL alert written at %(time)s."),
    N_("Not delivered to the DSL: tell them yourself."),
    N_("Compliance across sessions, %(start)s to %(end)s"),
    N_(
        "Sessions: %(num)s; every rule held: %(clean)s; breaches: %(breaches)s; logs that do not verify: %(unverified)s"
    ),
    N_("every rule held"),
    N_("Pupils held from %(start)s to %(end)s (%(span)s) for lack of staff."),
    N_("Pupils held from %(start)s, still held at the end of the log (%(span)s)."),
    N_("The room was never held for lack of staff."),
    N_("Times held for lack of staff: %(num)s; %(span)s in all."),
    N_("Held from %(start)s to %(end)s (%(span)s) waiting for a parent."),
    N_("The room was never held waiting for a parent."),
    N_("No pupil was admitted; the room closed at %(end)s."),
    N_("That is longer than the policy allows."),
    N_("%(name)s, admitted at %(time)s by %(by)s, is not on the class list."),
    N_("Every pupil admitted is on the class list."),
    N_("%(name)s was admitted at %(time)s without consent."),
    N_("%(name)s's consent changed during the session; the room acted on it."),
    N_("Every pupil admitted had consent when admitted."),
    N_("Admitted from the waiting room by %(name)s: %(num)s."),
    N_("%(name)s was admitted at %(time)s without waiting in the waiting room."),
    N_("No pupil was admitted."),
    N_("%(name)s was admitted at %(time)s with the microphone on."),
    N_("The policy has chat on from the start."),
    N_("Chat was off at the start, as the policy says."),
    N_("Chat switched on at %(time)s by %(name)s."),
    N_("Chat switched off at %(time)s by %(name)s."),
    N_("A message from %(name)s at %(time)s while chat was off."),
    N_("%(name)s removed at %(time)s by %(by)s."),
    N_("%(name)s was admitted again at %(time)s after being removed."),
    N_("%(name)s joined the waiting room again at %(time)s after being removed."),
    N_("Nobody removed came back."),
    N_("The policy never allows a recording."),
    N_("Recorded from %(start)s to %(end)s (%(span)s)."),
    N_("%(name)s was not disconnected at the end."),
    N_("Someone came in after the end, at %(time)s."),
    N_("Concern %(num)s raised at %(time)s by %(name)s."),
    N_("Sent to the DSL at %(time)s."),
    N_("Compliance report"),
    N_("policy version %(num)s"),
    N_("%(name)s's connection dropped at %(time)s: adults fell to %(present)s of %(required)s."),
    N_("%(name)s left at %(time)s: adults fell to %(present)s of %(required)s."),
    N_("The policy lets microphones be on from entry."),
    N_("Nobody was removed."),
    N_("Recorded from %(time)s without notice."),
    N_("Notice given at %(time)s by %(name)s to everyone there (%(num)s): %(told)s."),
    N_("No concerns were raised."),
    N_("No alert to the DSL is in the log for it."),
    N_("Ended in an emergency at %(time)s by %(name)s."),
    N_("not held: %(num)s"),
    N_("Only a 1-to-1 without a parent may be recorded under this policy."),
)


def _plural(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


ngettext = _plural  # so gettext's tools see the plurals below as plurals

# The plurals the report's lengths of time use (compliance.span_words).
PLURALS = (
    ngettext("%(num)d minute", "%(num)d minutes", 2),
    ngettext("%(num)d second", "%(num)d seconds", 2),
)

# The school-wide summary's columns: each rule, short.
SHORT: Mapping[str, str] = {
    "log": N_("Log verified"),
    "staff": N_("Adults"),
    "parent": N_("Parent"),
    "duration": N_("Time limit"),
    "class_list": N_("Class list"),
    "consent": N_("Consent"),
    "waiting_room": N_("Waiting room"),
    "mute": N_("Mics off"),
    "chat": N_("Chat"),
    "removal": N_("Removals"),
    "recording": N_("Recording"),
    "end": N_("All out"),
    "concerns": N_("Concerns"),
}
