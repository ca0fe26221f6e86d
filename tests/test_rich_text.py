"""A consultation's context reads as its team wrote it: paragraphs, lists, emphasis and links, and
nothing else (no raw HTML, no script, no image, no javascript: link)."""

from __future__ import annotations

from deliberate.extensions import db
from deliberate.models import Consultation
from deliberate.rich_text import rich_text
from tests.helpers import html_of

CONTEXT = (
    "We want to hear from **everyone** who travels here.\n\n"
    "Tell us about:\n\n- buses\n- *trains*\n\n"
    "Read [the plan](https://example.org/plan) first.\n\n"
    '<script>alert("x")</script> <b>bold</b> [trap](javascript:alert(1)) ![i](https://e.org/i.png)'
)


def test_the_context_is_shown_as_paragraphs_lists_emphasis_and_links(client, missions):
    consultation = Consultation(mission=missions["nhs"], title="Transport", context=CONTEXT)
    consultation.open()
    db.session.add(consultation)
    db.session.commit()
    page = html_of(client.get(f"/consultations/{consultation.id}"))
    assert "<strong>everyone</strong>" in page and "**" not in page
    assert (
        '<ul class="govuk-list govuk-list--bullet">\n<li>buses</li>\n<li><em>trains</em></li>'
        in page
    )
    assert (
        '<a href="https://example.org/plan" class="govuk-link" rel="nofollow noopener">the plan</a>'
        in page
    )
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "<b>bold</b>" not in page and 'href="javascript' not in page
    assert "<img" not in page


def test_nothing_but_the_safe_subset_comes_out():
    html = str(rich_text("<img src=x onerror=alert(1)>\n\n[a](JavaScript:alert(1))\n\n# Big"))
    assert "<img" not in html and 'href="javascript' not in html.lower() and "<h1" not in html
    assert str(rich_text("")) == "" and str(rich_text(None)) == ""
