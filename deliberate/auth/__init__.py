"""Registering, signing in and out, and verifying as frontline staff."""

# The account's own pages live on the same blueprint, in modules of their own.
from deliberate.auth import api_token_views, self_service  # noqa: F401
