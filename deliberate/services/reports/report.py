"""What a report shows about one run: its figures, plain-English summary and charts, built from
the run's stored findings once per process and kept (``cache``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from markupsafe import Markup
from sqlalchemy import select

from deliberate.extensions import db
from deliberate.findings import Findings, ModerationFindings, read_findings
from deliberate.models import (
    AnalysisRun,
    Consultation,
    ModerationMode,
    ModerationStatus,
    RemovalReason,
    Statement,
    StatementOrigin,
)
from deliberate.reporting import charts
from deliberate.reporting import summary as summary_rules
from deliberate.reporting.figures import Figures, StatementSource, build_figures, group_name
from deliberate.reporting.summary import (
    Sentence,
    and_list,
    group_description,
    summarise,
    top_summary,
)
from deliberate.reporting.words import ENGLISH, Words
from deliberate.services.reports.cache import cached_for_run, reader_words
from deliberate.wording import number

DIVISIVE_CHARTED = 3
REMOVED_TEXT = "[Removed by the moderators]"
AWAITING_TEXT = "[Waiting for a moderator]"


@dataclass(frozen=True)
class Report:
    """Everything the report page of one run needs, built from the stored run once."""

    run_id: int
    figures: Figures
    summary: tuple[Sentence, ...]  # every finding, in the order of the rules
    top: tuple[Sentence, ...]  # the top summary: the few findings a reader needs first
    map_svg: Markup
    map_description: str
    divisive_svg: Markup
    divisive_description: str
    topics_svg: Markup
    topics_description: str
    roles_svg: Markup
    roles_description: str
    # What the moderators took out, in sentences ("12 statements were removed: ..."); empty for
    # a run made before removals were counted.
    moderation: tuple[str, ...] = ()
    # Each published opinion group by what its members tended to agree with (group id -> words).
    group_descriptions: Mapping[int, str] = field(default_factory=dict)
    # The thresholds behind the summary's words, as "How the summary is written" states them.
    almost_everyone: ClassVar[int] = summary_rules.ALMOST_EVERYONE
    almost_every_group: ClassVar[int] = summary_rules.ALMOST_EVERY_GROUP
    top_sentences: ClassVar[int] = summary_rules.TOP_SENTENCES

    def findings_in(self, section: str) -> tuple[Sentence, ...]:
        return tuple(s for s in self.summary if s.section == section)

    def group_description(self, group_id: int) -> str | None:
        return self.group_descriptions.get(group_id)


def statement_texts(run: AnalysisRun) -> dict[int, str]:
    """The texts of the statements the run saw, as the public may read them: a comment the
    moderators rejected (or, under pre-moderation, have not yet accepted) is never shown, though
    its votes still count where the analysis counted them."""
    return {sid: text for sid, (text, _) in _public_statements(run).items()}


def _public_statements(run: AnalysisRun) -> dict[int, tuple[str, StatementSource | None]]:
    """Each statement the run saw: its public text, and who wrote it (None for one not shown)."""
    consultation = db.session.get(Consultation, run.consultation_id)
    rows = db.session.execute(
        select(
            Statement.id,
            Statement.text,
            Statement.moderation,
            Statement.origin,
            Statement.redacted_at,
        ).where(
            Statement.consultation_id == run.consultation_id,
            Statement.id <= run.last_statement_id,
        )
    )
    shown = {}
    for sid, text, moderation, origin, redacted_at in rows:
        hidden = _hidden(consultation, moderation)
        source = StatementSource(origin is StatementOrigin.SEED, redacted_at is not None)
        shown[sid] = (public_text(consultation, text, moderation), None if hidden else source)
    return shown


def moderation_sentences(
    found: ModerationFindings | None, words: Words = ENGLISH
) -> tuple[str, ...]:
    """What the moderators took out, as the report says it: counts by reason, nobody named."""
    _, ngettext = words.gettext, words.ngettext
    if found is None:
        return ()
    sentences = []
    if not found.n_removed:
        sentences.append(_("No statements were removed by the moderators."))
    else:
        parts = []
        for value, n in found.by_reason:
            try:
                parts.append(RemovalReason(value).counted(n))
            except ValueError:  # a reason this version does not know
                parts.append(
                    ngettext("%(num)s for a reason not listed", "%(num)s for reasons not listed", n)
                    % {"num": number(n)}
                )
        if found.n_without_reason:
            parts.append(
                ngettext(
                    "%(num)s with no reason recorded",
                    "%(num)s with no reason recorded",
                    found.n_without_reason,
                )
                % {"num": number(found.n_without_reason)}
            )
        sentences.append(
            ngettext(
                "%(num)s statement was removed by the moderators: %(reasons)s.",
                "%(num)s statements were removed by the moderators: %(reasons)s.",
                found.n_removed,
            )
            % {"num": number(found.n_removed), "reasons": and_list(parts, words)}
        )
    if found.n_edited:
        sentences.append(
            ngettext(
                "%(num)s statement was edited by the moderators to take out words that broke "
                "the policy.",
                "%(num)s statements were edited by the moderators to take out words that broke "
                "the policy.",
                found.n_edited,
            )
            % {"num": number(found.n_edited)}
        )
    return tuple(sentences)


def _hidden(consultation: Consultation, moderation: ModerationStatus) -> bool:
    return moderation is ModerationStatus.REJECTED or (
        moderation is ModerationStatus.PENDING
        and consultation.moderation_mode is ModerationMode.PRE
    )


def public_text(consultation: Consultation, text: str, moderation: ModerationStatus) -> str:
    if moderation is ModerationStatus.REJECTED:
        return REMOVED_TEXT
    if _hidden(consultation, moderation):
        return AWAITING_TEXT
    return text


def findings_of(run: AnalysisRun) -> Findings:
    """The run's stored results through the one typed reader."""
    return read_findings(run.results)


def report_for(run: AnalysisRun) -> Report:
    built: Report = cached_for_run(
        "reports", run, lambda: _build_report(run, reader_words()), per_language=True
    )
    return built


def figures_for(run: AnalysisRun) -> Figures:
    return report_for(run).figures


def _build_report(run: AnalysisRun, words: Words = ENGLISH) -> Report:
    """The report in the reader's language (``words``: the request's translations)."""
    _ = words.gettext
    statements = _public_statements(run)
    findings = findings_of(run)
    figures = build_figures(
        findings,
        {sid: text for sid, (text, _source) in statements.items()},
        {sid: source for sid, (_text, source) in statements.items() if source is not None},
        words,
    )
    map_svg, map_text = Markup(""), ""
    if figures.opinion_map is not None and figures.opinion_map.points and figures.groups:
        map_text = charts.describe_map(figures.opinion_map, figures.groups, words)
        map_svg = charts.opinion_map_svg(
            figures.opinion_map, figures.groups, _("Opinion map of everyone who voted"), map_text
        )
    divisive_svg, divisive_text = _divisive_chart(figures, words)
    topics_svg, topics_text = _topics_chart(figures, words)
    roles_svg, roles_text = _roles_chart(figures, words)
    summary = summarise(figures, words)
    described = {g.id: group_description(g, figures.alpha, words) for g in figures.groups}
    return Report(
        run_id=run.id,
        figures=figures,
        summary=summary,
        top=top_summary(summary),
        group_descriptions={
            gid: words for gid, words in described.items() if words and figures.has_groups
        },
        map_svg=map_svg,
        map_description=map_text,
        divisive_svg=divisive_svg,
        divisive_description=divisive_text,
        topics_svg=topics_svg,
        topics_description=topics_text,
        roles_svg=roles_svg,
        roles_description=roles_text,
        moderation=moderation_sentences(findings.moderation, words),
    )


def _divisive_chart(f: Figures, words: Words) -> tuple[Markup, str]:
    _ = words.gettext
    charted = [d for d in f.divisive if d.q_value <= f.alpha][:DIVISIVE_CHARTED]
    if not charted:
        return Markup(""), ""
    bars, sections, said = [], [], []
    for d in charted:
        s = d.statement
        sections.append((s.text, len(s.groups)))
        for gid, g in enumerate(s.groups):
            bars.append(
                charts.Bar(
                    group_name(gid, words), g.agree, g.disagree, g.seen - g.agree - g.disagree
                )
            )
        said.append(
            _(
                "On “%(statement)s”, %(group)s agreed most (%(agreeing)s%%) and %(other)s "
                "disagreed most (%(disagreeing)s%%)."
            )
            % {
                "statement": s.text,
                "group": group_name(d.most_agreeing, words),
                "agreeing": d.agreeing.percent,
                "other": group_name(d.most_disagreeing, words),
                "disagreeing": d.disagreeing.percent,
            }
        )
    text = " ".join(
        [_("How each opinion group voted on the statements that divide them most."), *said]
    )
    svg = charts.vote_bars_svg(
        "divisive-chart", bars, _("How each group voted where they divide most"), text, sections
    )
    return svg, text


def _topics_chart(f: Figures, words: Words) -> tuple[Markup, str]:
    _, ngettext = words.gettext, words.ngettext
    voted = [t for t in f.topics.topics if t.everyone and t.everyone.seen]
    if not f.topics.available or not voted:
        return Markup(""), ""
    bars = [
        charts.Bar(t.label, t.everyone.agree, t.everyone.disagree, t.everyone.passed) for t in voted
    ]
    said = [
        ngettext(
            "“%(topic)s”: %(agree)s%% agree and %(disagree)s%% disagree of %(num)s vote.",
            "“%(topic)s”: %(agree)s%% agree and %(disagree)s%% disagree of %(num)s votes.",
            t.everyone.seen,
        )
        % {
            "topic": t.label,
            "agree": t.everyone.agreed.percent,
            "disagree": t.everyone.disagreed.percent,
            "num": number(t.everyone.seen),
        }
        for t in voted
    ]
    text = " ".join([_("How everyone voted on the statements of each topic."), *said])
    return charts.vote_bars_svg("topics-chart", bars, _("Votes by topic"), text), text


def _roles_chart(f: Figures, words: Words) -> tuple[Markup, str]:
    _ = words.gettext
    roles = f.roles
    if roles is None or not roles.comparable:
        return Markup(""), ""
    shown = [r for r in roles.differ_most if r.q_value <= f.alpha][:DIVISIVE_CHARTED]
    if not shown:
        return Markup(""), ""
    bars, sections, said = [], [], []
    for r in shown:
        s = r.statement
        sections.append((s.text, 2))
        for label, agreed, disagreed in (
            (_("Staff"), r.staff, r.staff_disagree),
            (_("Citizens"), r.citizens, r.citizens_disagree),
        ):
            bars.append(
                charts.Bar(
                    label,
                    agreed.count,
                    disagreed.count,
                    agreed.seen - agreed.count - disagreed.count,
                )
            )
        said.append(
            _("On “%(statement)s”, %(staff)s%% of staff agreed and %(citizens)s%% of citizens.")
            % {"statement": s.text, "staff": r.staff.percent, "citizens": r.citizens.percent}
        )
    text = " ".join([_("How staff and citizens voted where they differ most."), *said])
    svg = charts.vote_bars_svg(
        "roles-chart", bars, _("Staff and citizens where they differ most"), text, sections
    )
    return svg, text
