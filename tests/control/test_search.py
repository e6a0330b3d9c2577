"""The search box's grammar and the masking of redacted argument keys."""

from __future__ import annotations

import pytest

from jobdeck.control.search import MASK, Search, parse_search, redacted
from jobdeck.errors import ConfigError


def test_a_number_is_a_job_id_and_words_are_one_lower_cased_phrase() -> None:
    assert parse_search("#4711") == Search(job_id=4711, text="4711")
    assert parse_search("  Timeout  Upstream ") == Search(text="timeout upstream")
    assert parse_search("") == Search()
    assert parse_search("99999999999999999999").job_id is None  # past any id: plain text


def test_terms_name_an_argument_path_or_a_label() -> None:
    found = parse_search('args.user.id:42 label.event:"claim" refund ARG.x:1')
    assert found.arg_terms == (("user.id", "42"), ("x", "1"))
    assert found.label_terms == (("event", "claim"),)
    assert found.text == "refund"
    assert parse_search("error:Timeout").text == "error:timeout"  # not a term: no prefix


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("args.a/b:1", "names joined by dots"),
        ("args..a:1", "names joined by dots"),
        ("x" * 201, "at most 200"),
        ("a\x00b", "NUL"),
        ("args.a:1 args.b:2 args.c:3 args.d:4", "at most 3"),
    ],
)
def test_bad_searches_are_refused_in_one_line(raw: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_search(raw)


def test_a_redacted_key_cannot_be_searched_and_is_masked_at_any_depth() -> None:
    with pytest.raises(ConfigError, match="redacted"):
        parse_search("args.auth.Password:x", redact=("password",))
    args = {"user": 1, "PassWord": "p", "nested": [{"token": "t", "keep": 2}]}
    assert redacted(args, frozenset({"password", "token"})) == {
        "user": 1,
        "PassWord": MASK,
        "nested": [{"token": MASK, "keep": 2}],
    }
