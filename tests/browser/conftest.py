"""Real-browser tests: the app served on a free loopback port, driven by Debian's Chromium.

Playwright's own browser download cannot work on these machines; ``make test`` installs the
``chromium`` package and these fixtures point Playwright at it. Screenshots go to
``test-artifacts/<database kind>/`` (git-ignored) so a person can look at each step afterwards; the
SQLite and PostgreSQL passes may run at once and must not write over each other's.

Each xdist worker launches its own Chromium (pytest-playwright's ``browser`` is session-scoped) and
serves its own app on a port the system gives it (port 0): nothing here is shared between workers.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS, database_kind
from tests.helpers import served

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: `make test` installs it (apt-get).")
    return {
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture
def live_server(app):
    """Serve the test app from a thread; yields its base URL."""
    with served(app) as url:
        yield url


@pytest.fixture
def screenshot(request):
    """Save a full-page screenshot of a page, named after the test and the step."""
    folder = ARTIFACTS / database_kind() / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 1000))

    def take(page, step: str) -> Path:
        path = folder / f"{next(counter):02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def axe_audit():
    """Run axe-core on the current page (WCAG 2.x A and AA); return serious and critical issues."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()

    def audit(page) -> list[str]:
        results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
        return [
            f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(node["target"][0] for node in v["nodes"][:3])
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]

    return audit
