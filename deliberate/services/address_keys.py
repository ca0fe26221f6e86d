"""A keyed hash of a client's address: what the service keeps instead of the address itself.

``address_key`` is an HMAC-SHA256 of the address under the app's secret key and the day (UTC), in
hex, cut to 32 characters: the same keyed hash the rate limits count by
(``deliberate.extensions.keyed_hash``). Two requests from one address on one day get the same
key, so bursts of new participants from one address can be counted and limited; the key changes
every day, so keys cannot link one address's activity across days; and without the secret key
nobody can test an address against a stored key. The address itself is never stored, logged or
shown.
"""

from __future__ import annotations

from datetime import date

from deliberate.extensions import keyed_hash


def address_key(remote_addr: str, secret: str, day: date) -> str:
    """The key of ``remote_addr`` on ``day``: the same all day, different the next."""
    return keyed_hash("address", remote_addr, day=day, secret=secret)
