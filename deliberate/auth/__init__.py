"""Registering, signing in and out, and verifying as frontline staff."""

# The account's own pages live on the same blueprint, in a module of their own.
from deliberate.auth import self_service  # noqa: F401
