"""The configuration file as a reader sees it: every problem with its path and line in the file.

``archiver.config`` declares the settings; this module says what is wrong with a file of them, the
way the rule files do (``archiver.datafile``): pydantic's errors become ``Problem``s with the
path in the file, the value found, what is allowed and a hint, so that one message lists every
unknown key, bad URL, wrong value and unset credential variable at once, in the order of the file.
It also holds the validators that every URL-valued setting shares.
"""

from __future__ import annotations

import difflib
import types
import typing
from pathlib import Path
from typing import Any, Union
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

from archiver.datafile import FileKind, Problem, show

__all__ = ["CONFIG_FILE", "CONFIG_DOC", "http_url", "database_url", "relocated", "validation_problems"]

CONFIG_DOC = "docs/configuration.md"

CONFIG_FILE = FileKind(
    what="the configuration file",
    noun="configuration file",
    short="the configuration",
    needs="settings",
    shape="settings by section (data_dir, harvest, storage, search, platforms, rti)",
    layout="each section's settings two spaces in under it",
    default=Path(CONFIG_DOC),
)

#: the databases the catalog runs on (SQLAlchemy backend names)
CATALOG_BACKENDS = ("sqlite", "postgresql")


def relocated(kind: str, allowed: str, hint: str, *, at: str | None = None, **context: Any) -> PydanticCustomError:
    """A validation error worded for the problem list; ``at`` names the setting of a section it
    is about, when a section's validator raises it (its place in the file is then that setting)."""
    return PydanticCustomError(kind, "{allowed}", {"allowed": allowed, "hint": hint, "at": at, **context})


def http_url(value: str) -> str:
    """An http:// or https:// URL with a host and no credentials: every URL-valued setting."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError on a port that is not a number)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
        raise relocated("url", "an http:// or https:// URL with a host, e.g. https://mastodon.social or http://127.0.0.1:9000", "Write the whole address, scheme first.")
    if parts.username or parts.password:
        masked = parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]).geturl()
        raise relocated("url_credentials", "a URL without a user or password", "Credentials never go in this file: remove them from the URL and name the environment variable that holds them (docs/configuration.md).", found=repr(masked))
    return value


def database_url(value: str) -> str:
    """A SQLAlchemy URL of SQLite or PostgreSQL, without a password."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(value)
    except (ArgumentError, ValueError):
        raise relocated("database_url", "a SQLAlchemy URL such as postgresql+psycopg://sangrah@db.internal:5432/sangrah or sqlite:////srv/sangrah/catalog.sqlite", "Write it as dialect+driver://user@host:port/database.") from None
    if url.get_backend_name() not in CATALOG_BACKENDS:
        raise relocated("database_url", "a PostgreSQL (postgresql+psycopg://...) or SQLite (sqlite:///...) URL", f"The catalog runs on PostgreSQL or SQLite, not {url.get_backend_name()}.")
    if url.password:
        raise relocated("url_credentials", "a URL without a password", "The database password never goes in this file: remove it and export PGPASSWORD, or use ~/.pgpass (docs/deploy.md).", found=repr(url.render_as_string(hide_password=True)))
    return value


# -- pydantic's errors as problems ------------------------------------------------------------
_ALLOWED = {
    "int_parsing": "a whole number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_parsing": "a number",
    "float_type": "a number",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "string_type": "text",
    "missing": "a value",
    "model_type": "a mapping of settings",
    "dict_type": "a mapping",
    "model_attributes_type": "a mapping of settings",
}

_HINTS = {
    "int_parsing": "Write a whole number, without quotes or units.",
    "int_from_float": "Write a whole number, without quotes or units.",
    "float_parsing": "Write a number, without quotes or units.",
    "bool_parsing": "Write true or false.",
    "greater_than_equal": "Use a larger value.",
    "greater_than": "Use a larger value.",
    "less_than_equal": "Use a smaller value.",
    "missing": "Add this setting.",
}


def validation_problems(exc: ValidationError, root: type[BaseModel]) -> list[Problem]:
    """Each of pydantic's errors about a file of ``root`` settings, as a problem at its path."""
    problems: list[Problem] = []
    for error in exc.errors():
        path: tuple[str | int, ...] = tuple(error["loc"])
        kind = error["type"]
        context: dict[str, Any] = dict(error.get("ctx") or {})
        if kind == "unknown_platform":
            for name in context["names"]:
                close = difflib.get_close_matches(name, context["known"], n=1)
                guess = f"Did you mean {close[0]}? " if close else ""
                problems.append(Problem((*path, name), "an unknown platform", ", ".join(context["known"]), f"{guess}Sangrah harvests these platforms only."))
            continue
        if kind == "extra_forbidden":
            known = list(_fields_at(root, path[:-1]))
            close = difflib.get_close_matches(str(path[-1]), known, n=1)
            guess = f"Did you mean {close[0]}? " if close else ""
            problems.append(Problem(path, "an unknown setting", ", ".join(known), f"{guess}Check its spelling against {CONFIG_DOC}."))
            continue
        value = error.get("input")
        if context.get("at"):
            # a section's validator, about one of its settings: found is that setting's value
            path = (*path, context["at"])
            value = value.get(context["at"]) if isinstance(value, dict) else None
        # a value holding a credential is quoted masked (``found``), never as written
        found = context.get("found") or ("nothing" if kind == "missing" or value is None else show(value))
        problems.append(Problem(path, found, _allowed(error, context), context.get("hint") or _HINTS.get(kind) or f"See {CONFIG_DOC}."))
    return problems


def _allowed(error: Any, context: dict[str, Any]) -> str:
    kind = error["type"]
    if "allowed" in context:
        return str(context["allowed"])
    if kind in _ALLOWED:
        return _ALLOWED[kind]
    if kind == "literal_error":
        return str(context["expected"])
    if kind == "greater_than_equal":
        return f"{context['ge']} or more"
    if kind == "greater_than":
        return f"more than {context['gt']}"
    if kind == "less_than_equal":
        return f"{context['le']} or less"
    if kind == "string_pattern_mismatch":
        return f"text matching {context['pattern']}"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def _fields_at(root: type[BaseModel], path: tuple[str | int, ...]) -> list[str]:
    """The settings of the section at ``path`` (a platform's, under ``platforms.NAME``)."""
    model: type[BaseModel] | None = root
    parts = list(path)
    while parts and model is not None:
        part = parts.pop(0)
        field = model.model_fields.get(part) if isinstance(part, str) else None
        if field is None:
            return []
        model, keyed = _section_model(field.annotation)
        if keyed and parts:
            parts.pop(0)  # the key of a mapping of sections (a platform's name)
    return list(model.model_fields) if model is not None else []


def _section_model(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The settings model an annotation holds (``X``, ``X | None``, ``dict[str, X]``), and whether keyed."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (Union, types.UnionType):
        for arg in args:
            model, keyed = _section_model(arg)
            if model is not None:
                return model, keyed
    if origin is dict and len(args) == 2:
        model, _ = _section_model(args[1])
        return model, True
    return None, False
