"""The room's words in each connection's language: translated once, at the socket's edge.

The core and the live room write their refusals, reasons and notices in English, with the facts
in them ("Cannot admit Amelia R.: 1 of 2 required staff present"). A pupil at St Joseph's, or a
member of its staff, reads Welsh. Rather than teach the core a language, the socket translates
every word it sends, just before it is written (`room_socket._write`), in the language that
connection asked for at its handshake (the `sc_lang` cookie the switch sets, else the browser's
Accept-Language; `i18n.language_of`).

Each English sentence the room may send is listed below once (`SENTENCES`), with its facts as
named placeholders (`{name}`); `scripts/translations` extracts them (the `N_` marker) into the
catalogue, where the Welsh is written with the same placeholders. A sentence is translated by
finding the one it was made from, reading its facts back out, and putting them into the
translation: the facts themselves are never translated, except the few that are words of the
room's own (what a command does, "3 pupils"). A sentence not listed (a school's own words, a
name, chat) goes out as it came. `tests/unit/test_room_words.py` fails when the room can say a
sentence that is not listed here, so a new refusal cannot reach a Welsh pupil in English.

Only the words are touched, in copies: the fields are the `message` of a reply or notice, the
room's reasons in a view (`cannot`, `session.hold`), the policy's expectations (their Welsh is in
the catalogue too, extracted from the presets), the media's state, and a close's reason (kept to
the 123 bytes a WebSocket allows).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from safeclass.web import i18n

CLOSE_REASON_BYTES = 123  # RFC 6455: a close frame's reason fits in 123 bytes of UTF-8


def N_(message: str) -> str:  # noqa: N802 (gettext's name for "mark, do not translate yet")
    """Mark an English sentence for the catalogue; it is translated when it is sent."""
    return message


# Every sentence the room may write to someone in it (core.decide's refusals, the live room's
# closes and notices, the socket's own, the views' reasons), with its facts named.
SENTENCES: tuple[str, ...] = (
    # joining, the waiting room and leaving
    N_("This session has ended"),
    N_("The session has ended"),
    N_("You are not in the session"),
    N_("You can do that when your teacher has let you in"),
    N_("Not on the class list — cannot be admitted"),
    N_("{name} was removed from this session and cannot rejoin it"),
    N_("{name} is not taking part in live sessions (no consent on record)"),
    N_("{name} is not taking part in live sessions: their family has said no"),
    N_("Cannot join with that name: this link is for the name on the class list, shown as {name}"),
    N_("The waiting room opens at {time}"),
    N_("Please read and tick the expectations first"),
    N_("{name} is already connected on another device; close it first"),
    N_("{name} is in the session on another device: only that device can act for them"),
    N_("A pupil cannot join as staff"),
    N_("Your name comes from the class list and cannot be changed"),
    N_("Your name comes from your school account and cannot be changed"),
    N_(
        "You cannot leave yet: {pupils} would be left with {present} of {required} required "
        "staff; end the session for everyone instead"
    ),
    N_("Only the school's records can change consent"),
    # holds: what a pupil waits for, and what staff act on
    N_("Please wait for another adult to join"),
    N_("Please wait until your parent or carer is in the room with you"),
    N_("Waiting for another adult to join."),
    N_("Waiting for your parent or carer to be in the room with you."),
    N_(
        "Pupils are held until another adult joins: {present} of {required} required staff present."
    ),
    N_(
        "The pupil is held until a parent confirms they are in the room or the recording has "
        "started."
    ),
    N_("The pupil is held until a parent confirms they are in the room."),
    N_(
        "A parent or carer should stay in the room for the whole session. If nobody can, the "
        "session is recorded, you are told, and the school's safeguarding lead is alerted."
    ),
    N_(
        "A parent or carer must stay in the room for the whole session: your child is let in "
        "only once you confirm you are in the room."
    ),
    # what staff may do, and why not now
    N_("Only staff can {doing}"),
    N_("Only staff in the session can {doing}"),
    N_("Cannot {doing}: waiting for a parent to be present"),
    N_("Cannot {doing}: {present} of {required} required staff present"),
    N_("Choose who to admit"),
    N_("Cannot admit {name}: removed from this session"),
    N_("Only pupils on the class list can be admitted"),
    N_("That pupil is not in the waiting room"),
    N_("That pupil is not in the session"),
    N_("That pupil is not here"),
    N_(
        "Cannot admit {names} alone: with one adult present, pupils are admitted two or more at "
        "a time"
    ),
    N_("Cannot admit {names}: {present} of {required} required staff present"),
    N_("Cannot admit {name}: a parent has not confirmed they are in the room"),
    N_(
        "Cannot admit {name} without a parent in the room until the recording has started: "
        "start recording (the parent is told and the DSL alerted)"
    ),
    N_("Nobody is waiting"),
    N_("Choose the pupil whose parent is in the room"),
    # speaking, camera, hands, chat
    N_("You can speak when your teacher lets you"),
    N_("You can turn your camera on when your teacher says"),
    N_("Hands are for pupils"),
    N_("The chat is off until your teacher switches it on"),
    N_("The chat is off: switch it on to send a message"),
    N_("The message is empty"),
    N_("The message is too long (at most {limit} letters)"),
    # recording, notes, concerns
    N_("Recording is switched off in this school's policy"),
    N_("Recording is only allowed for a 1-to-1 session without a parent in the room"),
    N_("Recording needs video, which is off on this server"),
    # sharing a screen
    N_("{name} is sharing a screen: one screen at a time, so stop theirs first"),
    N_("Sharing a screen needs video, which is off on this server"),
    N_("Only staff can share a screen"),
    N_("Send at most one microphone and one camera (or screen) on a connection"),
    N_("This server cannot record: {reason}"),
    N_("Recording saved ({files}): only the DSL and the head can open it"),
    N_("The recording could not {what}: {problem}"),
    N_("A note needs 1 to 2000 characters"),
    N_("Things for the lesson are added on its page"),
    N_("Describe what you saw (up to 4000 characters)"),
    N_("That pupil is not on this session's list"),
    N_("Choose one of the school's categories"),
    N_("When it happened cannot be in the future"),
    # the room closing a connection
    N_("You have been removed from this session"),
    N_("Your teacher could not let you in this time"),
    N_("Your family has told the school you are not taking part in live lessons"),
    N_("Your link was stopped by the school"),
    N_("Opened again on this device"),
    N_("Not signed in, or the link is not valid"),
    N_("Too many tries: wait a minute"),
    N_("Too far behind: please reconnect"),
    N_("The server is restarting: reconnecting"),
    N_("Too many messages at once: please slow down"),
    N_("Too many messages, too fast"),
    N_("Too many bad messages"),
    N_("{name}'s connection was closed: it sent too many messages too fast"),
    N_("That could not be saved, so nothing changed. Please try again."),
    # video
    N_("Video is on"),
    N_("Video is off on this server"),
    N_("Reconnecting video…"),
    N_("Video was reset: connecting again"),
    N_("Video reconnected"),
    N_("Your video connection closed: connecting again"),
    N_("Video could not connect: try again"),
    N_("Too many video messages at once: slow down"),
    N_("Only people in the room can send or receive video"),
)

# The room's own words that go into a sentence's facts: what a staff command does
# (core.permissions.DOING), and what a recording could not do.
PHRASES: tuple[str, ...] = (
    N_("admit pupils"),
    N_("turn pupils away"),
    N_("remove pupils"),
    N_("mute others"),
    N_("unmute others"),
    N_("turn off cameras"),
    N_("turn on cameras"),
    N_("let pupils speak"),
    N_("switch the chat on or off"),
    N_("lower other pupils' hands"),
    N_("call on pupils"),
    N_("confirm a parent is present"),
    N_("record the session"),
    N_("stop the recording"),
    N_("write in the session log"),
    N_("raise a safeguarding concern here"),
    N_("end the session"),
    N_("share a screen"),
    N_("stop a screen share"),
    N_("start"),
    N_("stop"),
)

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_PUPILS = re.compile(r"(\d+) pupils?")


@dataclass(frozen=True, slots=True)
class _Pattern:
    sentence: str
    regex: re.Pattern[str]


def _pattern(sentence: str) -> _Pattern:
    parts, last = [], 0
    for found in _PLACEHOLDER.finditer(sentence):
        parts.append(re.escape(sentence[last : found.start()]))
        parts.append(f"(?P<{found.group(1)}>.+?)")
        last = found.end()
    parts.append(re.escape(sentence[last:]))
    return _Pattern(sentence, re.compile("".join(parts), re.DOTALL))


# Sentences with facts, the most specific first ("Cannot admit {names}: …" before
# "Cannot {doing}: …", which would also match it).
_WITH_FACTS = sorted(
    (_pattern(s) for s in SENTENCES if _PLACEHOLDER.search(s)),
    key=lambda p: -len(_PLACEHOLDER.sub("", p.sentence)),
)


def skeleton(sentence: str) -> str:
    """The sentence with each fact as `{}`: how a sentence and its listing are compared."""
    return _PLACEHOLDER.sub("{}", sentence)


def listed(text: str) -> str | None:
    """The listed sentence `text` was made from, if any."""
    if text in SENTENCES:
        return text
    for pattern in _WITH_FACTS:
        if pattern.regex.fullmatch(text):
            return pattern.sentence
    return None


@functools.lru_cache(maxsize=4096)
def translate(text: str, language: str) -> str:
    """`text` in `language`: a listed sentence (with its facts put back), a phrase or policy
    line the catalogue has, or else `text` as it is."""
    if language == i18n.DEFAULT or not text:
        return text
    translations = i18n.translations(language)
    said = translations.gettext(text)
    if said != text:
        return said
    for pattern in _WITH_FACTS:
        found = pattern.regex.fullmatch(text)
        if found is None:
            continue
        facts = {name: _fact(name, value, language) for name, value in found.groupdict().items()}
        return _fill(translations.gettext(pattern.sentence), facts)
    return text


def _fill(sentence: str, facts: dict[str, str]) -> str:
    """The translated sentence with its facts in (by name: a fact never becomes a format)."""
    return _PLACEHOLDER.sub(lambda m: facts.get(m.group(1), m.group(0)), sentence)


def _fact(name: str, value: str, language: str) -> str:
    """A fact as it goes into a translated sentence: names and numbers as they are; the room's
    own words ("admit pupils", "3 pupils") translated."""
    translations = i18n.translations(language)
    if name == "pupils" and (count := _PUPILS.fullmatch(value)) is not None:
        n = int(count.group(1))
        return translations.ngettext("%(num)d pupil", "%(num)d pupils", n) % {"num": n}
    if name in ("doing", "what"):
        return translations.gettext(value)
    return value


def close_reason(reason: str, language: str) -> str:
    """A close's reason in `language`, cut (at a character) to what a close frame can carry."""
    said = translate(reason, language)
    encoded = said.encode()
    if len(encoded) <= CLOSE_REASON_BYTES:
        return said
    return encoded[: CLOSE_REASON_BYTES - 3].decode(errors="ignore") + "…"


def translate_message(message: dict[str, Any], language: str) -> dict[str, Any]:
    """The message as this connection should read it: a copy with the room's words in
    `language` (the same message, untouched, in English)."""
    if language == i18n.DEFAULT:
        return message
    out = dict(message)
    if isinstance(out.get("message"), str):
        out["message"] = translate(out["message"], language)
    if isinstance(out.get("media"), dict):
        out["media"] = _with_message(out["media"], language)
    if isinstance(out.get("view"), dict):
        out["view"] = _view(out["view"], language)
    return out


def _with_message(part: dict[str, Any], language: str) -> dict[str, Any]:
    if not isinstance(part.get("message"), str):
        return part
    return {**part, "message": translate(part["message"], language)}


def _view(view: dict[str, Any], language: str) -> dict[str, Any]:
    out = dict(view)
    if isinstance(out.get("cannot"), dict):
        out["cannot"] = {
            action: _with_message(reason, language) if isinstance(reason, dict) else reason
            for action, reason in out["cannot"].items()
        }
    session = out.get("session")
    if isinstance(session, dict) and isinstance(session.get("hold"), dict):
        out["session"] = {**session, "hold": _with_message(session["hold"], language)}
    expectations = out.get("expectations")
    if isinstance(expectations, dict):
        said = dict(expectations)
        for who in ("pupil", "parent"):
            if isinstance(said.get(who), list):
                said[who] = [translate(line, language) for line in said[who]]
        if isinstance(said.get("parent_note"), str):
            said["parent_note"] = translate(said["parent_note"], language)
        out["expectations"] = said
    return out
