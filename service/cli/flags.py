"""Command-line flags derived from Settings: one `--flag` per field, so a new setting gets one.

A flag is its environment variable by another name: the parsed flags are written into
`os.environ` as NNSERVE_* before Settings is built, so flags win over the environment, the
environment wins over the defaults, and uvicorn's worker processes (which build their own
Settings in `create_app`) see exactly what the command line said.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
from pydantic_settings import SettingsError

from service.config import Settings

ENV_PREFIX: str = str(Settings.model_config.get("env_prefix", ""))

_METAVARS: dict[Any, str] = {int: "N", float: "X", Path: "DIR", str: "TEXT"}


class FlagError(Exception):
    """A flag or NNSERVE_* variable Settings refuses; the message is one line for the user."""


def flag_name(field: str) -> str:
    return "--" + field.replace("_", "-")


def env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


HELP_LENGTH = 240
"""A docstring longer than this shows its first sentence only: --help stays a list."""


def summary(text: str | None) -> str:
    """The docstring on one line; past HELP_LENGTH, its first sentence (the README has all)."""
    flat = " ".join((text or "").split())
    if len(flat) <= HELP_LENGTH:
        return flat
    return re.split(r"(?<=[.)])\s+(?=[A-Z])", flat, maxsplit=1)[0]


def default_text(field: FieldInfo) -> str:
    if field.default_factory is not None:
        return "computed at start"
    return str(field.default)


def add_settings_flags(parser: argparse.ArgumentParser, only: Iterable[str] | None = None) -> None:
    """One option per Settings field (or per field in `only`); its help names env var, default."""
    wanted = set(only) if only is not None else None
    for name, field in Settings.model_fields.items():
        if wanted is not None and name not in wanted:
            continue
        help_text = (
            f"{summary(field.description)} [{env_name(name)}, default {default_text(field)}]"
        )
        options: dict[str, Any] = {
            "dest": name,
            "default": None,
            "help": help_text.replace("%", "%%"),
        }
        if field.annotation is bool:
            options["action"] = argparse.BooleanOptionalAction
        elif get_origin(field.annotation) is Literal:
            options["choices"] = [str(choice) for choice in get_args(field.annotation)]
        else:
            options["metavar"] = _METAVARS.get(field.annotation, "VALUE")
        parser.add_argument(flag_name(name), **options)


def given_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The settings the command line set (argparse leaves the others None)."""
    return {
        name: getattr(args, name)
        for name in Settings.model_fields
        if getattr(args, name, None) is not None
    }


def export(flags: dict[str, Any]) -> None:
    """Write the flags into the environment, where Settings and uvicorn's workers read them."""
    for name, value in flags.items():
        os.environ[env_name(name)] = str(value).lower() if isinstance(value, bool) else str(value)


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from flags > NNSERVE_* environment > defaults; FlagError names what is wrong."""
    flags = given_flags(args)
    export(flags)
    try:
        return Settings()
    except ValidationError as exc:
        raise FlagError("; ".join(_describe(error, flags) for error in exc.errors())) from None
    except SettingsError as exc:
        raise FlagError(str(exc)) from None


def _describe(error: ErrorDetails, flags: dict[str, Any]) -> str:
    field = str(error["loc"][0]) if error["loc"] else ""
    source = (
        f"{flag_name(field)} {flags[field]}"
        if field in flags
        else f"{env_name(field)}={os.environ.get(env_name(field), '')}"
    )
    return f"{source}: {error['msg']}"
