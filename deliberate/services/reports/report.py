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
from deliberate.reporting.summary import Sentence, group_description, summarise, top_summary
from deliberate.services.reports.cache import cached_for_run

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


def moderation_sentences(found: ModerationFindings | None) -> tuple[str, ...]:
    """What the moderators took out, as the report says it: counts by reason, nobody named."""
    if found is None:
        return ()
    sentences = []
    if not found.n_removed:
        sentences.append("No statements were removed by the moderators.")
    else:
        parts = []
        for value, n in found.by_reason:
            try:
                parts.append(RemovalReason(value).counted(n))
            except ValueError:  # a reason this version does not know
                parts.append(f"{n:,} for a reason not listed")
        if found.n_without_reason:
            parts.append(f"{found.n_without_reason:,} with no reason recorded")
        listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        removed = (
            "1 statement was removed"
            if found.n_removed == 1
            else f"{found.n_removed:,} statements were removed"
        )
        sentences.append(f"{removed} by the moderators: {listed}.")
    if found.n_edited:
        edited = "1 statement was" if found.n_edited == 1 else f"{found.n_edited:,} statements were"
        sentences.append(
            f"{edited} edited by the moderators to take out words that broke the policy."
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
    built: Report = cached_for_run("reports", run, lambda: _build_report(run))
    return built


def figures_for(run: AnalysisRun) -> Figures:
    return report_for(run).figures


def _build_report(run: AnalysisRun) -> Report:
    statements = _public_statements(run)
    findings = findings_of(run)
    figures = build_figures(
        findings,
        {sid: text for sid, (text, _) in statements.items()},
        {sid: source for sid, (_, source) in statements.items() if source is not None},
    )
    map_svg, map_text = Markup(""), ""
    if figures.opinion_map is not None and figures.opinion_map.points and figures.groups:
        map_text = charts.describe_map(figures.opinion_map, figures.groups)
        map_svg = charts.opinion_map_svg(
            figures.opinion_map, figures.groups, "Opinion map of everyone who voted", map_text
        )
    divisive_svg, divisive_text = _divisive_chart(figures)
    topics_svg, topics_text = _topics_chart(figures)
    roles_svg, roles_text = _roles_chart(figures)
    summary = summarise(figures)
    described = {g.id: group_description(g, figures.alpha) for g in figures.groups}
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
        moderation=moderation_sentences(findings.moderation),
    )


def _divisive_chart(f: Figures) -> tuple[Markup, str]:
    charted = [d for d in f.divisive if d.q_value <= f.alpha][:DIVISIVE_CHARTED]
    if not charted:
        return Markup(""), ""
    bars, sections, words = [], [], []
    for d in charted:
        s = d.statement
        sections.append((s.text, len(s.groups)))
        for gid, g in enumerate(s.groups):
            bars.append(
                charts.Bar(group_name(gid), g.agree, g.disagree, g.seen - g.agree - g.disagree)
            )
        words.append(
            f"On “{s.text}”, {group_name(d.most_agreeing)} agreed most "
            f"({d.agreeing.percent}%) and {group_name(d.most_disagreeing)} disagreed most "
            f"({d.disagreeing.percent}%)."
        )
    text = "How each opinion group voted on the statements that divide them most. " + " ".join(
        words
    )
    svg = charts.vote_bars_svg(
        "divisive-chart", bars, "How each group voted where they divide most", text, sections
    )
    return svg, text


def _topics_chart(f: Figures) -> tuple[Markup, str]:
    voted = [t for t in f.topics.topics if t.everyone and t.everyone.seen]
    if not f.topics.available or not voted:
        return Markup(""), ""
    bars = [
        charts.Bar(t.label, t.everyone.agree, t.everyone.disagree, t.everyone.passed) for t in voted
    ]
    words = [
        f"“{t.label}”: {t.everyone.agreed.percent}% agree and {t.everyone.disagreed.percent}% "
        f"disagree of {t.everyone.seen:,} votes."
        for t in voted
    ]
    text = "How everyone voted on the statements of each topic. " + " ".join(words)
    return charts.vote_bars_svg("topics-chart", bars, "Votes by topic", text), text


def _roles_chart(f: Figures) -> tuple[Markup, str]:
    roles = f.roles
    if roles is None or not roles.comparable:
        return Markup(""), ""
    shown = [r for r in roles.differ_most if r.q_value <= f.alpha][:DIVISIVE_CHARTED]
    if not shown:
        return Markup(""), ""
    bars, sections, words = [], [], []
    for r in shown:
        s = r.statement
        sections.append((s.text, 2))
        for label, agreed, disagreed in (
            ("Staff", r.staff, r.staff_disagree),
            ("Citizens", r.citizens, r.citizens_disagree),
        ):
            bars.append(
                charts.Bar(
                    label,
                    agreed.count,
                    disagreed.count,
                    agreed.seen - agreed.count - disagreed.count,
                )
            )
        words.append(
            f"On “{s.text}”, {r.staff.percent}% of staff agreed and {r.citizens.percent}% of "
            "citizens."
        )
    text = "How staff and citizens voted where they differ most. " + " ".join(words)
    svg = charts.vote_bars_svg(
        "roles-chart", bars, "Staff and citizens where they differ most", text, sections
    )
    return svg, text
