"""The interface language: chosen by the switcher and remembered, else the browser's, else English;
``<html lang>`` always says which."""

from __future__ import annotations

import re

from tests.helpers import html_of


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', html_of(response)).group(1)


def test_english_by_default_and_welsh_when_the_browser_asks_for_it(client, missions):
    assert html_lang(client.get("/")) == "en"
    assert (
        html_lang(client.get("/", headers={"Accept-Language": "cy-GB,cy;q=0.9,en;q=0.5"})) == "cy"
    )
    assert html_lang(client.get("/", headers={"Accept-Language": "fr-FR"})) == "en"


def test_the_switcher_remembers_the_choice_and_goes_back_to_the_same_page(client, missions):
    page = html_of(client.get("/missions/nhs"))
    link = re.search(r'href="(/language/cy[^"]*)" hreflang="cy" lang="cy"', page).group(1)
    response = client.get(link.replace("&amp;", "&"))
    assert response.status_code == 303
    assert response.headers["Location"] == "/missions/nhs"
    assert "deliberate_language=cy" in response.headers["Set-Cookie"]
    welsh = client.get("/missions/nhs", headers={"Accept-Language": "en"})
    assert html_lang(welsh) == "cy"  # the choice wins over the browser's
    assert 'hreflang="en" lang="en"' in html_of(welsh)
    assert 'aria-label="Iaith"' in html_of(welsh)  # read from the compiled Welsh catalogue


def test_the_switcher_only_goes_back_to_this_site(client, missions):
    for elsewhere in ("https://evil.example/", "//evil.example/", "evil"):
        response = client.get("/language/cy", query_string={"next": elsewhere})
        assert response.headers["Location"] == "/"


def test_an_unknown_language_is_not_remembered(client, missions):
    response = client.get("/language/xx?next=/")
    assert (
        "Set-Cookie" not in response.headers
        or "deliberate_language" not in response.headers["Set-Cookie"]
    )
