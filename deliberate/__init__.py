"""Deliberate: open consultations for government missions.

``create_app`` only wires things together: no database work, no network, no model loading, so the
app starts in a blink and the request path stays light.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from deliberate import logs, security
from deliberate.config import PROJECT_ROOT, engine_options, settings_from_environment
from deliberate.embed import frame
from deliberate.form_data import DeliberateRequest


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.request_class = DeliberateRequest
    app.config.from_mapping(settings_from_environment(Path(app.instance_path)))
    if config:
        app.config.from_mapping(config)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
        app.config["SQLALCHEMY_DATABASE_URI"],
        app.config["SQLALCHEMY_ENGINE_OPTIONS"],
        app.config["DATABASE_CONNECT_TIMEOUT"],
    )
    logs.init_app(app)  # first: its hooks time and name every request, including refused ones
    register_extensions(app)
    register_blueprints(app)
    security.allow_plain_http(app)
    frame.allow_framing(app)
    register_commands(app)
    register_unit_of_work(app)
    return app


def register_extensions(app: Flask) -> None:
    from deliberate import content_languages, errors, frontend, i18n, jobs, rich_text
    from deliberate.extensions import csrf, db, limiter, login_manager, migrate
    from deliberate.models import User

    # Before any route is added, and before CSRFProtect (an unreadable form is refused first).
    security.use_database_ids(app)
    security.init_app(app)
    frame.init_app(app)  # the embed routes' own cookies
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    # Flask-Limiter logs each refusal with its key at INFO; logs hold no personal data.
    logging.getLogger("flask-limiter").setLevel(logging.WARNING)
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(cookie_id: str) -> User | None:
        """The account a session cookie names, while its session token is still the account's."""
        user_id, _, token = cookie_id.partition(":")
        if not (user_id.isdigit() and len(user_id) < 10 and token):
            return None
        user = db.session.get(User, int(user_id))
        return user if user is not None and user.holds_session(token) else None

    frontend.init_app(app)
    i18n.init_app(app)
    content_languages.init_app(app)
    rich_text.init_app(app)
    errors.init_app(app)
    jobs.init_app(app)


def register_blueprints(app: Flask) -> None:
    from deliberate import api
    from deliberate.admin import bp as admin_bp
    from deliberate.auth.views import bp as auth_bp
    from deliberate.consultations import bp as consultations_bp
    from deliberate.embed.views import bp as embed_bp
    from deliberate.following import bp as following_bp
    from deliberate.ideas import bp as ideas_bp
    from deliberate.manage import bp as manage_bp
    from deliberate.missions.views import bp as missions_bp
    from deliberate.open_data import bp as open_data_bp
    from deliberate.pages import bp as pages_bp
    from deliberate.reports.views import bp as reports_bp
    from deliberate.responses import bp as responses_bp

    for blueprint in (pages_bp, auth_bp, missions_bp, consultations_bp, ideas_bp, manage_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(reports_bp)
    app.register_blueprint(responses_bp)
    app.register_blueprint(open_data_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(embed_bp)
    app.register_blueprint(following_bp)
    api.init_app(app)  # /api/v1: its own blueprint, OpenAPI document and docs page


def register_unit_of_work(app: Flask) -> None:
    """Every view commits once, or saves nothing (after the blueprints: it wraps their views)."""
    from deliberate import unit_of_work

    unit_of_work.init_app(app)


def register_commands(app: Flask) -> None:
    from deliberate.cli import deliberate_cli

    app.cli.add_command(deliberate_cli)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite: enforce foreign keys and use WAL so readers do not block the background writer."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()
