"""Fixtures for the analysis tests (the data helpers live in tests/analysis/helpers.py)."""

from __future__ import annotations

import pytest

from deliberate.analysis import VoteAnalysis, analyse_votes
from tests.analysis.helpers import PolisConversation, load_polis


@pytest.fixture(scope="session")
def brexit() -> PolisConversation:
    return load_polis("brexit-consensus")


@pytest.fixture(scope="session")
def brexit_result(brexit: PolisConversation) -> VoteAnalysis:
    """The default analysis of brexit-consensus (its groups test runs 39 permutations)."""
    return analyse_votes(brexit.votes)
