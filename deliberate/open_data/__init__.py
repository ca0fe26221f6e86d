"""The open data page, its machine-readable catalogue, the schema of the run's JSON, and one zip
per published consultation."""

from deliberate.open_data.views import bp

__all__ = ["bp"]
