"""Fixtures for the Polis export tests: the six real conversations shipped in ``data/polis``.

The data is required, not optional: a missing folder fails loudly instead of skipping, so the
tests never pass without having read real data.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from deliberate.polis_format import PolisExport, read_export
from tests.helpers import POLIS_DATA

CONVERSATIONS = (
    "15-per-hour-seattle",
    "brexit-consensus",
    "canadian-electoral-reform",
    "london.youth.policing",
    "scoop-hivemind.biodiversity",
    "scoop-hivemind.freshwater",
)


@pytest.fixture(scope="session")
def polis_data() -> Path:
    assert POLIS_DATA.is_dir(), f"the real Polis data is missing: expected it at {POLIS_DATA}"
    return POLIS_DATA


@pytest.fixture(params=CONVERSATIONS)
def conversation(request: pytest.FixtureRequest, polis_data: Path) -> Path:
    """Each real conversation folder in turn."""
    return polis_data / request.param


@pytest.fixture(scope="session")
def read_real(polis_data: Path) -> Callable[[str], PolisExport]:
    """Read a real conversation by name, once per session (exports are frozen: sharing is safe)."""
    cache: dict[str, PolisExport] = {}

    def read(name: str) -> PolisExport:
        if name not in cache:
            cache[name] = read_export(polis_data / name)
        return cache[name]

    return read


@pytest.fixture
def real_export(conversation: Path, read_real: Callable[[str], PolisExport]) -> PolisExport:
    return read_real(conversation.name)


@pytest.fixture
def copy_of(tmp_path: Path, polis_data: Path):
    """Copy a real conversation into tmp_path, so a test can alter its files."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(polis_data / name, target)
        for path in target.iterdir():
            path.chmod(0o644)  # the shared data is read-only; copies must be editable
        target.chmod(0o755)
        return target

    return copy
