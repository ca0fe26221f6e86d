"""The API's docs page, drawn on the server from its OpenAPI document: every endpoint with its
parameters, request body and answers, and every schema with its fields. Plain GOV.UK HTML that
works without JavaScript (Swagger UI and ReDoc load scripts from a CDN, which the site's
Content-Security-Policy forbids and an offline machine cannot reach)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask import render_template, url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape

from deliberate.api.blueprint import spec_document

METHODS = ("get", "post", "put", "patch", "delete")
_REF = re.compile(r"^#/components/(schemas|responses|parameters)/(.+)$")
_CODE = re.compile(r"``([^`]+)``|`([^`]+)`")


def paragraphs(text: str) -> list[Markup]:
    """A description's paragraphs (blank lines between), escaped, with `code` marked up."""
    out = []
    for paragraph in text.split("\n\n"):
        if paragraph.strip():
            escaped = str(escape(" ".join(paragraph.split())))
            out.append(
                Markup(  # noqa: S704 - escaped above; only <code> is added
                    _CODE.sub(lambda m: f"<code>{m.group(1) or m.group(2)}</code>", escaped)
                )
            )
    return out


@dataclass(frozen=True)
class TypeText:
    """A type in words: ``before`` the schema it names (a link on the page), if any, ``after``."""

    before: str
    schema: str | None = None
    after: str = ""

    @property
    def words(self) -> str:
        return f"{self.before}{self.schema or ''}{self.after}"


@dataclass(frozen=True)
class FieldDoc:
    name: str
    type: TypeText
    required: bool
    description: str


@dataclass(frozen=True)
class Answer:
    status: str
    description: str
    type: TypeText | None


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    description: str
    needs_token: bool
    parameters: list[FieldDoc] = field(default_factory=list)
    body: TypeText | None = None
    answers: list[Answer] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return f"{self.method.lower()}-" + re.sub(r"[^a-z0-9]+", "-", self.path.lower()).strip("-")


@dataclass(frozen=True)
class SchemaDoc:
    name: str
    description: str
    fields: tuple[FieldDoc, ...]


@dataclass(frozen=True)
class DocsPage:
    title: str
    version: str
    description: str
    sections: list[tuple[str, list[Operation]]]
    schemas: list[SchemaDoc]


def _ref_name(ref: str) -> str:
    match = _REF.match(ref)
    return match.group(2) if match else ref


def type_text(schema: dict[str, Any] | None) -> TypeText:
    """``{"type": "array", "items": {"$ref": ".../Statement"}}`` -> "list of Statement"."""
    if not schema:
        return TypeText("any")
    null = _(", or null") if schema.get("nullable") else ""
    if "$ref" in schema:
        return TypeText("", _ref_name(schema["$ref"]), null)
    for combined in ("allOf", "oneOf", "anyOf"):
        if schema.get(combined):
            inner = type_text(schema[combined][0])
            return TypeText(inner.before, inner.schema, inner.after + null)
    kind = schema.get("type", "object")
    if kind == "array":
        inner = type_text(schema.get("items"))
        return TypeText(_("list of") + " " + inner.before, inner.schema, inner.after + null)
    words = kind
    if schema.get("format"):
        words += f" ({schema['format']})"
    if schema.get("enum"):
        values = ", ".join(str(v) for v in schema["enum"] if v is not None)
        words += ": " + _("one of") + " " + values
    bounds = [
        f"{name} {schema[key]}"
        for key, name in (("minimum", _("at least")), ("maximum", _("at most")))
        if key in schema
    ]
    if bounds:
        words += ", " + (" " + _("and") + " ").join(bounds)
    return TypeText(words + null)


def _schema_doc(name: str, schema: dict[str, Any]) -> SchemaDoc:
    required = set(schema.get("required", ()))
    fields = tuple(
        FieldDoc(key, type_text(prop), key in required, prop.get("description", ""))
        for key, prop in schema.get("properties", {}).items()
    )
    return SchemaDoc(name, schema.get("description", ""), fields)


def _answer(status: str, response: dict[str, Any], components: dict[str, Any]) -> Answer:
    if "$ref" in response:
        response = components.get("responses", {}).get(_ref_name(response["$ref"]), {})
    content = response.get("content", {}).get("application/json", {})
    shape = type_text(content["schema"]) if content.get("schema") else None
    return Answer(status, response.get("description", ""), shape)


def _operation(path: str, method: str, spec_op: dict[str, Any], components: dict) -> Operation:
    docs = spec_op.get("description", "")
    operation = Operation(
        method=method.upper(),
        path=path,
        summary=spec_op.get("summary", ""),
        description=docs,
        needs_token=bool(spec_op.get("security")),
    )
    for parameter in spec_op.get("parameters", []):
        operation.parameters.append(
            FieldDoc(
                f"{parameter['name']} ({parameter['in']})",
                type_text(parameter.get("schema")),
                bool(parameter.get("required")),
                parameter.get("description", ""),
            )
        )
    body = spec_op.get("requestBody", {}).get("content", {}).get("application/json")
    if body:
        operation.body = type_text(body.get("schema"))
    for status, response in sorted(spec_op.get("responses", {}).items()):
        operation.answers.append(_answer(status, response, components))
    return operation


def docs_from(spec: dict[str, Any]) -> DocsPage:
    components = spec.get("components", {})
    sections: dict[str, list[Operation]] = {}
    for path, item in spec.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in METHODS:
            if method not in item:
                continue
            spec_op = {**item[method]}
            spec_op["parameters"] = [*shared, *spec_op.get("parameters", [])]
            tag = (spec_op.get("tags") or ["Other"])[0]
            sections.setdefault(tag, []).append(_operation(path, method, spec_op, components))
    schemas = [
        _schema_doc(name, schema) for name, schema in sorted(components.get("schemas", {}).items())
    ]
    info = spec.get("info", {})
    return DocsPage(
        title=info.get("title", ""),
        version=info.get("version", ""),
        description=info.get("description", ""),
        sections=list(sections.items()),
        schemas=schemas,
    )


def docs_page():
    """``/api/v1/docs``: the OpenAPI document, for people."""
    return render_template(
        "api/docs.html",
        docs=docs_from(spec_document()),
        openapi_url=url_for("api_docs.openapi_json", _external=True),
        paragraphs=paragraphs,
    )
