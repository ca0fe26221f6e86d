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
from deliberate.wording import counted

QUOTE_MAX = 140
SMALL_CONSULTATION = 50  # fewer people taking part: the summary says the consultation is small
SMALL_GROUP = 20  # a smaller opinion group: the summary says the groups are small
# "Almost everyone who answered": at least this share of everyone who voted on the statement,
# and at least ALMOST_EVERY_GROUP of every opinion group (on top of the significant stored test).
ALMOST_EVERYONE = 90
ALMOST_EVERY_GROUP = 80
TOP_SENTENCES = 5  # the top summary's length, in sentences
SELF_SELECTED = (
    "The people who took part chose to; they are not a sample of the population, so every share "
    "is a share of them."
)
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
TOP_RULES = ("agreement", "division", "groups", "rejection", "across_viewpoints", "roles-differ")
# Said about groups in the top summary only when the groups themselves are in doubt; then it comes
# before the rest, as it says how to read every other finding.
_GROUPS_IN_DOUBT = ("There are no clear", "There is not enough", "The votes do not split")


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


def _sentence(rule: str, *parts: str | Part, sure: Iterable[str] = (), key: str = "") -> Sentence:
    return Sentence(
        rule, tuple(p if isinstance(p, Part) else Part(p) for p in parts if p), tuple(sure), key
    )


def _shortened(text: str, limit: int = QUOTE_MAX) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def quote(row: StatementRow) -> Part:
    """The statement in quotation marks (shortened), linked to its counts on the page."""
    return Part(f"“{_shortened(row.text)}”", f"#{row.anchor}", quoted=True)


def share(tally: Tally, noun: str = "") -> str:
    """ "82 of 88 (93%)", or with a noun "82 of 88 people (93%)"."""
    of = f"{tally.seen:,} {noun}".rstrip()
    return f"{tally.count:,} of {of} ({tally.percent}%)"


def _people(n: int) -> str:
    return counted(n, "person", "people")


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _tested(q: float, alpha: float, claim: str) -> str:
    """The test behind a claim, for "How sure are we?"."""
    return (
        f"A statistical test supports {claim} at a false-discovery rate of {alpha:.0%} "
        f"(q {_q(q)}): at most {alpha:.0%} of the claims of this kind on this page are expected "
        "to be chance findings."
    )


def _q(q: float) -> str:
    return "< 0.001" if q < 0.001 else f"= {q:.3f}"


def group_description(group: GroupFigure, alpha: float) -> str | None:
    """What the group's members typically agree with, from its strongest significant
    representative statement (agreeing first, else disagreeing): "People who tended to agree
    with “...”". None when no representative statement of the group passed its test."""
    found = [r for r in group.distinctive if r.q_value <= alpha]
    top = next((r for r in found if r.direction == AGREE), None) or next(iter(found), None)
    if top is None:
        return None
    verb = "agree" if top.direction == AGREE else "disagree"
    words = _shortened(top.statement.text, 100).rstrip(".")
    return f"People who tended to {verb} with “{words}”"


def participation(f: Figures) -> Iterable[Sentence]:
    who = []
    if f.n_staff:
        who.append(f"{f.n_staff:,} verified staff")
    if f.n_citizens and f.n_staff:
        who.append(counted(f.n_citizens, "citizen"))
    yield _sentence(
        "participation",
        Part(f"{_people(f.n_voters)} took part", "#key-figures"),
        f" ({_and(who)})" if who else "",
        f", casting {counted(f.n_votes, 'vote')} on ",
        Part(counted(f.n_statements, "statement"), "#statements"),
        ". They chose to take part and are not a sample of the population.",
        sure=(
            "Every share in this summary is a share of the people who took part, or of those of "
            "them who answered a statement.",
        ),
    )
    if 0 < f.n_voters < SMALL_CONSULTATION:
        yield _sentence(
            "small",
            Part(f"This is a small consultation ({_people(f.n_voters)})", "#key-figures"),
            ", so its shares are uncertain.",
            sure=(
                "Shares of fewer than 30 people are shown with their 95% interval: the range the "
                "share would likely fall in if as many people were asked again.",
            ),
        )


def left_out(f: Figures) -> Iterable[Sentence]:
    n = f.exclusions.n_participants
    if not n:
        return
    reasons = [f"{count:,} {words}" for words, count in f.exclusions.reasons]
    yield _sentence(
        "left_out",
        Part(
            f"{n:,} {'participant was' if n == 1 else 'participants were'} left out of this "
            "analysis",
            "#left-out",
        ),
        f": {_and(reasons)}." if reasons else ".",
        sure=("Their votes are kept but not counted anywhere in this summary.",),
    )


def groups(f: Figures) -> Iterable[Sentence]:
    if not f.ok:
        yield _sentence(
            "groups",
            "There is not enough data yet to find opinion groups: ",
            Part(f.message.rstrip(".") + ".", "#opinion-groups"),
        )
        return
    if f.no_clear_groups and f.groups_test is not None:
        test = f.groups_test
        p = f"p = {test.p_value:.3f}" if test.p_value is not None else "not tested"
        yield _sentence(
            "groups",
            "There are no clear opinion groups: people's votes split no better than ",
            Part("the same votes shuffled at random", "#opinion-groups"),
            ".",
            sure=(
                f"The groups of the {_people(f.n_clustered)} who voted enough were compared with "
                f"the groups found in the same answers shuffled at random ({p} over "
                f"{test.permutations} shuffles), so this summary makes no claim about groups.",
            ),
        )
        return
    if f.k <= 1:
        yield _sentence(
            "groups",
            "The votes do not split people into distinct opinion groups: the ",
            Part(f"{_people(f.n_clustered)} who voted enough", "#opinion-groups"),
            " form one group.",
        )
        return
    sizes = [f"{g.name} ({_people(g.size)})" for g in f.groups]
    smallest = min(g.size for g in f.groups)
    yield _sentence(
        "groups",
        "By how they voted, the ",
        Part(f"{_people(f.n_clustered)} who voted enough", "#opinion-groups"),
        f" fall into {f.k} opinion groups: {_and(sizes)}.",
        (
            f" The groups are small (the smallest has {_people(smallest)}), so what is said "
            "about them is uncertain."
            if smallest < SMALL_GROUP
            else ""
        ),
        sure=(
            f.groups_test.message
            if f.groups_test is not None and f.groups_test.decision == "groups"
            else "The groups were not compared with groups found in shuffled answers: this "
            "analysis was made before that test.",
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
    """Whose answer the sentence claims, by the thresholds of the module notes."""
    overall = c.overall
    if 2 * overall.count <= overall.seen:
        return "Most people in every opinion group" if f.k > 1 else "Most people placed in a group"
    every_group = all((t.percent or 0) >= ALMOST_EVERY_GROUP for t in c.per_group)
    if (overall.percent or 0) >= ALMOST_EVERYONE and every_group:
        return "Almost everyone who answered"
    return "Most people who answered"


def _consensus_sentence(rule: str, c: ConsensusFigure, f: Figures, more: int) -> Sentence:
    verb = "agreed" if c.direction == AGREE else "disagreed"
    who = _who_answered(c, f)
    shown = c.overall if who.endswith("answered") else c.per_group[0]
    sure = []
    if f.k > 1:
        per_group = [f"{group_name(i)} {share(t)}" for i, t in enumerate(c.per_group)]
        sure.append(f"A majority of every opinion group {verb}: {_and(per_group)}.")
    sure.append(_tested(c.q_value, f.alpha, f"“a majority of every group {verb}”"))
    if more:
        sure.append(
            f"{counted(more, 'more statement')} passed the same test: see “What people agree on”."
        )
    sure.append(SELF_SELECTED)
    return _sentence(
        rule,
        f"{who} {verb} with ",
        quote(c.statement),
        f": {share(shown, 'people')}.",
        sure=sure,
    )


def agreement(f: Figures) -> Iterable[Sentence]:
    if not f.ok:
        return
    supported = [c for c in f.consensus_agree if _is_supported_consensus(c, f.alpha)]
    if supported:
        yield _consensus_sentence("agreement", supported[0], f, len(supported) - 1)


def rejection(f: Figures) -> Iterable[Sentence]:
    if not f.ok:
        return
    supported = [c for c in f.consensus_disagree if _is_supported_consensus(c, f.alpha)]
    if supported:
        yield _consensus_sentence("rejection", supported[0], f, len(supported) - 1)


def across_viewpoints(f: Figures) -> Iterable[Sentence]:
    """Without opinion groups to speak of, common ground is agreement across viewpoints, and only
    a statement whose whole interval shows more agreement than disagreement is named."""
    if f.has_groups or f.bridging is None or not f.bridging.top:
        return
    best = f.bridging.top[0]
    if not best.clearly_positive or best.low is None or best.high is None:
        return
    yield _sentence(
        "across_viewpoints",
        "Whatever their views, people agreed most with ",
        quote(best.statement),
        f": {share(best.statement.agreed, 'people')} who answered agreed.",
        sure=(
            f"Its score of agreement across viewpoints is {best.score:+.2f} on a scale from -1 "
            f"to +1, with a {f.bridging.interval:.0%} interval from {best.low:+.2f} to "
            f"{best.high:+.2f}: the whole interval is above zero.",
            SELF_SELECTED,
        ),
    )


def division(f: Figures) -> Iterable[Sentence]:
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
            "The opinion groups split most over ",
            quote(d.statement),
            f": in {group_name(d.most_agreeing)}, {share(agreeing, 'people')} agreed, but in "
            f"{group_name(d.most_disagreeing)} {share(disagreeing, 'people')} disagreed.",
            sure=(_tested(d.q_value, f.alpha, "“the groups answered differently”"), SELF_SELECTED),
        )
        return


def group_views(f: Figures) -> Iterable[Sentence]:
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
        verb = "agree" if r.direction == AGREE else "disagree"
        did = "agreed" if r.direction == AGREE else "disagreed"
        yield _sentence(
            "group-view",
            Part(f"{g.name}", f"#{g.anchor}"),
            f" ({_people(g.size)}) was more likely to {verb} with ",
            quote(r.statement),
            f": {share(r.group)} {did}, against {share(r.rest)} in the other groups.",
            sure=(_tested(r.q_value, f.alpha, f"“{g.name} differs here”"), SELF_SELECTED),
            key=g.anchor,
        )


def staff_and_citizens(f: Figures) -> Iterable[Sentence]:
    roles = f.roles
    if roles is None:
        return
    if not roles.comparable:
        n_citizens = counted(roles.n_citizens, "citizen")
        said = f"{roles.n_staff:,} verified staff and {n_citizens} voted"
        if roles.n_staff and roles.n_citizens:
            said += ", on no statement in common"
        yield _sentence(
            "roles",
            Part("Staff and citizens", "#staff-and-citizens"),
            f" cannot be compared in this analysis: {said}.",
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
            Part("Staff and citizens", "#staff-and-citizens"),
            " differ most on ",
            quote(r.statement),
            f": {share(r.staff)} staff agreed, against {share(r.citizens)} citizens.",
            sure=(_tested(r.q_value, f.alpha, "“staff and citizens differ here”"), SELF_SELECTED),
        )
    else:
        yield _sentence(
            "roles-differ",
            "Staff and citizens answered alike: on none of the ",
            Part(counted(roles.n_compared, "statement"), "#staff-and-citizens"),
            " both voted on do their answers clearly differ.",
            sure=(
                "On each statement both answered, a statistical test compared their shares of "
                f"agreement; none differs at a false-discovery rate of {f.alpha:.0%}.",
            ),
        )
    if both:
        r = both[0]
        yield _sentence(
            "roles-agree",
            "Staff and citizens both agreed with ",
            quote(r.statement),
            f": {share(r.staff)} staff and {share(r.citizens)} citizens.",
            sure=(
                _tested(r.both_agree_q, f.alpha, "“a majority of both agreed”"),
                SELF_SELECTED,
            ),
        )


def topics(f: Figures) -> Iterable[Sentence]:
    t = f.topics
    if not t.available or not t.named:
        return
    named = t.named
    largest = max(named, key=lambda x: (x.size, -x.id))
    other = next((x for x in t.topics if x.is_other), None)
    other_text = f", and {other.size:,} fit none of them" if other and other.size else ""
    yield _sentence(
        "topics",
        f"The {counted(t.n_statements, 'statement')} fall into ",
        Part(counted(len(named), "topic"), "#topics"),
        f"{other_text}; the largest is ",
        Part(f"“{largest.label}”", f"#{largest.anchor}"),
        f" ({counted(largest.size, 'statement')}).",
        sure=("Topics are counts of statements: no statistical test is made on them.",),
    )
    voted = [x for x in named if x.everyone and x.everyone.seen]
    if len(voted) >= 2:
        most = max(voted, key=lambda x: (x.everyone.agreed.rate, -x.id))
        least = min(voted, key=lambda x: (x.everyone.agreed.rate, x.id))
        if most.id != least.id:
            yield _sentence(
                "topic-agreement",
                "Statements on ",
                Part(f"“{most.label}”", f"#{most.anchor}"),
                f" drew the most agree votes ({share(most.everyone.agreed)} votes), those on ",
                Part(f"“{least.label}”", f"#{least.anchor}"),
                f" the fewest ({share(least.everyone.agreed)}).",
                sure=(
                    "These are shares of votes, not of people, and no test is made on them: the "
                    "same people vote on many statements.",
                    SELF_SELECTED,
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


def summarise(figures: Figures) -> tuple[Sentence, ...]:
    """Every finding's sentence, rule by rule (see the module notes)."""
    return tuple(sentence for rule in RULES for sentence in rule(figures))


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
            if rule == "groups" and not s.text.startswith(_GROUPS_IN_DOUBT):
                continue
            if s.n_sentences <= room:
                chosen.append(s)
                room -= s.n_sentences
            break
    return (*chosen, *who)
