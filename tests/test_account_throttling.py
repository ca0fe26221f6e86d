"""Throttling sign-in, registration and password resets: per account (the address typed) and,
generously, per network address, with Retry-After on every 429 and no IP or email address kept
in the counters."""

from __future__ import annotations

from datetime import date

from deliberate.extensions import hashed_address, limiter
from tests.conftest import make_test_app
from tests.helpers import html_of, sign_in, submit_form


def limited_app(database_url, tmp_path, **limits):
    return make_test_app(database_url, tmp_path, RATELIMIT_ENABLED=True, AUTH_RATE_LIMITS=limits)


def guess(client, address: str, password: str = "wrong password here"):
    return submit_form(client, "/sign-in", {"email": address, "password": password})


def assert_told_to_wait(response, longest: int) -> None:
    assert response.status_code == 429
    assert "You have done that too many times" in html_of(response)
    assert 0 < int(response.headers["Retry-After"]) <= longest


def test_a_correct_password_from_a_shared_address_works_while_another_account_is_guessed_at(
    database_url, tmp_path, create_user
):
    create_user(email="victim@example.org")
    create_user(email="colleague@example.org")
    app = limited_app(database_url, tmp_path)
    attacker = app.test_client()
    statuses = [guess(attacker, "Victim@Example.org ").status_code for _ in range(5)]
    assert statuses == [200] * 5
    assert_told_to_wait(guess(attacker, "victim@example.org"), longest=15 * 60)
    # The guessed-at account waits, even for its right password ...
    assert_told_to_wait(
        guess(app.test_client(), "victim@example.org", "correct horse battery"), 15 * 60
    )
    # ... but a colleague behind the same address signs in as usual.
    sign_in(app.test_client(), "colleague@example.org")


def test_the_per_address_limit_counts_refused_attempts_only(database_url, tmp_path, create_user):
    create_user(email="colleague@example.org")
    app = limited_app(database_url, tmp_path, sign_in_per_address="4 per 15 minutes")
    for _ in range(6):  # people signing in at the start of a shift do not use up the allowance
        sign_in(app.test_client(), "colleague@example.org")
    sprayer = app.test_client()
    for n in range(4):  # a few guesses at each of many accounts
        assert guess(sprayer, f"person{n}@example.org").status_code == 200
    assert_told_to_wait(guess(sprayer, "colleague@example.org", "correct horse battery"), 15 * 60)
    # Somewhere else is not affected.
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    sign_in(elsewhere, "colleague@example.org")


REGISTRATION = {
    "display_name": "Asha Patel",
    "password": "walnut kettle orbit",
    "confirm_password": "walnut kettle orbit",
}


def test_registration_is_throttled_per_account_and_per_address(database_url, tmp_path, app):
    limited = limited_app(database_url, tmp_path, register_per_address="5 per 15 minutes")

    def register(address: str, network_address: str):
        client = limited.test_client()
        client.environ_base["REMOTE_ADDR"] = network_address
        return submit_form(client, "/register", {**REGISTRATION, "email": address})

    # Per account (the address typed), from wherever: it bounds the emails one address receives.
    for n in range(3):
        assert register("asha@example.org", f"198.51.100.{n}").status_code == 302
    assert_told_to_wait(register("ASHA@example.org", "198.51.100.99"), 60 * 60)
    # Per network address.
    for n in range(5):
        assert register(f"person{n}@example.org", "203.0.113.5").status_code == 302
    assert_told_to_wait(register("kim@example.org", "203.0.113.5"), 15 * 60)


def test_password_reset_requests_are_throttled_per_account_and_per_address(
    database_url, tmp_path, create_user
):
    create_user(email="lee@example.org")
    limited = limited_app(database_url, tmp_path, reset_per_address="5 per 15 minutes")

    def ask(address: str, network_address: str):
        client = limited.test_client()
        client.environ_base["REMOTE_ADDR"] = network_address
        return submit_form(client, "/forgot-password", {"email": address})

    # Per account, from wherever the requests come, and the same whether there is an account.
    for address in ("lee@example.org", "nobody@example.org"):
        for n in range(3):
            assert ask(address, f"198.51.100.{n}").status_code == 302
        assert_told_to_wait(ask(address.upper(), "198.51.100.99"), 60 * 60)
    # Per network address.
    for n in range(5):
        assert ask(f"person{n}@example.org", "203.0.113.5").status_code == 302
    assert_told_to_wait(ask("kim@example.org", "203.0.113.5"), 15 * 60)


def test_rate_limit_counters_keep_no_ip_or_email_address(database_url, tmp_path, create_user):
    create_user(email="victim@example.org")
    app = limited_app(database_url, tmp_path)
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    for _ in range(3):
        guess(client, "victim@example.org")
    submit_form(client, "/register", {**REGISTRATION, "email": "victim@example.org"})
    keys = " ".join(str(key) for key in limiter.storage.storage)
    assert "address:" in keys and "account:" in keys
    for secret in ("203.0.113.9", "victim@example.org", "victim"):
        assert secret not in keys

    with app.test_request_context(environ_base={"REMOTE_ADDR": "203.0.113.9"}):
        today = hashed_address(date(2026, 3, 1))
        assert today == hashed_address(date(2026, 3, 1))
        assert today != hashed_address(date(2026, 3, 2))  # the hash rotates every day
    with app.test_request_context(environ_base={"REMOTE_ADDR": "203.0.113.10"}):
        assert hashed_address(date(2026, 3, 1)) != today
