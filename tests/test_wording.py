"""Counts in words, as every page shows them."""

from deliberate.wording import counted, number


def test_one_takes_the_singular_and_every_other_count_the_plural():
    assert counted(1, "participant") == "1 participant"
    assert counted(0, "participant") == "0 participants"
    assert counted(2, "comment") == "2 comments"
    assert counted(1, "person", "people") == "1 person"
    assert counted(1937, "person", "people") == "1,937 people"


def test_numbers_have_thousands_separators():
    assert number(1150) == "1,150"
    assert number(999) == "999"
    assert number(12.5) == "12.5"


def test_templates_use_the_same_words(app):
    with app.app_context():
        template = app.jinja_env.from_string('{{ n|counted("point") }}')
        assert template.render(n=1) == "1 point"
        assert template.render(n=1150) == "1,150 points"
