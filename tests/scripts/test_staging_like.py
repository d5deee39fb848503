"""scripts/staging_like.py: its options (the runs themselves are measurements, in the README)."""

from __future__ import annotations

import pytest

from scripts import staging_like


def test_the_account_size_and_the_pytest_arguments_are_read() -> None:
    args, extra = staging_like.parse(["--seeded", "6", "--runs", "2", "--", "-k", "buttons"])
    assert (args.seeded, args.runs, args.readings) == (6, 2, "default")
    assert extra == ["-k", "buttons"]
    assert staging_like.parse([])[0].seeded == staging_like.SEEDED


@pytest.mark.parametrize(("option", "value"), [("--seeded", "0"), ("--seeded", "51"), ("--runs", "0")])
def test_an_out_of_range_value_is_a_usage_error_naming_it(
    option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        staging_like.parse([option, value])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert f"{option} must be" in error and f"not {value}" in error, error
