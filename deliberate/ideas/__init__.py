"""Ideas that verified frontline staff propose for a mission, and the team's public decisions."""

from deliberate.ideas.views import bp

__all__ = ["bp"]
