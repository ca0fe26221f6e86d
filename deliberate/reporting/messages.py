"""The sentences an analysis run stored in English, written again in the reader's language.

A run stores, next to its typed figures, the sentences the analysis wrote (``message``). A page in
another language composes the same sentence from the typed figures, with the reader's words; the
English composition is checked against the stored sentence, and where they differ (free text, or
a run from an older version) the stored sentence is shown as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from deliberate.findings.topics import TopicFindings
from deliberate.findings.votes import NO_CLEAR_GROUPS, NOT_TESTED, GroupsTest, VoteFindings
from deliberate.reporting.words import ENGLISH, Words
from deliberate.wording import number


def _checked(stored: str, compose: Callable[[Words], str | None], words: Words) -> str:
    """``compose`` in the reader's words when, in English, it gives back the stored sentence."""
    if words is ENGLISH or compose(ENGLISH) != stored:
        return stored
    return compose(words) or stored


def groups_test_message(test: GroupsTest, words: Words = ENGLISH) -> str:
    """The sentence saying whether the opinion groups are beyond chance, with its figures."""

    def compose(w: Words) -> str | None:
        _, ngettext = w.gettext, w.ngettext
        if test.decision == NOT_TESTED:
            return _("The groups were not tested against chance.")
        if test.as_separated is None or test.p_value is None:
            return None
        shuffles = ngettext(
            "%(found)s of %(num)s shuffle of the answers separated as well; p = %(p)s",
            "%(found)s of %(num)s shuffles of the answers separated as well; p = %(p)s",
            test.permutations,
        ) % {
            "found": test.as_separated,
            "num": test.permutations,
            "p": f"{test.p_value:.3f}",
        }
        if test.decision == NO_CLEAR_GROUPS:
            return _(
                "No clear opinion groups: the best split found (%(k)s groups, separation "
                "%(separation)s) is no better than on the same answers shuffled at random "
                "(%(shuffles)s)."
            ) % {"k": test.k_found, "separation": f"{test.statistic:.2f}", "shuffles": shuffles}
        if test.null_max is None:
            return None
        fewer = (
            " "
            + _("%(k)s groups were no better separated than %(k)s groups of shuffled answers.")
            % {"k": test.k_found}
            if test.k < test.k_found
            else ""
        )
        return (
            _(
                "The opinion groups are beyond chance: separation %(separation)s against at most "
                "%(best)s on shuffled answers (%(shuffles)s)."
            )
            % {
                "separation": f"{test.statistic:.2f}",
                "best": f"{test.null_max:.2f}",
                "shuffles": shuffles,
            }
            + fewer
        )

    return _checked(test.message, compose, words)


# What the analysis stored when it could not look for groups (deliberate.analysis.opinion_groups).
_TOO_FEW = re.compile(
    r"only (\d+) participant\(s\) have voted enough to be grouped; at least (\d+) are needed "
    r"for two groups of (\d+)"
)


def why_not_enough(message: str, words: Words) -> str:
    """The stored reason there are no groups, in the reader's language where it is a known one."""
    _, ngettext = words.gettext, words.ngettext
    if "there are no votes yet" in message:
        return _("there are no votes yet.")
    if "every voted statement was moderated out" in message:
        return _("every statement voted on was moderated out.")
    found = _TOO_FEW.search(message)
    if found is None:
        return message.rstrip(".") + "."
    n, needed, size = (int(x) for x in found.groups())
    return ngettext(
        "only %(num)s participant has voted enough to be grouped; at least %(needed)s are needed "
        "for two groups of %(size)s.",
        "only %(num)s participants have voted enough to be grouped; at least %(needed)s are "
        "needed for two groups of %(size)s.",
        n,
    ) % {"num": number(n), "needed": number(needed), "size": number(size)}


_NOT_ENOUGH = "Not enough data for opinion groups: "
_PROVISIONAL = re.compile(
    r" with fewer than (\d+) answers (?:is|are) placed on the map provisionally"
)


def votes_message(votes: VoteFindings, words: Words = ENGLISH) -> str:
    """The vote analysis' sentence: how many groups among how many people, and who is only on
    the map."""
    stored = votes.message
    if words is ENGLISH:
        return stored
    _ = words.gettext
    if not votes.ok:
        if not stored.startswith(_NOT_ENOUGH):
            return stored
        return _("Not enough data for opinion groups: %(why)s") % {
            "why": why_not_enough(stored[len(_NOT_ENOUGH) :], words)
        }
    threshold = _PROVISIONAL.search(stored)
    if votes.n_too_few_votes == 1:  # the analysis wrote "1 person ... are placed" before
        stored = stored.replace(" answers are placed on the map", " answers is placed on the map")

    def compose(w: Words) -> str | None:
        _, ngettext = w.gettext, w.ngettext
        test = votes.groups_test
        if votes.k > 1:
            head = ngettext(
                "%(k)s opinion groups among %(num)s participant.",
                "%(k)s opinion groups among %(num)s participants.",
                votes.n_clustered,
            ) % {"k": votes.k, "num": votes.n_clustered}
        elif test is not None and test.k_found > 1:
            head = groups_test_message(test, w)
        else:
            head = _("No split into distinct opinion groups was found: one group.")
        n_few = votes.n_too_few_votes
        if not n_few:
            return head
        if threshold is None:
            return None
        return (
            head
            + " "
            + ngettext(
                "%(num)s person with fewer than %(threshold)s answers is placed on the map "
                "provisionally and left out of the statistics.",
                "%(num)s people with fewer than %(threshold)s answers are placed on the map "
                "provisionally and left out of the statistics.",
                n_few,
            )
            % {"num": n_few, "threshold": threshold.group(1)}
        )

    return _checked(stored, compose, words)


# Why a number of groups was not chosen, as deliberate.analysis.opinion_groups stores it.
_REJECTED: tuple[tuple[re.Pattern[str], Callable[[Words, re.Match[str]], str]], ...] = (
    (
        re.compile(r"k-means found no k non-empty groups"),
        lambda w, m: w.gettext("k-means found no k non-empty groups"),
    ),
    (
        re.compile(r"a group of (\d+) \(< (\d+) participants\)"),
        lambda w, m: (
            w.gettext("a group of %(size)s (< %(min)s participants)")
            % {"size": m.group(1), "min": m.group(2)}
        ),
    ),
    (
        re.compile(r"silhouette not above k=(\d+)"),
        lambda w, m: w.gettext("silhouette not above k=%(k)s") % {"k": m.group(1)},
    ),
    (
        re.compile(r"k=(\d+) separates better in (\d+)% of bootstraps"),
        lambda w, m: (
            w.gettext("k=%(k)s separates better in %(share)s%% of bootstraps")
            % {"k": m.group(1), "share": m.group(2)}
        ),
    ),
    (
        re.compile(r"better than k=(\d+) in only (\d+)% of bootstraps"),
        lambda w, m: (
            w.gettext("better than k=%(k)s in only %(share)s%% of bootstraps")
            % {"k": m.group(1), "share": m.group(2)}
        ),
    ),
)


def rejected_reason(why: str, words: Words = ENGLISH) -> str:
    """Why a number of groups was not chosen, in the reader's words where it is a known reason."""
    for pattern, say in _REJECTED:
        found = pattern.fullmatch(why)
        if found is not None:
            return say(words, found)
    return why


def topics_message(stored: TopicFindings, words: Words = ENGLISH) -> str:
    """How many topics were found among how many statements, or why there are none."""
    params = stored.parameters
    n, without = params.get("n_statements"), params.get("without_words")
    if not isinstance(n, int) or not isinstance(without, int):
        return stored.message
    worded = n - without

    def compose(w: Words) -> str | None:
        _, ngettext = w.gettext, w.ngettext
        if stored.status == "too_few":
            needed = params.get("min_statements")
            if not isinstance(needed, int):
                return None
            more = (
                " "
                + ngettext(
                    "(%(num)s more with no real words)",
                    "(%(num)s more with no real words)",
                    without,
                )
                % {"num": without}
                if without
                else ""
            )
            return ngettext(
                "Topics need at least %(needed)s statements and there is %(num)s%(more)s: too "
                "few to group, so read them all.",
                "Topics need at least %(needed)s statements and there are %(num)s%(more)s: too "
                "few to group, so read them all.",
                worded,
            ) % {"needed": needed, "num": worded, "more": more}
        if stored.status != "ok":
            return None
        found = sum(1 for t in stored.topics if t.id >= 0)
        if not found:
            return ngettext(
                "No topic stands out among %(num)s statement: it is under Other.",
                "No topic stands out among %(num)s statements: they are all under Other.",
                n,
            ) % {"num": n}
        other = sum(t.size for t in stored.topics if t.id < 0)
        wordless = (
            ngettext(
                ", %(num)s of them with no real words",
                ", %(num)s of them with no real words",
                without,
            )
            % {"num": without}
            if without
            else ""
        )
        return ngettext(
            "%(topics)s topics from %(num)s statements; %(other)s fit no topic "
            "(Other%(wordless)s).",
            "%(topics)s topics from %(num)s statements; %(other)s fit no topic "
            "(Other%(wordless)s).",
            n,
        ) % {"topics": found, "num": n, "other": other, "wordless": wordless}

    return _checked(stored.message, compose, words)


def language_message(stored: TopicFindings, words: Words = ENGLISH) -> str | None:
    """What to do when the embedding model may not cover every language of the statements."""
    languages = stored.languages
    if languages is None or languages.message is None:
        return None

    def compose(w: Words) -> str | None:
        _ = w.gettext
        names = {"en": _("English"), "cy": _("Welsh")}
        if languages.not_covered:
            return _(
                "Some statements are in %(languages)s, which the embedding model %(model)s does "
                "not cover: their topics may be grouped by language rather than by what they "
                "say. Set DELIBERATE_EMBEDDING_MODEL to a model that covers every language of "
                "the consultation (see the README)."
            ) % {
                "languages": ", ".join(names.get(c, c) for c in languages.not_covered),
                "model": stored.model_name,
            }
        if languages.model_covers is None and languages.several:
            return _(
                "The statements are in several languages and it is not known which languages "
                "the embedding model %(model)s covers: check that it is a multilingual model."
            ) % {"model": stored.model_name}
        return None

    return _checked(languages.message, compose, words)
