"""The five missions. They are the product's fixed frame, so they live in code and are upserted."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from deliberate.extensions import db
from deliberate.models import Mission


@dataclass(frozen=True)
class MissionSpec:
    slug: str
    name: str
    goal: str


MISSIONS = (
    MissionSpec(
        "growth",
        "Kickstart economic growth",
        "Secure the highest sustained growth in the G7, with good jobs and rising living standards "
        "in every part of the country.",
    ),
    MissionSpec(
        "clean-energy",
        "Make Britain a clean energy superpower",
        "Cut energy bills, create jobs and deliver security with cheaper, zero-carbon electricity "
        "by 2030.",
    ),
    MissionSpec(
        "nhs",
        "Build an NHS fit for the future",
        "Make the NHS a health service that is there when people need it, with fewer lives lost "
        "to the biggest killers and a fairer Britain where everyone lives well for longer.",
    ),
    MissionSpec(
        "safer-streets",
        "Take back our streets",
        "Halve serious violent crime and raise confidence in the police and criminal justice "
        "system to its highest levels.",
    ),
    MissionSpec(
        "opportunity",
        "Break down barriers to opportunity",
        "Break the link between young people's background and their future success, at every "
        "stage from early years to work.",
    ),
)


def ensure_missions() -> list[Mission]:
    """Create or update the five missions; safe to run any number of times."""
    existing = {m.slug: m for m in db.session.scalars(select(Mission))}
    missions = []
    for position, spec in enumerate(MISSIONS):
        mission = existing.get(spec.slug) or Mission(slug=spec.slug)
        mission.name, mission.goal, mission.position = spec.name, spec.goal, position
        db.session.add(mission)
        missions.append(mission)
    db.session.flush()
    return missions
