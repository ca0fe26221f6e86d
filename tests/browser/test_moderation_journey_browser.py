"""Moderation end to end in real browsers, as issue 12 asks it to be shown: a participant writes
two comments; two other people report one of them, which is then hidden; a moderator finds it in
the queue, edits a name out of the other and takes the reported one down with a reason; the
author reads the reason; the moderation log has both actions; the team runs and publishes an
analysis, whose report counts the removal and leaves the removed words out. Each page is
screenshotted and audited with axe."""

from __future__ import annotations

import csv
import json

from playwright.sync_api import expect
from sqlalchemy import select

from deliberate import jobs
from deliberate.extensions import db
from deliberate.models import (
    AnalysisRun,
    Consultation,
    ModerationMode,
    ModerationStatus,
    RunStatus,
    Statement,
    StatementOrigin,
)
from deliberate.services.statements import write_statement
from tests.browser.test_journeys import sign_in
from tests.test_moderation import SEEDS, with_votes
from tests.test_reports import analyse

NAMED = "Mrs Smith on ward 4 ignored my mother for hours."
UNNAMED = "A nurse on the ward ignored my mother for hours."
ABUSIVE = "Everyone who works at that clinic is a useless idiot."
NOTE = "Please criticise the service, not the people who work in it."


def test_reported_hidden_redacted_rejected_logged_and_counted_in_the_published_report(
    app, browser, live_server, missions, create_user, screenshot, axe_audit
):
    # Nothing runs behind the test's back (no model loads): the test analyses when the team asks.
    app.extensions["deliberate_jobs"].shutdown()
    jobs.runner().shutdown()
    app.config["REPORT_THRESHOLD"] = 2  # what DELIBERATE_REPORT_THRESHOLD=2 sets
    create_user(email="mod@example.org", name="Mo Moderator", moderator=True)
    create_user(email="lead@example.org", name="Lee Lead", team=(missions["nhs"],))
    consultation = Consultation(
        mission=missions["nhs"],
        title="What would most improve getting care?",
        moderation_mode=ModerationMode.POST,
        allow_anonymous=True,
    )
    db.session.add(consultation)
    db.session.flush()
    for text in SEEDS:
        write_statement(consultation, text, origin=StatementOrigin.SEED)
    consultation.open()
    db.session.commit()
    base = f"{live_server}/consultations/{consultation.id}"

    # A participant writes two comments: one names a nurse, one insults the staff.
    author = browser.new_context().new_page()
    author.goto(base)
    for words in (NAMED, ABUSIVE):
        author.get_by_label("Your statement").fill(words)
        author.get_by_role("button", name="Add statement").click()
        expect(author.get_by_text("Thank you: your statement has been added")).to_be_visible()
    db.session.commit()  # (end the test's read, to see what the site wrote)
    named = db.session.scalar(select(Statement).where(Statement.text == NAMED))
    abusive = db.session.scalar(select(Statement).where(Statement.text == ABUSIVE))
    with_votes(consultation, [named, abusive])  # twenty people's votes, enough for an analysis

    # Two other people report the insult; after the second report it is hidden.
    abusive_page = f"{base}/statements/{abusive.id}"
    for n in range(2):
        reporter = browser.new_context().new_page()
        reporter.goto(abusive_page)
        expect(reporter.locator("body")).to_contain_text(ABUSIVE)
        reporter.get_by_role("link", name="Report this statement").click()
        reporter.get_by_label("Abusive").check()
        if n == 0:
            screenshot(reporter, "report-form")
            assert axe_audit(reporter) == []
        reporter.get_by_role("button", name="Send report").click()
        expect(reporter.get_by_text("your report has been sent to the moderators")).to_be_visible()
        reporter.context.close()
    passer_by = browser.new_context().new_page()
    passer_by.goto(abusive_page)
    expect(passer_by.locator("#hidden-by-reports")).to_contain_text("waiting for a moderator")
    expect(passer_by.locator("body")).not_to_contain_text(ABUSIVE)
    screenshot(passer_by, "hidden")
    assert axe_audit(passer_by) == []

    # The moderator finds it in the queue, reported and hidden.
    moderator = browser.new_context().new_page()
    sign_in(moderator, live_server, "mod@example.org")
    moderator.goto(f"{live_server}/manage/consultations/{consultation.id}/moderation")
    reported = moderator.locator(f"#reported-{abusive.id}")
    expect(reported).to_contain_text("Reported by 2 people: Abusive (2)")
    expect(reported).to_contain_text("Hidden after reports")
    screenshot(moderator, "queue")
    assert axe_audit(moderator) == []

    # ... edits the nurse's name out of the first comment, keeping it and its votes ...
    moderator.goto(f"{live_server}/manage/statements/{named.id}")
    moderator.get_by_role("link", name=f"Edit the words of comment {named.id}").click()
    moderator.get_by_label("The statement's words").fill(UNNAMED)
    moderator.get_by_label("Personal information").check()
    screenshot(moderator, "redact")
    assert axe_audit(moderator) == []
    moderator.get_by_role("button", name="Save the edited statement").click()
    expect(moderator.get_by_text("Statement edited")).to_be_visible()

    # ... and takes the reported one down with a reason and a note to its author.
    moderator.goto(f"{live_server}/manage/consultations/{consultation.id}/moderation")
    moderator.get_by_role("link", name=f"Open comment {abusive.id}").click()
    expect(moderator.locator("#reports")).to_be_visible()
    moderator.get_by_label("Abusive").check()
    moderator.get_by_label("Note to the author (optional)").fill(NOTE)
    screenshot(moderator, "take-down")
    assert axe_audit(moderator) == []
    moderator.get_by_role("button", name=f"Take down comment {abusive.id}").click()
    expect(moderator.get_by_text("Comment rejected.")).to_be_visible()

    # The public sees the edited words, labelled; the name is gone.
    passer_by.goto(f"{base}/statements/{named.id}")
    expect(passer_by.locator("body")).to_contain_text(UNNAMED)
    expect(passer_by.locator("body")).to_contain_text("Edited by moderators")
    expect(passer_by.locator("body")).not_to_contain_text("Mrs Smith")
    passer_by.context.close()

    # The author reads what happened to each comment, and why the insult was removed.
    author.goto(f"{base}/answers")
    own = author.locator("#own-statements")
    expect(own.locator(f"#own-{abusive.id}")).to_contain_text(
        f"Removed by moderators: Abusive — {NOTE}"
    )
    expect(own.locator(f"#own-{named.id}")).to_contain_text("Edited by moderators")
    expect(author.locator("body")).not_to_contain_text("Mrs Smith")
    screenshot(author, "answers")
    assert axe_audit(author) == []
    author.context.close()

    # The moderation log, downloaded from the queue's link, has both actions.
    moderator.goto(f"{live_server}/manage/consultations/{consultation.id}/moderation")
    with moderator.expect_download() as download:
        moderator.get_by_role("link", name="moderation log (CSV)").click()
    with open(download.value.path(), encoding="utf-8", newline="") as log:
        rows = list(csv.DictReader(log))
    assert [
        (int(r["statement_id"]), r["action"], r["reason"], r["public_note"], r["moderator_role"])
        for r in rows
    ] == [
        (named.id, "redacted", "Personal information", "", "moderator"),
        (abusive.id, "rejected", "Abusive", NOTE, "moderator"),
    ]
    assert rows[0]["statement_text"] == UNNAMED and rows[1]["statement_text"] == ABUSIVE
    assert "Mrs Smith" not in json.dumps(rows) and "Mo Moderator" not in json.dumps(rows)
    moderator.context.close()

    # The team runs the analysis from its page (the test does the job's work: the analysis
    # without topics, so no model loads) and publishes it after the confirmation page.
    lead = browser.new_context().new_page()
    sign_in(lead, live_server, "lead@example.org")
    lead.goto(f"{live_server}/manage/consultations/{consultation.id}")
    lead.get_by_role(
        "link", name="Analysis, public summary and rounds of this consultation"
    ).click()
    expect(lead.locator("h1")).to_have_text("Analysis and summary")
    expect(lead.locator("body")).to_contain_text("Out of date")
    lead.get_by_role("button", name="Run the analysis now").click()
    expect(lead.locator("#analysis-progress")).to_contain_text("The analysis is running")
    lead.get_by_role("link", name="Stop checking automatically").click()
    run = analyse(consultation.id)
    lead.get_by_role("link", name="Check again").click()
    expect(lead.locator("#analysis-progress")).to_contain_text(
        f"The analysis has finished: run {run.id}."
    )
    screenshot(lead, "analysed")
    assert axe_audit(lead) == []
    lead.get_by_role("button", name=f"Publish run {run.id}").click()
    expect(lead.locator("h1")).to_have_text(f"Publish run {run.id}")  # the confirmation page
    screenshot(lead, "confirm-publish")
    assert axe_audit(lead) == []
    lead.get_by_role("button", name=f"Publish run {run.id}").click()
    expect(
        lead.get_by_text("Published: the public summary now shows this analysis.")
    ).to_be_visible()

    # The published report counts the removal and the edit, and never shows the removed words.
    lead.get_by_role("link", name="read the public summary").click()
    expect(lead.locator("h1")).to_contain_text("Summary of findings")
    expect(lead.locator("#moderation-summary")).to_contain_text(
        "1 statement was removed by the moderators: 1 abusive. 1 statement was edited by the "
        "moderators to take out words that broke the policy."
    )
    expect(lead.locator("body")).not_to_contain_text("Mo Moderator")
    screenshot(lead, "report")
    assert axe_audit(lead) == []
    lead.goto(f"{base}/report/runs/{run.id}/statements")
    expect(lead.locator("body")).to_contain_text(UNNAMED)
    for page_text in (lead.locator("body").inner_text(), lead.content()):
        assert ABUSIVE not in page_text and "Mrs Smith" not in page_text
    lead.context.close()

    # The run left the removed statement out of the analysis, kept its votes and stored no words.
    db.session.expire_all()
    stored = db.session.get(AnalysisRun, run.id)
    assert stored.status is RunStatus.DONE and stored.published_at is not None
    assert db.session.get(Statement, abusive.id).moderation is ModerationStatus.REJECTED
    assert stored.results["moderation"] == {
        "n_removed": 1,
        "by_reason": {"abusive": 1},
        "n_without_reason": 0,
        "n_edited": 1,
    }
    statements = stored.results["votes"]["statements"]
    assert statements["moderated_out"][statements["statement_ids"].index(abusive.id)] is True
    assert statements["moderated_out"][statements["statement_ids"].index(named.id)] is False
    results = json.dumps(stored.results)
    assert ABUSIVE not in results and "Mrs Smith" not in results
