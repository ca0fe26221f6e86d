"""The open data page in a real browser: found from the footer, read without JavaScript, passes
axe, and its download is the published consultation's zip with its README."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from playwright.sync_api import expect

from deliberate.extensions import db
from deliberate.models import Consultation
from deliberate.services import reports
from tests.test_reports import analyse, imported


def test_the_open_data_page_lists_the_published_consultation_and_its_zip(
    browser, page, live_server, missions, create_user, screenshot, axe_audit
):
    team = create_user(email="team@example.org", team=(missions["growth"],))
    cid = imported(missions)
    reports.publish_run(team, db.session.get(Consultation, cid), analyse(cid))
    db.session.commit()

    page.goto(live_server + "/")
    page.get_by_role("link", name="Open data").click()
    expect(page.locator("h1")).to_have_text("Open data")
    card = page.locator(f"#consultation-{cid}")
    expect(card).to_contain_text("Can there be consensus on Brexit?")
    expect(card).to_contain_text("204 participants, 50 statements, 5,303 votes")
    expect(card.get_by_role("link", name="CC BY 4.0")).to_have_attribute(
        "href", "https://creativecommons.org/licenses/by/4.0/"
    )
    screenshot(page, "open-data")
    assert axe_audit(page) == []

    context = browser.new_context(java_script_enabled=False, accept_downloads=True)
    plain = context.new_page()
    plain.goto(live_server + "/open-data")
    with plain.expect_download() as download_info:
        plain.get_by_role(
            "link", name="Download the data (ZIP) of Can there be consensus on Brexit?"
        ).click()
    download = download_info.value
    assert download.suggested_filename == f"deliberate-consultation-{cid}-open-data.zip"
    archive = zipfile.ZipFile(io.BytesIO(Path(download.path()).read_bytes()))
    assert archive.namelist()[0] == "README.txt"
    assert "run.json" in archive.namelist() and "votes.csv" in archive.namelist()
    context.close()
