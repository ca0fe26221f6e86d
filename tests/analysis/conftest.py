"""Fixtures for the analysis tests (the data helpers live in tests/analysis/helpers.py)."""

from __future__ import annotations

import pytest

from tests.analysis.helpers import PolisConversation, load_polis


@pytest.fixture(scope="session")
def brexit() -> PolisConversation:
    return load_polis("brexit-consensus")
