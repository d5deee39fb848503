"""Base-URL validation: a usable URL comes back canonical; anything else names itself and the fix."""

from __future__ import annotations

import pytest

from safety.urls import InvalidTargetURL, parse_base_url


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("http://127.0.0.1:3000", "http://127.0.0.1:3000/"),
        ("https://Staging.Example.com/app/", "https://staging.example.com/app/"),
        ("  http://localhost:8000/\n", "http://localhost:8000/"),
        ("http://0x7f.1:8000", "http://127.0.0.1:8000/"),
    ],
)
def test_usable_urls_come_back_canonical(value: str, expected: str) -> None:
    assert parse_base_url(value) == expected


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("not a url", "not an absolute URL"),
        ("127.0.0.1:3000", "not an absolute URL"),
        ("ftp://127.0.0.1/", "scheme must be http or https"),
        ("http://", "not an absolute URL"),
        ("http://user:hunter2@127.0.0.1/", "credentials"),
        ("http://127.0.0.1\\@evenslouis.ca/", "credentials"),
        ("http://127.0.0.1\\evenslouis.ca/", "backslash"),
        ("http://127.0.0.1:80@evenslouis.ca/", "credentials"),
        ("http://exa\tmple.com/", "tab or newline"),
    ],
)
def test_unusable_urls_are_refused_with_the_reason(value: str, why: str) -> None:
    with pytest.raises(InvalidTargetURL) as raised:
        parse_base_url(value)
    assert why in str(raised.value)


def test_a_password_in_the_url_is_never_echoed() -> None:
    with pytest.raises(InvalidTargetURL) as raised:
        parse_base_url("https://qa:hunter2@staging.example.com/")
    assert "hunter2" not in str(raised.value)
    assert "staging.example.com" in str(raised.value)
