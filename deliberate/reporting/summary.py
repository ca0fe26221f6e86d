"""The plain-English summary of a report, written by rules from the stored numbers.

No language model: each rule below turns figures into one finding, in everyday words and short
sentences, with its figures ("156 of 167 people (93%)") and links to the statements and counts
behind it. What makes the claim safe to say (the test, its q-value, intervals, each group's
counts) is kept apart in ``Sentence.sure``, which the page shows in a "How sure are we?" details
component beside the finding, never in the sentence. A rule says nothing the statistics do not
support:

- a statement is said to be agreed (or rejected) only when its stored test is significant (its
  Benjamini-Hochberg q-value within the run's false-discovery rate, alpha) and the counts show a
  majority of those who voted on it in every group. The words then follow the shares:
  "almost everyone who answered" when at least ALMOST_EVERYONE percent of everyone who voted on it
  and at least ALMOST_EVERY_GROUP percent of every group did so; "most people who answered" when
  more than half of everyone did; otherwise "most people in every opinion group";
- a group "was more likely to agree", groups "split", staff and citizens "differ" or "both agree"
  only with a significant stored test for that claim; an opinion group is described by what its
  members tended to agree with ("People who tended to agree with ...") only from a significant
  representative statement of a run that published groups;
- counts that no test was made on (participation, topic sizes, agreement within a topic) are
  stated as counts, never as findings;
- participants chose to take part: the summary says so, and every "How sure are we?" says its
  shares are of these people.

Rules, in the order the findings appear on the page:

1. participation: who took part (staff and citizens apart), votes, statements, and that they chose
   to take part (not a sample of the population). Always. A small consultation says it is small.
1b. left out: how many participants the team left out of the analysis, and why, counted by reason.
   Only when some were.
2. groups: how many opinion groups, of what sizes (small ones said to be small); or that there is
   not enough data yet, or no clear groups.
3. agreement: the strongest statement a majority of every group agreed with.
4. rejection: the strongest statement a majority of every group disagreed with.
4b. across viewpoints: with no opinion groups to speak of, the statement most agreed with across
   viewpoints (bridging), only when its whole interval is above zero.
5. division: the statement the groups split on most, with the agreeing and disagreeing shares.
6. group views: per group, the statement that sets it apart most from the other groups.
7. staff and citizens: that they cannot be compared; or where they differ most and what both
   agree on; or that no statement shows a significant difference.
8. topics: how many topics, the largest; the topics drawing the most and the fewest agree votes.

The top summary (``top_summary``) is at most TOP_SENTENCES sentences, the most important first:
what people agree on, where they split, then who took part.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from deliberate.reporting.figures import (
    AGREE,
    ConsensusFigure,
    Figures,
    GroupFigure,
    StatementRow,
    Tally,
    group_name,
)
from deliberate.reporting.messages import why_not_enough
from deliberate.reporting.words import ENGLISH, Words
from deliberate.wording import number

QUOTE_MAX = 140
SMALL_CONSULTATION = 50  # fewer people taking part: the summary says the consultation is small
SMALL_GROUP = 20  # a smaller opinion group: the summary says the groups are small
# "Almost everyone who answered": at least this share of everyone who voted on the statement,
# and at least ALMOST_EVERY_GROUP of every opinion group (on top of the significant stored test).
ALMOST_EVERYONE = 90
ALMOST_EVERY_GROUP = 80
TOP_SENTENCES = 5  # the top summary's length, in sentences
# Where each rule's finding sits on the page, and which rules make the top summary, in order.
SECTIONS = {
    "participation": "who",
    "small": "who",
    "left_out": "who",
    "agreement": "agree",
    "rejection": "agree",
    "across_viewpoints": "agree",
    "groups": "differ",
    "division": "differ",
    "group-view": "differ",
    "roles": "roles",
    "roles-differ": "roles",
    "roles-agree": "roles",
    "topics": "topics",
    "topic-agreement": "topics",
}
# Groups come before the rest when they are in doubt: that says how to read every other finding.
TOP_RULES = ("agreement", "division", "groups", "rejection", "across_viewpoints", "roles-differ")


def self_selected(words: Words = ENGLISH) -> str:
    _ = words.gettext
    return _(
        "The people who took part chose to; they are not a sample of the population, so every "
        "share is a share of them."
    )


@dataclass(frozen=True)
class Part:
    text: str
    href: str | None = None
    quoted: bool = False  # a participant's words: kept as written, left out of readability checks


@dataclass(frozen=True)
class Sentence:
    """One finding: its plain sentence (``parts``), and what makes it safe to say (``sure``:
    the test, its q-value and intervals, each group's counts), shown one click away."""

    rule: str
    parts: tuple[Part, ...]
    sure: tuple[str, ...] = ()
    key: str = ""  # tells apart findings of one rule (the group of a group view)
    # Said about groups in the top summary only when the groups themselves are in doubt.
    in_doubt: bool = False

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.parts)

    @property
    def links(self) -> tuple[str, ...]:
        return tuple(p.href for p in self.parts if p.href)

    @property
    def anchor(self) -> str:
        """The id of the finding on the page, where its evidence and "How sure are we?" sit."""
        return f"finding-{self.rule}" + (f"-{self.key}" if self.key else "")

    @property
    def section(self) -> str:
        return SECTIONS.get(self.rule, "who")

    @property
    def own_words(self) -> str:
        """The sentence with each quoted statement as one word: the words this module wrote."""
        return "".join("it" if p.quoted else p.text for p in self.parts)

    @property
    def n_sentences(self) -> int:
        return count_sentences(self.own_words)


def count_sentences(text: str) -> int:
    return len([s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s])


def _sentence(
    rule: str,
    *parts: str | Part,
    sure: Iterable[str] = (),
    key: str = "",
    in_doubt: bool = False,
) -> Sentence:
    return Sentence(
        rule,
        tuple(p if isinstance(p, Part) else Part(p) for p in parts if p),
        tuple(sure),
        key,
        in_doubt,
    )


def _shortened(text: str, limit: int = QUOTE_MAX) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def quote(row: StatementRow) -> Part:
    """The statement in quotation marks (shortened), linked to its counts on the page."""
    return Part(f"“{_shortened(row.text)}”", f"#{row.anchor}", quoted=True)


def share(tally: Tally, noun: str = "", words: Words = ENGLISH) -> str:
    """ "82 of 88 (93%)", or with the noun "people" "82 of 88 people (93%)"."""
    _, ngettext = words.gettext, words.ngettext
    values = {
        "count": number(tally.count),
        "seen": number(tally.seen),
        "percent": tally.percent,
    }
    if noun == "people":
        return (
            ngettext(
                "%(count)s of %(seen)s person (%(percent)s%%)",
                "%(count)s of %(seen)s people (%(percent)s%%)",
                tally.seen,
            )
            % values
        )
    if noun == "votes":
        return (
            ngettext(
                "%(count)s of %(seen)s vote (%(percent)s%%)",
                "%(count)s of %(seen)s votes (%(percent)s%%)",
                tally.seen,
            )
            % values
        )
    return _("%(count)s of %(seen)s (%(percent)s%%)") % values


def people(n: int, words: Words = ENGLISH) -> str:
    ngettext = words.ngettext
    return ngettext("%(num)s person", "%(num)s people", n) % {"num": number(n)}


def _statements(n: int, words: Words) -> str:
    ngettext = words.ngettext
    return ngettext("%(num)s statement", "%(num)s statements", n) % {"num": number(n)}


def and_list(items: list[str], words: Words = ENGLISH) -> str:
    """ "A, B and C" in the reader's language."""
    _ = words.gettext
    if len(items) == 1:
        return items[0]
    return _("%(items)s and %(last)s") % {"items": ", ".join(items[:-1]), "last": items[-1]}


def _tested(q: float, alpha: float, claim: str, words: Words) -> str:
    """The test behind a claim, for "How sure are we?"."""
    _ = words.gettext
    return _(
        "A statistical test supports %(claim)s at a false-discovery rate of %(alpha)s "
        "(q %(q)s): at most %(alpha)s of the claims of this kind on this page are expected "
        "to be chance findings."
    ) % {"claim": claim, "alpha": f"{alpha:.0%}", "q": _q(q)}


def _q(q: float) -> str:
    return "< 0.001" if q < 0.001 else f"= {q:.3f}"


def group_description(group: GroupFigure, alpha: float, words: Words = ENGLISH) -> str | None:
    """What the group's members typically agree with, from its strongest significant
    representative statement (agreeing first, else disagreeing): "People who tended to agree
    with “...”". None when no representative statement of the group passed its test."""
    _ = words.gettext
    found = [r for r in group.distinctive if r.q_value <= alpha]
    top = next((r for r in found if r.direction == AGREE), None) or next(iter(found), None)
    if top is None:
        return None
    said = _shortened(top.statement.text, 100).rstrip(".")
    if top.direction == AGREE:
        return _("People who tended to agree with “%(statement)s”") % {"statement": said}
    return _("People who tended to disagree with “%(statement)s”") % {"statement": said}


def participation(f: Figures, words: Words = ENGLISH) -> Iterable[Sentence]:
    _, ngettext = words.gettext, words.ngettext
    who = []
    if f.n_staff:
        who.append(
            ngettext("%(num)s verified staff", "%(num)s verified staff", f.n_staff)
            % {"num": number(f.n_staff)}
        )
    if f.n_citizens and f.n_staff:
        who.append(
            ngettext("%(num)s citizen", "%(num)s citizens", f.n_citizens)
            % {"num": number(f.n_citizens)}
        )
    took_part = ngettext("%(num)s person took part", "%(num)s people took part", f.n_voters) % {
        "num": number(f.n_voters)
    }
    casting = ngettext(", casting %(num)s vote on ", ", casting %(num)s votes on ", f.n_votes) % {
        "num": number(f.n_votes)
    }
    yield _sentence(
        "participation",
        Part(took_part, "#key-figures"),
        f" ({and_list(who, words)})" if who else "",
        casting,
        Part(_statements(f.n_statements, words), "#statements"),
        _(". They chose to take part and are not a sample of the population."),
        sure=(
            _(
                "Every share in this summary is a share of the people who took part, or of "
                "those of them who answered a statement."
            ),
        ),
    )
    if 0 < f.n_voters < SMALL_CONSULTATION:
        yield _sentence(
            "small",
            Part(
                _("This is a small consultation (%(people)s)")
                % {"people": people(f.n_voters, words)},
                "#key-figures",
            ),
            _(", so its shares are uncertain."),
            sure=(
                _(
                    "Shares of fewer than 30 people are shown with their 95%% interval: the range "
                    "the share would likely fall in if as many people were asked again."
                )
                % {},
            ),
        )


def left_out(f: Figures, words: Words = ENGLISH) -> Iterable[Sentence]:
    _, ngettext = words.gettext, words.ngettext
    n = f.exclusions.n_participants
    if not n:
        return
    # The reasons in the words deliberate.findings.exclusions gives them, in the reader's language.
    known = {
        "joined in a burst from one address": _("joined in a burst from one address"),
        "gave exactly the same answers as other participants": _(
            "gave exactly the same answers as other participants"
        ),
        "other reasons": _("other reasons"),
    }
    reasons = [
        f"{number(count)} {known.get(reason, reason)}" for reason, count in f.exclusions.reasons
    ]
    yield _sentence(
        "left_out",
        Part(
            ngettext(
                "%(num)s participant was left out of this analysis",
                "%(num)s participants were left out of this analysis",
                n,
            )
            % {"num": number(n)},
            "#left-out",
        ),
        f": {and_list(reasons, words)}." if reasons else ".",
        sure=(_("Their votes are kept but not counted anywhere in this summary."),),
    )


def _voted_enough(f: Figures, words: Words) -> str:
    ngettext = words.ngettext
    return ngettext(
        "%(num)s person who voted enough", "%(num)s people who voted enough", f.n_clustered
    ) % {"num": number(f.n_clustered)}


def groups(f: Figures, words: Words = ENGLISH) -> Iterable[Sentence]:
    _, ngettext = words.gettext, words.ngettext
    if not f.ok:
        yield _sentence(
            "groups",
            _("There is not enough data yet to find opinion groups: "),
            Part(f.why_no_groups or why_not_enough(f.message, words), "#opinion-groups"),
            in_doubt=True,
        )
        return
    if f.no_clear_groups and f.groups_test is not None:
        test = f.groups_test
        p = f"p = {test.p_value:.3f}" if test.p_value is not None else _("not tested")
        yield _sentence(
            "groups",
            _("There are no clear opinion groups: people's votes split no better than "),
            Part(_("the same votes shuffled at random"), "#opinion-groups"),
            ".",
            sure=(
                ngettext(
                    "The groups of the %(people)s who voted enough were compared with the groups "
                    "found in the same answers shuffled at random (%(p)s over %(num)s shuffle), "
                    "so this summary makes no claim about groups.",
                    "The groups of the %(people)s who voted enough were compared with the groups "
                    "found in the same answers shuffled at random (%(p)s over %(num)s shuffles), "
                    "so this summary makes no claim about groups.",
                    test.permutations,
                )
                % {
                    "people": people(f.n_clustered, words),
                    "p": p,
                    "num": number(test.permutations),
                },
            ),
            in_doubt=True,
        )
        return
    if f.k <= 1:
        yield _sentence(
            "groups",
            _("The votes do not split people into distinct opinion groups: the "),
            Part(_voted_enough(f, words), "#opinion-groups"),
            _(" form one group."),
            in_doubt=True,
        )
        return
    sizes = [f"{g.name} ({people(g.size, words)})" for g in f.groups]
    smallest = min(g.size for g in f.groups)
    yield _sentence(
        "groups",
        _("By how they voted, the "),
        Part(_voted_enough(f, words), "#opinion-groups"),
        ngettext(
            " fall into %(num)s opinion group: %(groups)s.",
            " fall into %(num)s opinion groups: %(groups)s.",
            f.k,
        )
        % {"num": number(f.k), "groups": and_list(sizes, words)},
        (
            _(
                " The groups are small (the smallest has %(people)s), so what is said about them "
                "is uncertain."
            )
            % {"people": people(smallest, words)}
            if smallest < SMALL_GROUP
            else ""
        ),
        sure=(
            f.groups_test.message
            if f.groups_test is not None and f.groups_test.decision == "groups"
            else _(
                "The groups were not compared with groups found in shuffled answers: this "
                "analysis was made before that test."
            ),
        ),
    )


def _is_supported_consensus(c: ConsensusFigure, alpha: float) -> bool:
    """A significant test and a majority in every group's counts."""
    return (
        c.q_value <= alpha
        and bool(c.per_group)
        and all(t.seen and 2 * t.count > t.seen for t in c.per_group)
    )


def _who_answered(c: ConsensusFigure, f: Figures) -> str:
    """Whose answer the sentence claims, by the thresholds of the module notes: "every-group",
    "placed", "almost-everyone" or "most"."""
    overall = c.overall
    if 2 * overall.count <= overall.seen:
        return "every-group" if f.k > 1 else "placed"
    every_group = all((t.percent or 0) >= ALMOST_EVERY_GROUP for t in c.per_group)
    if (overall.percent or 0) >= ALMOST_EVERYONE and every_group:
        return "almost-everyone"
    return "most"


def _consensus_opening(who: str, agreed: bool, words: Words) -> str:
    _ = words.gettext
    if agreed:
        return {
            "every-group": _("Most people in every opinion group agreed with "),
            "placed": _("Most people placed in a group agreed with "),
            "almost-everyone": _("Almost everyone who answered agreed with "),
            "most": _("Most people who answered agreed with "),
        }[who]
    return {
        "every-group": _("Most people in every opinion group disagreed with "),
        "placed": _("Most people placed in a group disagreed with "),
        "almost-everyone": _("Almost everyone who answered disagreed with "),
        "most": _("Most people who answered disagreed with "),
    }[who]


def _consensus_sentence(
    rule: str, c: ConsensusFigure, f: Figures, more: int, words: Words
) -> Sentence:
    _, ngettext = words.gettext, words.ngettext
    agreed = c.direction == AGREE
    who = _who_answered(c, f)
    shown = c.overall if who in ("almost-everyone", "most") else c.per_group[0]
    sure = []
    if f.k > 1:
        per_group = [
            f"{group_name(i, words)} {share(t, words=words)}" for i, t in enumerate(c.per_group)
        ]
        listed = {"groups": and_list(per_group, words)}
        if agreed:
            sure.append(_("A majority of every opinion group agreed: %(groups)s.") % listed)
        else:
            sure.append(_("A majority of every opinion group disagreed: %(groups)s.") % listed)
    claim = (
        _("“a majority of every group agreed”")
        if agreed
        else _("“a majority of every group disagreed”")
    )
    sure.append(_tested(c.q_value, f.alpha, claim, words))
    if more:
        sure.append(
            ngettext(
                "%(num)s more statement passed the same test: see “What people agree on”.",
                "%(num)s more statements passed the same test: see “What people agree on”.",
                more,
            )
            % {"num": number(more)}
        )
    sure.append(self_selected(words))
    return _sentence(
        rule,
        _consensus_opening(who, agreed, words),
        quote(c.statement),
        f": {share(shown, 'people', words)}.",
        sure=sure,
    )


def agreement(f: Figures, words: Words = ENGLISH) -> Iterable[Sentence]:
    if not f.ok:
        return
    supported = [c for c in f.consensus_agree if _is_supported_consensus(c, f.alpha)]
    if supported:
        yield _consensus_sentence("agreement", supported[0], f, len(supported) - 1, words)


def rejection(f: Figures, words: Words = ENGLISH) -> Iterable[Sentence]:
    if not f.ok:
        return
    supported = [c for c in f.consensus_disagree if _is_supported_consensus(c, f.alpha)]
    if supported:
        yield _consensus_sentence("rejection", supported[0], f, len(supported) - 1, words)


def across_viewpoints(f: Figures, words: Words = ENGLISH) -> Iterable[Sentence]:
    """Without opinion groups to speak of, common ground is agreement across viewpoints, and only
    a statement whose whole interval shows more agreement than disagreement is named."""
    _ = words.gettext
    if f.has_groups or f.bridging is None or not f.bridging.top:
        return
    best = f.bridging.top[0]
    if not best.clearly_positive or best.low is None or best.high is None:
        return
    yield _sentence(
        "across_viewpoints",
        _("Whatever their views, people agreed most with "),
        quote(best.statement),
        _(": %(share)s who answered agreed.")
        % {"share": share(best.statement.agreed, "people", words)},
        sure=(
            _(
                "Its score of agreement across viewpoints is %(score)s on a scale from -1 to +1, "
                "with a %(interval)s interval from %(low)s to %(high)s: the whole interval is "
                "above zero."
            )
            % {
                "score": f"{best.score:+.2f}",
                "interval": f"{f.bridging.interval:.0%}",
                "low": f"{best.low:+.2f}",
                "high": f"{best.high:+.2f}",
            },
            self_selected(words),
        ),
    )


def division(f: Figures, words: Words = ENGLISH) -> Iterable[Sentence]:
    _ = words.gettext
    if not f.ok or f.k < 2:
        return
    for d in f.divisive:
        agreeing, disagreeing = d.agreeing, d.disagreeing
        if d.q_value > f.alpha or d.most_agreeing == d.most_disagreeing:
            continue
        if not agreeing.seen or not disagreeing.seen:
            continue
        yield _sentence(
            "division",
            _("The opinion groups split most over "),
            quote(d.statement),
            _(": in %(group)s, %(agreeing)s agreed, but in %(other)s %(disagreeing)s disagreed.")
            % {
                "group": group_name(d.most_agreeing, words),
                "agreeing": share(agreeing, "people", words),
                "other": group_name(d.most_disagreeing, words),
                "disagreeing": share(disagreeing, "people", words),
            },
            sure=(
                _tested(d.q_value, f.alpha, _("“the groups answered differently”"), words),
                self_selected(words),
            ),
        )
        return


def group_views(f: Figures, words: Words = ENGLISH) -> Iterable[Sentence]:
    _ = words.gettext
    if not f.ok or f.k < 2:
        return
    quoted: set[int] = set()
    for g in f.groups:
        found = [r for r in g.distinctive if r.q_value <= f.alpha and r.group.seen and r.rest.seen]
        if not found:
            continue
        # Each group by what sets it apart most, another statement than the groups before where
        # it has one: two groups split on one statement say little new about the second.
        r = next((r for r in found if r.statement.id not in quoted), found[0])
        quoted.add(r.statement.id)
        values = {"people": people(g.size, words)}
        shares = {"group": share(r.group, words=words), "rest": share(r.rest, words=words)}
        if r.direction == AGREE:
            more_likely = _(" (%(people)s) was more likely to agree with ") % values
            said = _(": %(group)s agreed, against %(rest)s in the other groups.") % shares
        else:
            more_likely = _(" (%(people)s) was more likely to disagree with ") % values
            said = _(": %(group)s disagreed, against %(rest)s in the other groups.") % shares
        yield _sentence(
            "group-view",
            Part(f"{g.name}", f"#{g.anchor}"),
            more_likely,
            quote(r.statement),
            said,
            sure=(
                _tested(
                    r.q_value, f.alpha, _("“%(group)s differs here”") % {"group": g.name}, words
                ),
                self_selected(words),
            ),
            key=g.anchor,
        )


def staff_and_citizens(f: Figures, words: Words = ENGLISH) -> Iterable[Sentence]:
    _, ngettext = words.gettext, words.ngettext
    roles = f.roles
    if roles is None:
        return
    if not roles.comparable:
        counts = {"staff": number(roles.n_staff), "num": number(roles.n_citizens)}
        if roles.n_staff and roles.n_citizens:
            said = ngettext(
                "%(staff)s verified staff and %(num)s citizen voted, on no statement in common",
                "%(staff)s verified staff and %(num)s citizens voted, on no statement in common",
                roles.n_citizens,
            )
        else:
            said = ngettext(
                "%(staff)s verified staff and %(num)s citizen voted",
                "%(staff)s verified staff and %(num)s citizens voted",
                roles.n_citizens,
            )
        yield _sentence(
            "roles",
            Part(_("Staff and citizens cannot be compared"), "#staff-and-citizens"),
            _(" in this analysis: %(said)s.") % {"said": said % counts},
        )
        return
    differ = [r for r in roles.differ_most if r.q_value <= f.alpha]
    both = [
        r
        for r in roles.both_agree
        if r.both_agree_q <= f.alpha
        and 2 * r.staff.count > r.staff.seen
        and 2 * r.citizens.count > r.citizens.seen
    ]
    if differ:
        r = differ[0]
        yield _sentence(
            "roles-differ",
            Part(_("Staff and citizens differ most"), "#staff-and-citizens"),
            _(" on "),
            quote(r.statement),
            _(": %(staff)s staff agreed, against %(citizens)s citizens.")
            % {"staff": share(r.staff, words=words), "citizens": share(r.citizens, words=words)},
            sure=(
                _tested(r.q_value, f.alpha, _("“staff and citizens differ here”"), words),
                self_selected(words),
            ),
        )
    else:
        yield _sentence(
            "roles-differ",
            _("Staff and citizens answered alike: on none of the "),
            Part(_statements(roles.n_compared, words), "#staff-and-citizens"),
            _(" both voted on do their answers clearly differ."),
            sure=(
                _(
                    "On each statement both answered, a statistical test compared their shares of "
                    "agreement; none differs at a false-discovery rate of %(alpha)s."
                )
                % {"alpha": f"{f.alpha:.0%}"},
            ),
        )
    if both:
        r = both[0]
        yield _sentence(
            "roles-agree",
            _("Staff and citizens both agreed with "),
            quote(r.statement),
            _(": %(staff)s staff and %(citizens)s citizens.")
            % {"staff": share(r.staff, words=words), "citizens": share(r.citizens, words=words)},
            sure=(
                _tested(r.both_agree_q, f.alpha, _("“a majority of both agreed”"), words),
                self_selected(words),
            ),
        )


def topics(f: Figures, words: Words = ENGLISH) -> Iterable[Sentence]:
    _, ngettext = words.gettext, words.ngettext
    t = f.topics
    if not t.available or not t.named:
        return
    named = t.named
    largest = max(named, key=lambda x: (x.size, -x.id))
    other = next((x for x in t.topics if x.is_other), None)
    fall_into = ngettext(
        "The %(num)s statement falls into ", "The %(num)s statements fall into ", t.n_statements
    ) % {"num": number(t.n_statements)}
    n_topics = ngettext("%(num)s topic", "%(num)s topics", len(named)) % {"num": number(len(named))}
    other_text = (
        ngettext(", and %(num)s fits none of them", ", and %(num)s fit none of them", other.size)
        % {"num": number(other.size)}
        if other and other.size
        else ""
    )
    yield _sentence(
        "topics",
        fall_into,
        Part(n_topics, "#topics"),
        other_text + _("; the largest is "),
        Part(f"“{largest.label}”", f"#{largest.anchor}"),
        f" ({_statements(largest.size, words)}).",
        sure=(_("Topics are counts of statements: no statistical test is made on them."),),
    )
    voted = [x for x in named if x.everyone and x.everyone.seen]
    if len(voted) >= 2:
        most = max(voted, key=lambda x: (x.everyone.agreed.rate, -x.id))
        least = min(voted, key=lambda x: (x.everyone.agreed.rate, x.id))
        if most.id != least.id:
            yield _sentence(
                "topic-agreement",
                _("Statements on "),
                Part(f"“{most.label}”", f"#{most.anchor}"),
                _(" drew the most agree votes (%(share)s), those on ")
                % {"share": share(most.everyone.agreed, "votes", words)},
                Part(f"“{least.label}”", f"#{least.anchor}"),
                _(" the fewest (%(share)s).")
                % {"share": share(least.everyone.agreed, words=words)},
                sure=(
                    _(
                        "These are shares of votes, not of people, and no test is made on them: "
                        "the same people vote on many statements."
                    ),
                    self_selected(words),
                ),
            )


RULES = (
    participation,
    left_out,
    groups,
    agreement,
    rejection,
    across_viewpoints,
    division,
    group_views,
    staff_and_citizens,
    topics,
)


def summarise(figures: Figures, words: Words = ENGLISH) -> tuple[Sentence, ...]:
    """Every finding's sentence, rule by rule (see the module notes), in the reader's language
    (``words``: the translations a service hands in)."""
    return tuple(sentence for rule in RULES for sentence in rule(figures, words))


def top_summary(findings: tuple[Sentence, ...]) -> tuple[Sentence, ...]:
    """The few findings a reader needs first, at most TOP_SENTENCES sentences: what people agree
    on, where they split, then who took part (always, with the consultation's size)."""
    who = [s for s in findings if s.rule in ("participation", "small", "left_out")]
    room = TOP_SENTENCES - sum(s.n_sentences for s in who)
    chosen: list[Sentence] = []
    for rule in TOP_RULES:
        for s in findings:
            if s.rule != rule or s in chosen:
                continue
            if rule == "groups" and not s.in_doubt:
                continue
            if s.n_sentences <= room:
                chosen.append(s)
                room -= s.n_sentences
            break
    return (*chosen, *who)
