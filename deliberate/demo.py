"""Demo data for ``make run``: the five missions, an open consultation on each with seed
statements, real Polis conversations (CC BY 4.0) imported under the missions they speak to, a
question asked in two rounds, a consultation in English and Welsh, and the published summary of
every analysis that found groups.

Idempotent: every demo consultation carries a ``source_key``, so loading twice changes nothing.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, timedelta
from pathlib import Path

from sqlalchemy import select

from deliberate.config import PROJECT_ROOT
from deliberate.extensions import db
from deliberate.findings import read_findings
from deliberate.missions.catalogue import ensure_missions
from deliberate.models import (
    Consultation,
    Idea,
    IdeaStage,
    IndicatorDirection,
    MissionTeamMember,
    ModerationMode,
    ModerationStatus,
    Participant,
    ParticipantRole,
    Statement,
    StatementOrigin,
    User,
    Vote,
    VoteEvent,
    normalise_statement,
    utcnow,
)

POLIS_DATA = PROJECT_ROOT / "data" / "polis"
# Real conversations, each under the mission whose question it is closest to.
REAL_CONVERSATIONS = {
    "london.youth.policing": "safer-streets",
    "scoop-hivemind.freshwater": "clean-energy",
    "scoop-hivemind.biodiversity": "clean-energy",
    "15-per-hour-seattle": "growth",
    "brexit-consensus": "growth",
}

DEMO_CONSULTATIONS = {
    "growth": (
        "What would help your local high street and small businesses grow?",
        "We want to hear from business owners, workers and shoppers about what holds local "
        "growth back and what would make the biggest difference.",
        [
            "Business rates make it too hard for small shops to survive.",
            "Faster planning decisions would bring more investment to my area.",
            "Good public transport matters more to local businesses than parking.",
            "Apprenticeships should be easier for small firms to offer.",
            "Reliable broadband is still a problem for businesses outside cities.",
            "Empty shops should be turned into homes.",
        ],
    ),
    "clean-energy": (
        "How should we cut energy bills while moving to clean power?",
        "The mission aims for clean electricity by 2030. Tell us what would make the change fair "
        "and affordable for your household and your area.",
        [
            "Communities should get cheaper bills when wind farms are built nearby.",
            "Insulating homes should come before building new power stations.",
            "Heat pumps are still too expensive for most households.",
            "New homes should all be built with solar panels.",
            "Onshore wind should be allowed in more places.",
            "I would switch to a time-of-use tariff if it saved me money.",
        ],
    ),
    "nhs": (
        "What would most improve getting care when you need it?",
        "Patients and NHS staff: tell us where the system works, where it fails, and what you "
        "would change first.",
        [
            "It should be possible to book a GP appointment online the same day.",
            "More care should happen in the community, not in hospital.",
            "Staff spend too much time on paperwork instead of patients.",
            "Pharmacists should be able to prescribe for more common conditions.",
            "Mental health waiting times should be treated as seriously as A&E waits.",
            "Social care must be fixed before hospital discharge can improve.",
        ],
    ),
    "safer-streets": (
        "What would make your neighbourhood feel safer?",
        "Residents, police officers and council staff: tell us what would raise confidence in "
        "policing and reduce serious violence where you live.",
        [
            "I would feel safer with more visible neighbourhood police officers.",
            "Youth services reduce crime more than extra policing does.",
            "Better street lighting would make a real difference at night.",
            "Reporting antisocial behaviour online should get a reply within a week.",
            "Knife crime needs more work in schools, not only arrests.",
            "Victims should be kept informed about their case without having to chase.",
        ],
    ),
    "opportunity": (
        "What stops young people in your area getting on in life?",
        "Parents, young people, teachers and early-years staff: tell us what breaks the link "
        "between background and success, and what gets in the way.",
        [
            "Free childcare should start from nine months for every family.",
            "Every school should offer good careers advice from age 12.",
            "Teachers need more time for pupils who fall behind.",
            "Breakfast clubs help children concentrate and should be in every primary school.",
            "Apprenticeships should be valued as much as university.",
            "The cost of school uniform and trips holds some children back.",
        ],
    ),
}


# Demo accounts for trying the site locally. `load-demo` refuses to run in production.
DEMO_PASSWORD = "demo passphrase 2026"  # noqa: S105 - a published demo password, never production
DEMO_PEOPLE = [
    # email, name, verified work email or None, on every mission team
    ("team@example.org", "Morgan (mission team)", None, True),
    ("nurse@example.org", "Amira (nurse)", "amira.demo@nhs.net", False),
    ("teacher@example.org", "Gareth (teacher)", "gareth.demo@greenfield.sch.uk", False),
    ("officer@example.org", "Priya (police officer)", "priya.demo@met.police.uk", False),
    ("citizen@example.org", "Sam (citizen)", None, False),
]
# mission, author email, title, problem, idea, evidence, stages it has moved through (with reasons)
DEMO_IDEAS = [
    (
        "nhs",
        "nurse@example.org",
        "Discharge coordinators on every ward at weekends",
        "Patients who are medically fit wait over the weekend because nobody can arrange their "
        "care package until Monday.",
        "Fund a discharge coordinator on each ward on Saturdays and Sundays, working with social "
        "care duty teams.",
        "On my ward, a third of our beds on a Monday morning hold people who were ready to go "
        "home on Friday.",
        [(IdeaStage.UNDER_REVIEW, "Weekend discharge delays are a priority for winter planning.")],
    ),
    (
        "opportunity",
        "teacher@example.org",
        "A shared careers adviser for small primary schools",
        "Small primary schools cannot afford careers input, so children meet few jobs beyond "
        "those of their own families.",
        "Let clusters of small schools share one careers adviser who runs termly workplace "
        "visits for pupils aged 9 to 11.",
        "Our cluster of four schools tried two visits last year and pupils named twice as many "
        "jobs afterwards.",
        [
            (IdeaStage.UNDER_REVIEW, "Early careers work is part of the opportunity mission."),
            (IdeaStage.BEING_TRIALLED, "Trialled in two local authorities from January."),
        ],
    ),
    (
        "safer-streets",
        "officer@example.org",
        "Reply to every antisocial behaviour report",
        "People stop reporting antisocial behaviour because they never hear what happened.",
        "Send every person who reports antisocial behaviour a short update within seven days, "
        "even when no action could be taken.",
        "Neighbourhood surveys in my borough show confidence falls most among people who "
        "reported something and heard nothing back.",
        [],
    ),
]


# What a trial of a demo idea learnt, recorded once it is being trialled.
DEMO_TRIAL_LEARNING = {
    "A shared careers adviser for small primary schools": "After one term, pupils in the trial "
    "schools named on average five more jobs than before; schools more than 20 miles from the "
    "adviser's base found visits hard to arrange.",
}

# Each mission's indicator: name, unit, direction, baseline (day, value), target (day, value) and
# a few years of actual values. Illustrative demo figures, never official statistics: the source
# says so, and the mission page shows it.
DEMO_INDICATORS = {
    "growth": (
        "Annual growth of real gross domestic product",
        "%",
        IndicatorDirection.HIGHER,
        (date(2022, 12, 31), 0.3),
        (date(2030, 12, 31), 2.5),
        [(date(2023, 12, 31), 0.6), (date(2024, 12, 31), 0.9), (date(2025, 12, 31), 1.4)],
    ),
    "clean-energy": (
        "Share of electricity generated from clean sources",
        "% of electricity",
        IndicatorDirection.HIGHER,
        (date(2022, 12, 31), 56),
        (date(2030, 12, 31), 95),
        [(date(2023, 12, 31), 59), (date(2024, 12, 31), 64), (date(2025, 12, 31), 70)],
    ),
    "nhs": (
        "Patients waiting more than 18 weeks for planned hospital treatment",
        "% of the waiting list",
        IndicatorDirection.LOWER,
        (date(2023, 3, 31), 42),
        (date(2029, 3, 31), 8),
        [(date(2024, 3, 31), 41), (date(2025, 3, 31), 38.5), (date(2026, 3, 31), 35)],
    ),
    "safer-streets": (
        "Serious violent crime recorded by the police",
        "offences a year",
        IndicatorDirection.LOWER,
        (date(2023, 3, 31), 52_000),
        (date(2033, 3, 31), 26_000),
        [(date(2024, 3, 31), 51_200), (date(2025, 3, 31), 49_000), (date(2026, 3, 31), 48_100)],
    ),
    "opportunity": (
        "Children reaching a good level of development at age 5",
        "% of children",
        IndicatorDirection.HIGHER,
        (date(2023, 7, 31), 67),
        (date(2028, 7, 31), 75),
        [(date(2024, 7, 31), 67.7), (date(2025, 7, 31), 68.9), (date(2026, 6, 30), 69.8)],
    ),
}


def load_demo_indicators(team: User) -> Iterator[str]:
    """Each mission's indicator with a few years of values, as its team would record them."""
    from deliberate.services import indicators

    for mission in ensure_missions():
        if mission.slug not in DEMO_INDICATORS or indicators.indicator_of(mission) is not None:
            continue
        name, unit, direction, baseline, target, values = DEMO_INDICATORS[mission.slug]
        indicator = indicators.set_indicator(
            team,
            mission,
            indicators.IndicatorSettings(
                name=name,
                unit=unit,
                source=indicators.ILLUSTRATIVE,
                source_url=None,
                baseline_value=baseline[1],
                baseline_on=baseline[0],
                target_value=target[1],
                target_on=target[0],
                direction=direction,
            ),
        )
        for day, value in values:
            indicators.add_value(
                team,
                indicator,
                indicators.ValueInput(day, value, indicators.ILLUSTRATIVE),
            )
        yield f"recorded the demo indicator of {mission.slug} ({len(values)} values)"


def load_demo_people() -> dict[str, User]:
    from deliberate.services.accounts import find_user_by_email, register_user

    missions = ensure_missions()
    people = {}
    for email, name, staff_email, on_team in DEMO_PEOPLE:
        user = find_user_by_email(email) or register_user(email, name, DEMO_PASSWORD)
        if staff_email and not user.is_staff:
            user.staff_email, user.staff_verified_at = staff_email, utcnow()
        if on_team and not user.team_memberships:
            for mission in missions:
                db.session.add(MissionTeamMember(user=user, mission=mission))
        people[email] = user
    db.session.flush()
    return people


def load_demo_ideas(people: dict[str, User]) -> Iterator[str]:
    from deliberate.services.ideas import move_idea, propose_idea, record_trial_learning

    missions = {m.slug: m for m in ensure_missions()}
    team = people["team@example.org"]
    for slug, author, title, problem, proposal, evidence, moves in DEMO_IDEAS:
        if db.session.scalar(select(Idea.id).where(Idea.title == title)):
            continue
        idea = propose_idea(
            people[author],
            missions[slug],
            title=title,
            problem=problem,
            proposal=proposal,
            evidence=evidence,
        )
        for stage, reason in moves:
            move_idea(team, idea, stage.value, reason)
        if title in DEMO_TRIAL_LEARNING:
            record_trial_learning(team, idea, DEMO_TRIAL_LEARNING[title])
        yield f"proposed demo idea: {title}"


def load_demo_data() -> Iterator[str]:
    missions = {m.slug: m for m in ensure_missions()}
    yield f"{len(missions)} missions ready"
    for slug, (title, context, seeds) in DEMO_CONSULTATIONS.items():
        key = f"demo:{slug}"
        if db.session.scalar(select(Consultation.id).where(Consultation.source_key == key)):
            continue
        consultation = Consultation(
            mission=missions[slug],
            title=title,
            context=context,
            moderation_mode=ModerationMode.POST,
            allow_anonymous=True,
            source_key=key,
        )
        db.session.add(consultation)
        for text in seeds:
            db.session.add(
                Statement(
                    consultation=consultation,
                    text=text,
                    normalised_text=normalise_statement(text),
                    origin=StatementOrigin.SEED,
                    moderation=ModerationStatus.ACCEPTED,
                )
            )
        consultation.open()
        db.session.flush()
        yield f"opened demo consultation {consultation.id}: {title}"
    people = load_demo_people()
    yield f"demo accounts ready (password: {DEMO_PASSWORD!r}): " + ", ".join(people)
    yield from load_demo_ideas(people)
    yield from load_demo_indicators(people["team@example.org"])
    yield from load_demo_rounds(people["team@example.org"])
    yield from load_demo_without_groups()
    yield from load_demo_bilingual(people["team@example.org"])
    yield from import_real_conversations()
    yield from analyse_demo_consultations()
    yield from publish_demo_summaries(people["team@example.org"])
    yield from load_demo_responses(people["team@example.org"])


def import_real_conversations(data: Path = POLIS_DATA) -> Iterator[str]:
    from deliberate.services.polis_exchange import import_polis_folder

    if not data.is_dir():
        yield f"No Polis data at {data}: real conversations skipped"
        return
    missions = {m.slug: m for m in ensure_missions()}
    for folder, slug in REAL_CONVERSATIONS.items():
        result = import_polis_folder(data / folder, missions[slug])
        if result.created:
            yield f"imported {folder} as consultation {result.consultation_id}"


def analyse_demo_consultations() -> Iterator[str]:
    """Give every demo consultation with votes and no analysis yet its first stored run."""
    from deliberate.services.analysis import run_analysis
    from deliberate.services.analysis_runs import latest_run

    keys = select(Consultation.id).where(Consultation.source_key.is_not(None))
    for consultation_id in db.session.scalars(keys.order_by(Consultation.id)):
        if latest_run(consultation_id) is None:
            run = run_analysis(consultation_id)
            message = read_findings(run.results).votes.message
            yield f"analysed consultation {consultation_id}: {message}"


# A question asked in two rounds, so the demo shows how views move between rounds. Votes are
# synthetic (seeded, so every load gives the same): two camps, staff and citizens, and in round 2
# more support for the ideas trialled in between. Per statement: the chance that someone in camp
# "home first" / camp "hospital first" agrees, in round 1 and in round 2 (None: not asked).
ROUNDS_KEY = "demo-rounds:nhs"
ROUNDS_TITLE = "How can hospitals get patients home sooner and safely?"
ROUNDS_CONTEXT = (
    "Thousands of patients who are well enough to leave hospital wait days for care at home. "
    "Patients, families and NHS staff: tell us what would get people home sooner, safely."
)
ROUNDS_STATEMENTS = [
    (
        "Patients who are well enough should not wait in hospital for a care package.",
        (0.85, 0.60),
        (0.88, 0.70),
    ),
    ("Every ward should have a discharge coordinator at weekends.", (0.70, 0.35), (0.90, 0.75)),
    ("Social care needs more funding before discharge can improve.", (0.80, 0.75), (0.82, 0.78)),
    (
        "Families should be told the expected discharge date on the day of admission.",
        (0.75, 0.50),
        (0.80, 0.60),
    ),
    (
        "Community nurses should visit within a day of someone getting home.",
        (0.80, 0.55),
        (0.85, 0.60),
    ),
    (
        "Waiting for medicines from the pharmacy holds up too many discharges.",
        (0.60, 0.60),
        (0.55, 0.55),
    ),
    ("Older patients are sent home too early and come back.", (0.20, 0.80), (0.20, 0.65)),
    (
        "Patients should recover in a care home paid for by the NHS for up to four weeks.",
        (0.30, 0.75),
        (0.30, 0.70),
    ),
    ("Discharge paperwork should be done digitally, and only once.", (0.85, 0.60), (0.90, 0.80)),
    ("Transport home is often arranged last and delays discharge.", (0.65, 0.55), (0.65, 0.55)),
    ("Carers should be trained before a relative comes home.", (0.70, 0.70), (0.75, 0.75)),
    ("Hospital beds should be kept for people who need hospital care.", (0.90, 0.40), (0.90, 0.45)),
    ("Virtual wards let people recover safely at home.", None, (0.80, 0.35)),
    (
        "The weekend discharge coordinators on the trial wards made a real difference.",
        None,
        (0.75, 0.55),
    ),
]
ROUND_PEOPLE = (48, 64)  # taking part in round 1 and round 2


def load_demo_rounds(team: User) -> Iterator[str]:
    """Round 1 closed with its votes, round 2 open with the statements carried over and its own
    votes; both analysed and published later with the rest of the demo."""
    from deliberate.services.consultations import (
        close_consultation,
        open_consultation,
        start_next_round,
    )

    if db.session.scalar(
        select(Consultation.id).where(Consultation.source_key == ROUNDS_KEY + ":1")
    ):
        return
    nhs = next(m for m in ensure_missions() if m.slug == "nhs")
    now = utcnow()
    first = Consultation(
        mission=nhs, title=ROUNDS_TITLE, context=ROUNDS_CONTEXT, source_key=ROUNDS_KEY + ":1"
    )
    db.session.add(first)
    db.session.flush()
    for text, before, _ in ROUNDS_STATEMENTS:
        if before is not None:
            _demo_seed(first, text)
    first.open(now - timedelta(days=60))
    _synthetic_votes(first, 0, ROUND_PEOPLE[0], now - timedelta(days=59))
    close_consultation(team, first, now - timedelta(days=30))
    second = start_next_round(team, first)
    second.source_key = ROUNDS_KEY + ":2"
    for text, before, _ in ROUNDS_STATEMENTS:
        if before is None:
            _demo_seed(second, text)
    open_consultation(team, second, now - timedelta(days=20))
    _synthetic_votes(second, 1, ROUND_PEOPLE[1], now - timedelta(days=19))
    db.session.flush()
    yield f"demo consultation in two rounds: {first.id} (closed) and {second.id} (open)"


def _demo_consultation(
    mission_slug: str, key: str, title: str, context: str, **settings
) -> Consultation:
    """A draft demo consultation on the mission, known by its ``source_key``."""
    mission = next(m for m in ensure_missions() if m.slug == mission_slug)
    consultation = Consultation(
        mission=mission, title=title, context=context, source_key=key, **settings
    )
    db.session.add(consultation)
    db.session.flush()
    return consultation


def _demo_seed(consultation: Consultation, text: str, language: str = "en") -> Statement:
    statement = Statement(
        consultation=consultation,
        text=text,
        normalised_text=normalise_statement(text),
        origin=StatementOrigin.SEED,
        moderation=ModerationStatus.ACCEPTED,
        language=language,
    )
    db.session.add(statement)
    db.session.flush()
    return statement


def _participant(consultation: Consultation, role: ParticipantRole, start, token: str):
    participant = Participant(
        consultation_id=consultation.id, role=role, created_at=start, anonymous_token_hash=token
    )
    db.session.add(participant)
    db.session.flush()
    return participant


def _cast(participant: Participant, statement: Statement, choice: int, cast_at_ms: int) -> None:
    row = {
        "consultation_id": participant.consultation_id,
        "participant_id": participant.id,
        "statement_id": statement.id,
        "choice": choice,
        "cast_at_ms": cast_at_ms,
    }
    db.session.add(Vote(**row))
    db.session.add(VoteEvent(**row))


CAMP_CONTRAST = 2.0  # the camps' chances, pushed this much further from a half than the table's


def _contrasted(chance: float) -> float:
    """A camp's chance of agreeing, sharpened: with the table's own chances, 48 and 64 people are
    too few for the groups to beat shuffled answers (the groups test says "no clear groups")."""
    return min(0.95, max(0.05, 0.5 + CAMP_CONTRAST * (chance - 0.5)))


def _synthetic_votes(
    consultation: Consultation,
    round_index: int,
    people: int,
    start,
    table=ROUNDS_STATEMENTS,
    key: str = ROUNDS_KEY,
) -> None:
    """Seeded votes: a quarter of people are staff; two in three are in the first camp
    ("home first" in the rounds' table). ``table``: (text, chances of round 1, of round 2...)."""
    rng = random.Random(f"{key}:{round_index}")  # noqa: S311 - demo data, not secrets
    chances = {normalise_statement(text): rounds[round_index] for text, *rounds in table}
    statements = db.session.scalars(
        select(Statement).where(Statement.consultation_id == consultation.id).order_by(Statement.id)
    ).all()
    base_ms = int(start.replace(tzinfo=UTC).timestamp() * 1000)
    for n in range(people):
        role = ParticipantRole.STAFF if n % 4 == 0 else ParticipantRole.CITIZEN
        participant = _participant(consultation, role, start, f"{key}:{round_index}:{n}")
        camp = 0 if rng.random() < 2 / 3 else 1
        for statement in statements:
            chance = chances.get(statement.normalised_text)
            if chance is None or rng.random() < 0.15:  # not everyone sees every statement
                continue
            draw = rng.random()
            agree = _contrasted(chance[camp])
            choice = 1 if draw < agree else 0 if draw < agree + 0.08 else -1
            _cast(participant, statement, choice, base_ms + 60_000 * n)
    db.session.flush()


# A consultation in English and Welsh (issue 16): English is its main language, Welsh its other
# one; half its seed statements were written in English and half in Welsh, each with the mission
# team's translation into the other language. Votes are synthetic, as in the rounds: two camps,
# "more Welsh in school" and "parents' choice first". Per statement: its words, the language they
# are in, the team's translation, and the chance each camp agrees.
BILINGUAL_KEY = "demo-bilingual:opportunity"
BILINGUAL_TITLE = "How can schools in Wales help every child learn in Welsh and English?"
BILINGUAL_CONTEXT = (
    "Parents, pupils and school staff: tell us what would help children grow confident in both "
    "languages. (Demo: the answers are synthetic.)"
)
BILINGUAL_TITLE_CY = (
    "Sut gall ysgolion yng Nghymru helpu pob plentyn i ddysgu yn Gymraeg ac yn Saesneg?"
)
BILINGUAL_CONTEXT_CY = (
    "Rhieni, disgyblion a staff ysgolion: dywedwch wrthym beth fyddai'n helpu plant i fagu "
    "hyder yn y ddwy iaith. (Demo: nid atebion go iawn yw'r atebion.)"
)
BILINGUAL_STATEMENTS = (
    (
        "Every child in Wales should leave school able to speak Welsh confidently.",
        "en",
        "Dylai pob plentyn yng Nghymru adael yr ysgol yn gallu siarad Cymraeg yn hyderus.",
        (0.85, 0.35),
    ),
    (
        "Parents who do not speak Welsh need more help to support their children's homework.",
        "en",
        "Mae angen mwy o help ar rieni nad ydynt yn siarad Cymraeg i gefnogi gwaith cartref eu "
        "plant.",
        (0.85, 0.80),
    ),
    (
        "Welsh-medium schools should be within easy reach of every family.",
        "en",
        "Dylai ysgolion cyfrwng Cymraeg fod o fewn cyrraedd hawdd i bob teulu.",
        (0.85, 0.40),
    ),
    (
        "Free school transport matters more than the language a school teaches in.",
        "en",
        "Mae cludiant am ddim i'r ysgol yn bwysicach nag iaith addysgu'r ysgol.",
        (0.30, 0.75),
    ),
    (
        "Mae angen mwy o athrawon sy'n gallu dysgu gwyddoniaeth a mathemateg drwy gyfrwng y "
        "Gymraeg.",
        "cy",
        "We need more teachers who can teach science and maths through the medium of Welsh.",
        (0.85, 0.50),
    ),
    (
        "Dylai clybiau ar ôl ysgol a chlybiau chwaraeon roi cyfle i blant ddefnyddio'r Gymraeg y "
        "tu allan i'r dosbarth.",
        "cy",
        "After-school and sports clubs should give children a chance to use Welsh outside the "
        "classroom.",
        (0.90, 0.60),
    ),
    (
        "Dylai rhieni allu dewis addysg cyfrwng Saesneg heb deimlo dan bwysau.",
        "cy",
        "Parents should be able to choose English-medium education without feeling under pressure.",
        (0.30, 0.90),
    ),
    (
        "Mae cyrsiau trochi hwyr yn helpu plant sy'n symud i Gymru i ddal i fyny.",
        "cy",
        "Late immersion courses help children who move to Wales to catch up.",
        (0.80, 0.70),
    ),
)
BILINGUAL_PEOPLE = 72


def load_demo_bilingual(team: User) -> Iterator[str]:
    """The consultation in English and Welsh, open, with its translations and votes; analysed
    and published later with the rest of the demo."""
    from deliberate.services import languages

    if db.session.scalar(select(Consultation.id).where(Consultation.source_key == BILINGUAL_KEY)):
        return
    now = utcnow()
    consultation = _demo_consultation(
        "opportunity",
        BILINGUAL_KEY,
        BILINGUAL_TITLE,
        BILINGUAL_CONTEXT,
        moderation_mode=ModerationMode.POST,
        allow_anonymous=True,
    )
    languages.set_languages(team, consultation, "en", ["cy"])
    languages.translate_consultation(
        team, consultation, "cy", BILINGUAL_TITLE_CY, BILINGUAL_CONTEXT_CY
    )
    for text, language, translation, _ in BILINGUAL_STATEMENTS:
        statement = _demo_seed(consultation, text, language)
        other = "cy" if language == "en" else "en"
        languages.translate_statement(team, statement, other, translation)
    consultation.open(now - timedelta(days=14))
    table = [(text, chances) for text, _, _, chances in BILINGUAL_STATEMENTS]
    _synthetic_votes(
        consultation, 0, BILINGUAL_PEOPLE, now - timedelta(days=13), table, BILINGUAL_KEY
    )
    yield f"demo consultation in English and Welsh: {consultation.id}"


# A consultation with no opinion groups in it at all: every person answers every statement
# independently, with the same chance of agreeing as everyone else. Its report must say there are
# no clear opinion groups and make no claim about groups (the null test of issue 10 in the demo).
NO_GROUPS_KEY = "demo-no-groups:streets"
NO_GROUPS_TITLE = "What would make your high street feel safer after dark?"
NO_GROUPS_CONTEXT = (
    "A short survey of ideas for town-centre safety. (Demo: the answers are synthetic and "
    "independent, so this consultation has no real opinion groups.)"
)
NO_GROUPS_STATEMENTS = (
    ("Better street lighting would make me feel safer.", 0.85),
    ("More police on foot patrol in the evening.", 0.70),
    ("CCTV cameras make little difference to how safe I feel.", 0.45),
    ("Late-night buses should run more often.", 0.65),
    ("Shops and cafes open later would bring more people out.", 0.55),
    ("Taxi ranks need marshals at weekends.", 0.50),
    ("Street pastors and volunteers help people get home.", 0.60),
    ("Empty shop fronts make the street feel unsafe.", 0.75),
    ("Licensing hours for bars should be shorter.", 0.35),
    ("Safe-haven places to wait for a lift should be signposted.", 0.70),
    ("I avoid the high street after dark.", 0.40),
    ("Public toilets should stay open later.", 0.55),
)
NO_GROUPS_PEOPLE = 240


def load_demo_without_groups() -> Iterator[str]:
    if db.session.scalar(select(Consultation.id).where(Consultation.source_key == NO_GROUPS_KEY)):
        return
    now = utcnow()
    consultation = _demo_consultation(
        "safer-streets", NO_GROUPS_KEY, NO_GROUPS_TITLE, NO_GROUPS_CONTEXT
    )
    for text, _ in NO_GROUPS_STATEMENTS:
        _demo_seed(consultation, text)
    consultation.open(now - timedelta(days=10))
    chances = {normalise_statement(text): chance for text, chance in NO_GROUPS_STATEMENTS}
    _independent_votes(consultation, chances, NO_GROUPS_PEOPLE, now - timedelta(days=9))
    yield f"demo consultation without opinion groups: {consultation.id}"


def _independent_votes(
    consultation: Consultation, chances: dict[str, float], people: int, start
) -> None:
    """Seeded votes with no structure: each answer drawn on its own from its statement's rate."""
    rng = random.Random(consultation.source_key)  # noqa: S311 - demo data, not secrets
    statements = db.session.scalars(
        select(Statement).where(Statement.consultation_id == consultation.id).order_by(Statement.id)
    ).all()
    base_ms = int(start.replace(tzinfo=UTC).timestamp() * 1000)
    for n in range(people):
        role = ParticipantRole.STAFF if n % 5 == 0 else ParticipantRole.CITIZEN
        participant = _participant(consultation, role, start, f"{consultation.source_key}:{n}")
        for statement in statements:
            if rng.random() < 0.1:  # not everyone sees every statement
                continue
            draw = rng.random()
            chance = chances[statement.normalised_text]
            choice = 1 if draw < chance else 0 if draw < chance + 0.08 else -1
            _cast(participant, statement, choice, base_ms + 60_000 * n)
    db.session.flush()


def publish_demo_summaries(team: User) -> Iterator[str]:
    """Publish the newest analysis of every demo consultation that found opinion groups and has
    no published summary yet, as a mission team would."""
    from deliberate.services import reports
    from deliberate.services.analysis_runs import latest_run

    keys = select(Consultation).where(Consultation.source_key.is_not(None))
    for consultation in db.session.scalars(keys.order_by(Consultation.id)):
        run = latest_run(consultation.id)
        if run is None or reports.published_run(consultation.id) is not None:
            continue
        if not read_findings(run.results).votes.ok:
            continue
        reports.publish_run(team, consultation, run)
        yield f"published the summary of consultation {consultation.id}"


# The team's responses to round 2 of the discharge question ("You said, we did"): what each
# answers (a statement's finding in the published summary, and a staff idea), and its updates.
DEMO_RESPONSES = [
    (
        "We will trial weekend discharge coordinators in 3 trusts from April",
        "Every opinion group agreed that wards need someone to arrange discharges at weekends, "
        "and a nurse proposed the same. Three trusts will try it for six months before we decide "
        "whether to fund it everywhere.",
        "Every ward should have a discharge coordinator at weekends.",
        "Discharge coordinators on every ward at weekends",
        [("in_progress", "The three trusts are chosen and recruiting coordinators.")],
    ),
    (
        "Discharge paperwork will be done once, digitally, in a shared record",
        "People agreed that filling in the same forms several times slows discharge down.",
        "Discharge paperwork should be done digitally, and only once.",
        None,
        [],
    ),
]


def load_demo_responses(team: User) -> Iterator[str]:
    """Record the demo responses to round 2 once its summary is published, each linked to the
    published finding on its statement (or, failing one, to the statement itself)."""
    from deliberate.models import MissionResponse
    from deliberate.services import responses

    second = db.session.scalar(
        select(Consultation).where(Consultation.source_key == ROUNDS_KEY + ":2")
    )
    if second is None or db.session.scalar(
        select(MissionResponse.id).where(MissionResponse.consultation_id == second.id)
    ):
        return
    offered = responses.answerables(second)
    if offered.run is None:
        return
    for title, explanation, statement_text, idea_title, updates in DEMO_RESPONSES:
        about = [a for a in offered.findings if a.text == statement_text][:1] or [
            a for a in offered.statements if a.text == statement_text
        ][:1]
        ideas = [a for a in offered.ideas if a.text == idea_title]
        if not about:
            continue
        response = responses.record_response(
            team,
            second,
            title=title,
            explanation=explanation,
            status="decided",
            reason=None,
            answers=[a.key for a in (*about, *ideas)],
            now=utcnow() - timedelta(days=10),
        )
        for status, note in updates:
            responses.add_update(team, response, note=note, status=status)
        yield f"recorded the demo response: {title}"
