"""`safeclass policy …` and `safeclass --version`: output, exit codes, and never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from safeclass import __version__
from safeclass.cli.main import app
from safeclass.policy import load_preset
from safeclass.policy.loading import dump_dict, preset_path

# Rich decides colour and wrapping from the environment; tests see plain, unwrapped text.
runner = CliRunner(env={"FORCE_COLOR": None, "TTY_COMPATIBLE": None, "COLUMNS": None})


def run(*args: str) -> Result:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception), result.exception
    return result


def claydon_file(tmp_path: Path, old: str = "", new: str = "") -> str:
    """Claydon's preset copied to a file, with one piece of it replaced."""
    text = preset_path("claydon").read_text(encoding="utf-8")
    if old:
        assert text.count(old) == 1
        text = text.replace(old, new)
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_version_prints_the_package_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"safeclass {__version__}"


def test_list_shows_every_preset_with_its_key_settings() -> None:
    result = run("policy", "list")
    assert result.exit_code == 0
    for heading in ("Name", "School", "Recording", "Review"):
        assert heading in result.stdout
    for name in ("claydon", "werrington", "st-josephs", "crofton", "s04"):
        assert name in result.stdout
    assert "2022-01-04" in result.stdout
    assert "with_notice" in result.stdout


@pytest.mark.parametrize(
    "fact",
    [
        # covers: CLA-02, C5
        "At least 2 staff must be in the room before any pupil is admitted (CLA-02)",
        "two adults",
        # covers: CLA-06
        "Sessions last at most 30 minutes",
        # covers: CLA-09
        "Sessions are never recorded",
        # covers: CLA-13, C8
        "Chat is off until the teacher switches it on; messages are always seen by everyone — "
        "there is no private chat",
        # covers: CLA-15, C4
        "Pupils are shown by first name and surname initial, e.g. 'Amelia R.', taken from the "
        "class list; they cannot change it",
        # covers: CRO-17 (Claydon's review date, 4 January 2022, is in the past)
        "The review date, 4 January 2022, has passed",
    ],
)
def test_show_claydon_says_its_rules_in_plain_english(fact: str) -> None:
    result = run("policy", "show", "claydon")
    assert result.exit_code == 0
    assert fact in result.stdout


def test_show_accepts_a_policy_file(tmp_path: Path) -> None:
    result = run("policy", "show", claydon_file(tmp_path))
    assert result.exit_code == 0
    assert "Claydon Primary School" in result.stdout


def test_show_json_prints_the_validated_policy() -> None:
    result = run("policy", "show", "werrington", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == dump_dict(load_preset("werrington"))


def test_show_an_unknown_preset_suggests_the_nearest_one() -> None:
    result = run("policy", "show", "clayden")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "no preset or file called 'clayden'" in result.stderr
    assert "did you mean 'claydon'?" in result.stderr


def test_check_a_good_file_says_ok(tmp_path: Path) -> None:
    result = run("policy", "check", claydon_file(tmp_path))
    assert result.exit_code == 0
    assert result.stdout.strip() == "OK: Claydon Primary School policy v1 is valid"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            "min_staff = 2 ",
            "min_staf = 2 ",
            ["line 15, staffing.min_staf:", "hint: did you mean 'min_staff'?"],
            id="typo",
        ),
        pytest.param(
            "max_minutes = 30 ",
            'max_minutes = "thirty" ',
            ["line 21, timing.max_minutes: Input should be a valid integer", "got 'thirty'"],
            id="wrong-type",
        ),
        pytest.param(
            # covers: CLA-02, CRO-04
            "min_staff = 2 ",
            "min_staff = 1 ",
            [
                "line 15, staffing.min_staff: staffing.min_staff = 1 lets one adult sit with one "
                "pupil, but one_to_one.allowed = false forbids exactly that",
                "hint: set staffing.min_staff = 2 (CLA-02)",
            ],
            id="contradiction",
        ),
        pytest.param(
            'mode = "never"',
            'mode = "sometimes"',
            [
                "line 45, recording.mode:",
                "'never', 'with_notice' or 'one_to_one_exception'",
            ],
            id="unknown-choice",
        ),
        pytest.param(
            'key = "claydon"',
            'key = "claydon',
            ["line 7: not valid TOML", "hint: check quotes"],
            id="invalid-toml",
        ),
        pytest.param(
            "[timing]",
            "[timings]",
            ["timing: is required but missing", "hint: add a [timing] table", "'timing'?"],
            id="missing-section",
        ),
    ],
)
def test_check_a_bad_file_lists_every_problem_and_exits_1(
    tmp_path: Path, old: str, new: str, expected: list[str]
) -> None:
    result = run("policy", "check", claydon_file(tmp_path, old, new))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "the policy cannot be used" in result.stderr
    for text in expected:
        assert text in result.stderr


def test_check_a_missing_file_exits_1(tmp_path: Path) -> None:
    result = run("policy", "check", str(tmp_path / "nowhere.toml"))
    assert result.exit_code == 1
    assert "no preset or file called" in result.stderr


def test_check_a_directory_exits_1(tmp_path: Path) -> None:
    result = run("policy", "check", str(tmp_path))
    assert result.exit_code == 1
    assert "cannot read the file: Is a directory" in result.stderr


def test_check_a_file_that_is_not_utf8_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes("[school]\nname = 'Sch\xf6n'\n".encode("latin-1"))
    result = run("policy", "check", str(path))
    assert result.exit_code == 1
    assert "not UTF-8 text" in result.stderr
    assert "hint: save it as UTF-8" in result.stderr


def test_a_usage_error_exits_2() -> None:
    result = runner.invoke(app, ["policy", "check"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_diff_claydon_crofton_lists_the_single_adult_fallback() -> None:
    # covers: CRO-04
    result = run("policy", "diff", "claydon", "crofton")
    assert result.exit_code == 0
    for field in ("staffing.single_adult_fallback", "timing.max_minutes", "school.name"):
        assert field in result.stdout
    assert "staffing.min_staff" not in result.stdout


def test_diff_json_gives_old_and_new_values() -> None:
    result = run("policy", "diff", "claydon", "crofton", "--json")
    assert result.exit_code == 0
    changes = {c["field"]: c for c in json.loads(result.stdout)}
    assert changes["staffing.single_adult_fallback"]["old"] is False
    assert changes["staffing.single_adult_fallback"]["new"] is True
    assert changes["school_day.starts"]["new"] == "08:45:00"


def test_diff_of_a_policy_with_itself_says_there_are_no_differences() -> None:
    result = run("policy", "diff", "s04", "s04")
    assert result.exit_code == 0
    assert "No differences" in result.stdout


def test_diff_reports_both_unusable_policies_and_exits_1(tmp_path: Path) -> None:
    result = run("policy", "diff", "nope", claydon_file(tmp_path, "[timing]", "[timings]"))
    assert result.exit_code == 1
    assert "no preset or file called 'nope'" in result.stderr
    assert "timing: is required but missing" in result.stderr


def test_the_installed_console_script_checks_a_file(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "safeclass"
    if not script.exists():
        pytest.skip("the safeclass console script is not installed next to this Python")
    ok = subprocess.run(
        [str(script), "policy", "check", claydon_file(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (ok.returncode, ok.stdout.strip()) == (
        0,
        "OK: Claydon Primary School policy v1 is valid",
    )
    bad = subprocess.run(
        [str(script), "policy", "check", str(tmp_path / "missing.toml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1
    assert "Traceback" not in bad.stderr
    assert "no preset or file called" in bad.stderr
