"""The public "You said, we did" pages: the mission team's responses to a consultation.

``views`` holds the blueprint (registered in ``deliberate.register_blueprints``); the team records
responses on its own pages (``deliberate.manage.response_views``), and the report shows them under
each finding.
"""

from deliberate.responses.views import bp

__all__ = ["bp"]
