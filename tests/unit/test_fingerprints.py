"""The error fingerprint: what varies between jobs is normalised away, the frame of the task's
own code is kept, jobdeck's, the standard library's and installed packages' frames are not."""

from __future__ import annotations

import hashlib
import json
import os
import sysconfig
import traceback

import pytest

from jobdeck.fingerprints import fingerprint, normalise_message, own_frame

STDLIB = sysconfig.get_paths()["stdlib"]
JOBDECK = os.path.dirname(os.path.abspath(fingerprint.__code__.co_filename))


def trace(*frames: tuple[str, str]) -> str:
    lines = ["Traceback (most recent call last):"]
    for path, function in frames:
        lines += [f'  File "{path}", line 12, in {function}', "    some_code()"]
    return "\n".join([*lines, "ValueError: boom"]) + "\n"


@pytest.mark.parametrize(
    ("message", "normalised"),
    [
        ("user 42 not found", "user <n> not found"),
        ("no row for id=981273", "no row for id=<n>"),
        ("order 3f2a9c1e-1111-2222-3333-444455556666 is locked", "order <uuid> is locked"),
        ("object at 0x7f3a2b1c9d00 is gone", "object at <hex> is gone"),
        ("digest 9f86d081884c7d659a2feaa0c55ad015 differs", "digest <hex> differs"),
        ("cannot open /var/data/2026/report.csv", "cannot open <path>"),
        ("unknown key 'billing_address'", "unknown key <str>"),
        ('bad value "12 Main St" for street', "bad value <str> for street"),
        ("timed out after 2.5 s", "timed out after <n> s"),
        ("no mailbox for ann.lee+billing@mail.example.org", "no mailbox for <email>"),
        ("  spaced   out\nover lines  ", "spaced out over lines"),
    ],
)
def test_what_varies_between_jobs_is_normalised(message: str, normalised: str) -> None:
    assert normalise_message(message) == normalised


def test_two_messages_that_differ_only_in_ids_group_together() -> None:
    tb = trace(("/srv/app/billing/invoices.py", "send_invoice"))
    first = fingerprint("KeyError: customer 1041 has no card 'card_8812'", tb)
    second = fingerprint("KeyError: customer 77 has no card 'card_90'", tb)
    assert first == second
    assert first.exception == "KeyError" and first.title == "customer <n> has no card <str>"
    assert first.frame == "billing/invoices.py in send_invoice"
    assert len(first.fingerprint) == 16


def test_different_innermost_frames_of_the_tasks_code_do_not_group_together() -> None:
    invoices = trace(("/srv/app/billing/invoices.py", "send_invoice"))
    refunds = trace(("/srv/app/billing/refunds.py", "refund"))
    assert fingerprint("KeyError: x", invoices) != fingerprint("KeyError: x", refunds)


def test_another_type_or_message_is_another_group() -> None:
    tb = trace(("/srv/app/tasks.py", "run"))
    assert fingerprint("KeyError: x", tb) != fingerprint("ValueError: x", tb)
    assert fingerprint("KeyError: missing", tb) != fingerprint("KeyError: expired", tb)


def test_the_same_code_under_another_prefix_or_line_groups_together() -> None:
    here = trace(("/srv/releases/41/app/tasks.py", "run"))
    there = trace(("/home/deploy/current/app/tasks.py", "run")).replace("line 12", "line 90")
    assert fingerprint("KeyError: x", here) == fingerprint("KeyError: x", there)


def test_jobdeck_stdlib_and_library_frames_are_skipped_for_the_tasks_own() -> None:
    tb = trace(
        (f"{JOBDECK}/worker/executors.py", "_run_thread"),
        ("/srv/app/mail/tasks.py", "send_welcome"),
        ("/venv/lib/python3.12/site-packages/requests/api.py", "post"),
        (f"{STDLIB}/json/decoder.py", "raw_decode"),
    )
    assert own_frame(tb) == "mail/tasks.py in send_welcome"


def test_a_library_frame_is_the_fallback_when_no_frame_is_the_applications() -> None:
    tb = trace(
        (f"{JOBDECK}/worker/executors.py", "_run_thread"),
        ("/venv/lib/python3.12/site-packages/acme/client.py", "call"),
        (f"{STDLIB}/socket.py", "connect"),
    )
    assert own_frame(tb) == "acme/client.py in call"
    assert own_frame(trace((f"{STDLIB}/socket.py", "connect"))) == ""


def test_a_real_traceback_of_chained_exceptions_takes_the_last_exceptions_frame() -> None:
    def parse(text: str) -> object:
        return json.loads(text)

    def load_settings() -> object:
        try:
            return parse("{")
        except ValueError as exc:
            raise RuntimeError("settings file 7 is broken") from exc

    with pytest.raises(RuntimeError) as caught:
        load_settings()
    text = "".join(traceback.format_exception(caught.value))
    key = fingerprint("RuntimeError: settings file 7 is broken", text)
    assert key.frame == "unit/test_fingerprints.py in load_settings"
    assert key.title == "settings file <n> is broken"


def test_an_error_line_without_a_type_and_no_traceback() -> None:
    key = fingerprint("task process exited with code 137 before answering", None)
    assert key.exception == "Error" and key.frame == ""
    assert key.title == "task process exited with code <n> before answering"
    assert fingerprint("TimeoutError: timed out after 5 s", None).exception == "TimeoutError"


def test_the_group_id_is_still_the_sha1_stored_groups_were_keyed_by() -> None:
    # The worker hashes without hashlib (its OpenSSL costs RSS): the ids must not change, or
    # every failure after an upgrade would open a new group beside its old one.
    key = fingerprint("KeyError: 'customer 42'", None)
    text = f"{key.exception}\n{key.title}\n{key.frame}".encode()
    assert key.fingerprint == hashlib.sha1(text, usedforsecurity=False).hexdigest()[:16]
