"""PINs: salted scrypt, constant-time checks, blocking after wrong attempts, never shown."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from callacct.errors import LockError
from callacct.lock.pins import check_new_pin, hash_pin, pin_matches
from tests.lock.conftest import lock_settings, service

NOW = dt.datetime(2026, 11, 20, 9, 0)


def test_a_pin_is_stored_as_a_salted_hash() -> None:
    first, second = hash_pin("2580"), hash_pin("2580")
    assert first != second  # a fresh salt each time
    assert "2580" not in first
    assert pin_matches("2580", first)
    assert pin_matches("2580", second)
    assert not pin_matches("2581", first)
    assert not pin_matches("2580", "plain-text")


@pytest.mark.parametrize(
    ("pin", "message"),
    [
        ("123", "exactly 4 digits"),
        ("12a4", "exactly 4 digits"),
        ("１２３４", "exactly 4 digits"),  # full-width digits
        ("7777", "one digit repeated"),
        ("3456", "consecutive digits"),
        ("9876", "consecutive digits"),
    ],
)
def test_pins_that_are_too_easy_are_refused(pin: str, message: str) -> None:
    with pytest.raises(LockError, match=message) as caught:
        check_new_pin(pin, 4)
    assert pin not in str(caught.value)


def test_pin_length_is_a_setting(people_store) -> None:
    settings = lock_settings(pin_length=6)
    operator = service(people_store, settings)
    with pytest.raises(LockError, match="exactly 6 digits"):
        operator.set_pin("alice", "2580")
    operator.set_pin("alice", "258013")
    assert operator.check_pin("alice", "258013").ok


def test_brute_force_is_blocked(people_store, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    settings = lock_settings(pin_attempts=3, pin_block_minutes=10)
    operator = service(people_store, settings, clock=NOW)
    operator.set_pin("alice", "2580")
    answers = [operator.check_pin("alice", f"{n:04d}") for n in (1, 2)]
    assert [(a.ok, a.reason, a.attempts_left) for a in answers] == [
        (False, "wrong", 2),
        (False, "wrong", 1),
    ]
    blocked = operator.check_pin("alice", "0003")
    assert (blocked.reason, blocked.blocked_until) == ("blocked", NOW + dt.timedelta(minutes=10))
    # While blocked, even the right PIN is refused: guessing gains nothing.
    assert operator.check_pin("alice", "2580").reason == "blocked"
    later = service(people_store, settings, clock=NOW + dt.timedelta(minutes=11))
    assert later.check_pin("alice", "2580").ok
    assert later.check_pin("alice", "1111").attempts_left == 2  # the count started again
    assert "2580" not in caplog.text
    stored = people_store.con.execute("SELECT * FROM lock_pins").fetchall()
    assert "2580" not in str(stored)


def test_a_person_changes_their_pin_with_the_old_one(people_store) -> None:
    settings = lock_settings(pin_attempts=2)
    service(people_store, settings).set_pin("alice", "2580")
    alice = service(people_store, settings, "alice", clock=NOW)
    with pytest.raises(LockError, match=r"wrong PIN \(1 attempts left"):
        alice.set_pin("alice", "1357", old_pin="0000")
    alice.set_pin("alice", "1357", old_pin="2580")
    assert alice.check_pin("alice", "1357").ok
    assert not alice.check_pin("alice", "2580").ok


def test_who_may_set_and_reset_a_pin(people_store) -> None:
    settings = lock_settings()
    with pytest.raises(LockError, match="dave may not change the PIN of 'alice'"):
        service(people_store, settings, "dave").set_pin("alice", "2580")
    service(people_store, settings, "carol").set_pin("alice", "2580")  # her supervisor
    with pytest.raises(LockError, match="only an admin or a supervisor resets a PIN"):
        service(people_store, settings, "alice").reset_pin("alice")
    assert service(people_store, settings, "erin").reset_pin("alice") is True
    assert service(people_store, settings).check_pin("alice", "2580").reason == "missing"
    statuses = {s.login: s.pin_set for s in service(people_store, settings).status()}
    assert statuses["alice"] is False
