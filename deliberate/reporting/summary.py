"""The plain-English summary at the top of a report, written by rules from the stored numbers.

No language model: each rule below turns figures into one sentence, and each sentence states its
figures ("82 of 88, 93%") and links to the statements and counts behind them. A rule says nothing
the statistics do not support:

- "most people" / "a majority of every group" only for a statement whose stored test is
  significant (its Benjamini-Hochberg q-value within the run's false-discovery rate, alpha) and
  whose counts show the majority (more than half of those who voted on it, in every group);
- a group "stands out", people "divide", staff and citizens "differ" or "both agree" only with a
  significant stored test for that claim;
- counts that no test was made on (participation, topic sizes, agreement within a topic) are
  stated as counts, never as findings.

Rules, in the order the sentences appear:

1. participation: who took part (staff and citizens apart), votes, statements, and that they chose
   to take part (not a sample of the population). Always. A small consultation says it is small.
1b. left out: how many participants the team left out of the analysis, and why, counted by reason
   ("3 participants were left out of this analysis: 3 joined in a burst from one address"). Only
   when some were.
2. groups: how many opinion groups, of what sizes (small ones said to be small); or that there is
   not enough data yet.
3. agreement: the strongest statement a majority of every group agreed with.
4. rejection: the strongest statement a majority of every group disagreed with.
4b. across viewpoints: with no opinion groups to speak of, the statement most agreed with across
   viewpoints (bridging), only when its whole interval is above zero.
5. division: the statement the groups split on most, with the agreeing and disagreeing shares.
6. group views: per group, the statement that sets it apart most from the other groups.
7. staff and citizens: that they cannot be compared; or where they differ most and what both
   agree on; or that no statement shows a significant difference.
8. topics: how many topics, the largest; the topics drawing the most and the fewest agree votes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from deliberate.reporting.figures import (
    AGREE,
    ConsensusFigure,
    Figures,
    StatementRow,
    Tally,
    group_name,
)

QUOTE_MAX = 140
SMALL_CONSULTATION = 50  # fewer people taking part: the summary says the consultation is small
SMALL_GROUP = 20  # a smaller opinion group: the summary says the groups are small


@dataclass(frozen=True)
class Part:
    text: str
    href: str | None = None


@dataclass(frozen=True)
class Sentence:
    rule: str
    parts: tuple[Part, ...]

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.parts)

    @property
    def links(self) -> tuple[str, ...]:
        return tuple(p.href for p in self.parts if p.href)


def _sentence(rule: str, *parts: str | Part) -> Sentence:
    return Sentence(rule, tuple(p if isinstance(p, Part) else Part(p) for p in parts))


def quote(row: StatementRow) -> Part:
    """The statement in quotation marks (shortened), linked to its counts on the page."""
    text = " ".join(row.text.split())
    if len(text) > QUOTE_MAX:
        text = text[: QUOTE_MAX - 1].rstrip() + "…"
    return Part(f"“{text}”", f"#{row.anchor}")


def share(tally: Tally) -> str:
    return f"{tally.count} of {tally.seen} ({tally.percent}%)"


def _people(n: int) -> str:
    return f"{n:,} {'person' if n == 1 else 'people'}"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def participation(f: Figures) -> Iterable[Sentence]:
    who = []
    if f.n_staff:
        who.append(f"{f.n_staff:,} verified staff")
    if f.n_citizens:
        who.append(f"{f.n_citizens:,} {'citizen' if f.n_citizens == 1 else 'citizens'}")
    yield _sentence(
        "participation",
        Part(f"{_people(f.n_voters)} took part", "#key-figures"),
        f" ({_and(who)})" if who else "",
        f", casting {f.n_votes:,} votes on ",
        Part(f"{f.n_statements:,} statements", "#statements"),
        ". They chose to take part and are not a sample of the population: every share in this "
        "summary is a share of these participants.",
    )
    if 0 < f.n_voters < SMALL_CONSULTATION:
        yield _sentence(
            "small",
            f"This is a small consultation ({_people(f.n_voters)}): its shares are uncertain, "
            "and shares of fewer than 30 people are shown with their 95% interval.",
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
        " Their votes are kept but not counted anywhere in this summary.",
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
            "There are no clear opinion groups: the votes of the ",
            Part(f"{f.n_clustered:,} people who voted enough", "#opinion-groups"),
            " split no better than the same answers shuffled at random would "
            f"({p} over {test.permutations} shuffles), so this summary makes no claim about "
            "groups.",
        )
        return
    if f.k <= 1:
        yield _sentence(
            "groups",
            "The votes do not split people into distinct opinion groups: the ",
            Part(f"{f.n_clustered:,} people who voted enough", "#opinion-groups"),
            " form one group.",
        )
        return
    sizes = [f"{g.name} ({g.size:,})" for g in f.groups]
    smallest = min(g.size for g in f.groups)
    yield _sentence(
        "groups",
        "Voting patterns split the ",
        Part(f"{f.n_clustered:,} people who voted enough", "#opinion-groups"),
        f" into {f.k} opinion groups: {_and(sizes)}.",
        (
            f" The groups are small (the smallest has {_people(smallest)}), so what is said "
            "about them is uncertain."
            if smallest < SMALL_GROUP
            else ""
        ),
    )


def _is_supported_consensus(c: ConsensusFigure, alpha: float) -> bool:
    """A significant test and a majority in every group's counts."""
    return (
        c.q_value <= alpha
        and bool(c.per_group)
        and all(t.seen and 2 * t.count > t.seen for t in c.per_group)
    )


def _consensus_sentence(rule: str, c: ConsensusFigure, f: Figures, more: int) -> Sentence:
    verb = "agreed" if c.direction == AGREE else "disagreed"
    overall = c.overall
    if f.k <= 1 and 2 * overall.count > overall.seen:
        head = [
            f"Most people who voted on it {verb} with ",
            quote(c.statement),
            f": {share(overall)}",
        ]
    elif f.k <= 1:
        head = [
            f"A majority of the {f.n_clustered:,} people placed in a group {verb} with ",
            quote(c.statement),
            f": {share(c.per_group[0])}",
        ]
    else:
        per_group = [f"{group_name(i)} {share(t)}" for i, t in enumerate(c.per_group)]
        head = [
            f"A majority of every opinion group {verb} with ",
            quote(c.statement),
            f": {_and(per_group)}",
        ]
        if 2 * overall.count > overall.seen:
            head.append(f"; {share(overall)} of everyone who voted on it")
    head.append(f". {_significance(c.q_value, f.alpha)}")
    if more:
        word = "statement" if more == 1 else "statements"
        head += [f"; {more} more {word} are listed under ", Part("common ground", "#common-ground")]
    return _sentence(rule, *head, ".")


def _significance(q: float, alpha: float) -> str:
    """The test behind a claim, as the second half of its sentence."""
    return f"Significant at a false-discovery rate of {alpha:.0%} (q {_q(q)})"


def _q(q: float) -> str:
    return "< 0.001" if q < 0.001 else f"= {q:.3f}"


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
        "Agreed with across viewpoints most: ",
        quote(best.statement),
        f", score {best.score:+.2f} on a scale from -1 to +1 ({f.bridging.interval:.0%} interval "
        f"{best.low:+.2f} to {best.high:+.2f}); {share(best.statement.agreed)} of those who voted "
        "on it agreed. See ",
        Part("agreement across viewpoints", "#across-viewpoints"),
        ".",
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
            "The opinion groups divide most over ",
            quote(d.statement),
            f": in {group_name(d.most_agreeing)} {share(agreeing)} agreed, while in "
            f"{group_name(d.most_disagreeing)} {share(disagreeing)} disagreed. "
            f"{_significance(d.q_value, f.alpha)}.",
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
        verb = "agreeing" if r.direction == AGREE else "disagreeing"
        did = "agreed" if r.direction == AGREE else "disagreed"
        yield _sentence(
            "group-view",
            Part(f"{g.name}", f"#{g.anchor}"),
            f" ({_people(g.size)}) stands out by {verb} with ",
            quote(r.statement),
            f": {share(r.group)} {did}, against {share(r.rest)} in the other groups. "
            f"{_significance(r.q_value, f.alpha)}.",
        )


def staff_and_citizens(f: Figures) -> Iterable[Sentence]:
    roles = f.roles
    if roles is None:
        return
    if not roles.comparable:
        counted = f"{roles.n_staff:,} verified staff and {roles.n_citizens:,} citizens voted"
        if roles.n_staff and roles.n_citizens:
            counted += ", on no statement in common"
        yield _sentence(
            "roles",
            Part("Staff and citizens", "#staff-and-citizens"),
            f" cannot be compared in this analysis: {counted}.",
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
            f": {share(r.staff)} staff agreed, against {share(r.citizens)} citizens. "
            f"{_significance(r.q_value, f.alpha)}.",
        )
    else:
        yield _sentence(
            "roles-differ",
            "On none of the ",
            Part(f"{roles.n_compared} statements", "#staff-and-citizens"),
            " voted on by both staff and citizens do their answers differ significantly "
            f"(at a false-discovery rate of {f.alpha:.0%}).",
        )
    if both:
        r = both[0]
        yield _sentence(
            "roles-agree",
            "Staff and citizens both agreed with ",
            quote(r.statement),
            f": {share(r.staff)} staff and {share(r.citizens)} citizens. "
            f"{_significance(r.both_agree_q, f.alpha)}.",
        )


def topics(f: Figures) -> Iterable[Sentence]:
    t = f.topics
    if not t.available or not t.named:
        return
    named = t.named
    largest = max(named, key=lambda x: (x.size, -x.id))
    other = next((x for x in t.topics if x.is_other), None)
    other_text = f", and {other.size} fit none of them" if other and other.size else ""
    yield _sentence(
        "topics",
        f"The {t.n_statements:,} statements fall into ",
        Part(f"{len(named)} topics", "#topics"),
        f"{other_text}; the largest is ",
        Part(f"“{largest.label}”", f"#{largest.anchor}"),
        f" ({largest.size} statements).",
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
                f" drew the largest share of agree votes ({share(most.everyone.agreed)} votes), "
                "those on ",
                Part(f"“{least.label}”", f"#{least.anchor}"),
                f" the smallest ({share(least.everyone.agreed)}).",
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
    """The summary's sentences, rule by rule (see the module notes)."""
    return tuple(sentence for rule in RULES for sentence in rule(figures))
