"""The GOV.UK Design System front end: template loading and the WTForms error helpers.

Templates come first from our own ``templates/`` folder (the factory's ``template_folder``), then
from the two GOV.UK packages under their own prefixes, so a page imports a component as
``{% from "govuk_frontend_jinja/components/button/macro.html" import govukButton %}``.

Undefined stays at Jinja's default: the GOV.UK templates test optional values (``htmlClasses``,
``params.classes`` and the like) that are usually absent; ``StrictUndefined`` makes each an error.
"""

from __future__ import annotations

from flask import Flask
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader

from deliberate import wording

SERVICE_NAME = "Deliberate"
BRAND_COLOUR = "#0b4144"  # the "brand" colour compiled into static/scss/app.scss


def init_app(app: Flask) -> None:
    loaders = [app.jinja_loader] if app.jinja_loader is not None else []
    app.jinja_loader = ChoiceLoader(
        [
            *loaders,
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.globals.update(service_name=SERVICE_NAME, brand_colour=BRAND_COLOUR)
    WTFormsHelpers(app)
    app.jinja_env.filters.update(
        counted=wording.counted,
        plural_form=wording.plural_form,
        number=wording.number,
        file_size=wording.file_size,
        day=wording.day,
    )
