"""The one module-level app, for ``flask --app wsgi`` and for gunicorn (``gunicorn wsgi:app``)."""

from deliberate import create_app

app = create_app()
