"""The room's words reach a Welsh pupil (and Welsh staff) in Welsh: every sentence the room can
send is listed for translation, each has Welsh with the same facts, and the facts come through
(issue 10, point 4: "the pupil-facing refusals and notices translated too")."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from safeclass.core.permissions import DOING
from safeclass.policy.loading import PRESET_NAMES, preset_path
from safeclass.web import i18n, room_words
from safeclass.web.policy_words import expectation_lines

SRC = Path(room_words.__file__).resolve().parents[1]
# The modules whose words reach a room's pages: refusals, holds, closes, notices, media.
SPEAKERS = [
    "core/decide.py",
    "app/live/runtime.py",
    "app/live/media.py",
    "app/live/ports.py",
    "web/room_socket.py",
    "web/views.py",
]
# Sentences in those modules that no page of ours can be shown: a malformed message or another
# site's page (a developer's or an attacker's), and the core's own errors.
NOT_FOR_PAGES = {
    "Origin not allowed",
    "Message too large or not text",
    "Unknown message type: {}",
    "A message needs a 'type'",
    "Not valid JSON",
    "Unknown command {}",
    "No heartbeat",
}


def _skeleton(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            v.value if isinstance(v, ast.Constant) else "{}"
            for v in node.values
            if isinstance(v, ast.Constant | ast.FormattedValue)
        )
    return None


def sentences_in(path: Path) -> set[str]:
    """Every English sentence in a module's code (not docstrings, not what it logs), with each
    fact as `{}`; string literals written next to each other are one sentence."""
    tree = ast.parse(path.read_text())
    skip: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            skip.add(id(body[0].value))  # a docstring
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in {"log", "logging", "logger"}
        ):
            skip.update(id(sub) for sub in ast.walk(node))
        if isinstance(node, ast.JoinedStr):
            skip.update(id(v) for v in node.values)
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        said = _skeleton(node)
        if said and re.match(r"[A-Z{]", said) and len(said.split()) >= 3 and "_" not in said:
            found.add(said)
    return found


def test_the_scan_finds_the_rooms_sentences():
    found = sentences_in(SRC / "core/decide.py")
    assert "Please read and tick the expectations first" in found
    assert "Cannot admit {}: {} of {} required staff present" in found


@pytest.mark.parametrize("module", SPEAKERS)
def test_every_sentence_the_room_can_send_is_listed_for_translation(module: str):
    listed = {room_words.skeleton(s) for s in room_words.SENTENCES}
    unlisted = sorted(sentences_in(SRC / module) - listed - NOT_FOR_PAGES)
    assert unlisted == [], f"add these to room_words.SENTENCES (and their Welsh): {unlisted}"


def test_every_listed_sentence_has_welsh_with_the_same_facts():
    welsh = i18n.translations("cy")
    for sentence in room_words.SENTENCES:
        said = welsh.gettext(sentence)
        assert said != sentence, f"no Welsh for {sentence!r}"
        assert sorted(re.findall(r"\{\w+\}", said)) == sorted(re.findall(r"\{\w+\}", sentence))


def test_what_each_staff_command_does_has_welsh():
    welsh = i18n.translations("cy")
    for doing in set(DOING.values()):
        assert doing in room_words.PHRASES
        assert welsh.gettext(doing) != doing


def test_a_refusal_with_facts_is_welsh_with_the_same_facts():
    english = "Cannot admit Amelia R., Ben S.: 1 of 2 required staff present"
    assert room_words.translate(english, "cy") == (
        "Does dim modd gadael Amelia R., Ben S. i mewn: "
        "1 o 2 aelod o staff sydd eu hangen yn bresennol"
    )
    assert room_words.translate("Only staff can admit pupils", "cy") == (
        "Dim ond staff sy'n gallu gadael disgyblion i mewn"
    )
    said = room_words.translate(
        "You cannot leave yet: 2 pupils would be left with 1 of 2 required staff; end the "
        "session for everyone instead",
        "cy",
    )
    assert said.startswith("Allwch chi ddim gadael eto: byddai 2 ddisgybl yn cael eu gadael")


def test_a_pupils_words_are_plain_welsh_and_english_is_untouched():
    tick = "Please read and tick the expectations first"
    assert room_words.translate(tick, "cy") == "Darllena'r disgwyliadau a thicia'r blwch yn gyntaf"
    assert room_words.translate(tick, "en") == tick
    assert room_words.translate("Miss, can I go to the toilet?", "cy") == (
        "Miss, can I go to the toilet?"  # not one of ours: as it came
    )


def test_a_name_in_a_sentence_is_never_read_as_a_format():
    said = room_words.translate("Cannot admit {required} X.: removed from this session", "cy")
    assert (
        said == "Does dim modd gadael {required} X. i mewn: tynnwyd y disgybl allan o'r sesiwn hon"
    )


def test_a_message_is_translated_in_a_copy_and_only_its_words():
    view = {
        "cannot": {"join": {"message": "Please wait for another adult to join", "clause": "C3"}},
        "session": {
            "hold": {
                "reason": "staff_below_minimum",
                "message": "Waiting for another adult to join.",
            }
        },
        "expectations": {"pupil": ["Be on time."], "parent": [], "parent_note": None},
        "chat": [{"name": "Mrs Khan", "text": "Be on time."}],
    }
    message = {
        "type": "state",
        "view": view,
        "media": {"state": "off", "message": "Video is off on this server"},
    }
    said = room_words.translate_message(message, "cy")
    assert said["view"]["cannot"]["join"] == {
        "message": "Arhosa i oedolyn arall ymuno",
        "clause": "C3",
    }
    assert said["view"]["session"]["hold"]["message"] == "Yn aros i oedolyn arall ymuno."
    assert said["view"]["session"]["hold"]["reason"] == "staff_below_minimum"
    assert said["view"]["expectations"]["pupil"] == ["Bydda ar amser."]
    assert said["view"]["chat"] == view["chat"]  # what people write is theirs
    assert said["media"]["message"] == "Mae fideo wedi'i ddiffodd ar y gweinydd hwn"
    assert view["cannot"]["join"]["message"] == "Please wait for another adult to join"  # shared
    assert room_words.translate_message(message, "en") is message


def test_every_close_reason_fits_a_close_frame_in_welsh():
    for sentence in room_words.SENTENCES:
        reason = room_words.close_reason(sentence, "cy")
        assert len(reason.encode()) <= room_words.CLOSE_REASON_BYTES
    long = "Mae " + "ŵ" * 200
    cut = room_words.close_reason(long, "cy")
    assert len(cut.encode()) <= room_words.CLOSE_REASON_BYTES and cut.endswith("…")


@pytest.mark.parametrize("preset", sorted(PRESET_NAMES))
def test_every_seed_policys_expectations_have_welsh(preset: str):
    # covers: C18 (the expectations, in the family's language)
    lines = expectation_lines(preset_path(preset).read_text())
    assert lines
    welsh = i18n.translations("cy")
    missing = [line for _, line in lines if welsh.gettext(line) == line]
    assert missing == [], f"write the Welsh for these in messages.po: {missing}"
