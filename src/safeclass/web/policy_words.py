"""The seed policies' expectations (C18) in the catalogue, so a Welsh page shows them in Welsh.

A policy's expectations are the school's own words, in English (`policy/presets/*.toml`). For the
seed presets (St Joseph's is a Welsh school) each line is a catalogue entry: `scripts/translations`
extracts them with `extract_expectations` (named in `babel.cfg`), the Welsh is written in
`messages.po` like any page's, and the room's socket sends each line in the connection's language
(`room_words.translate`, an exact look-up). `tests/unit/test_translations.py` fails while a seed
line lacks Welsh. A school's own policy with lines the catalogue does not have shows them as the
school wrote them.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from typing import IO, Any


def expectation_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) of every expectation for the pupil and the parent in a policy."""
    expectations = tomllib.loads(text).get("expectations", {})
    wanted = [line for who in ("pupil", "parent") for line in expectations.get(who, [])]
    numbered = text.splitlines()
    found = []
    for line in wanted:
        number = next((n for n, row in enumerate(numbered, 1) if line in row), 0)
        found.append((number, line))
    return found


def extract_expectations(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str, list[str]]]:
    """A Babel extractor: each expectation line of a policy file, as a message to translate."""
    for number, line in expectation_lines(fileobj.read().decode()):
        yield number, "", line, ["An expectation in a seed policy (C18)"]
