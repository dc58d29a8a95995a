"""Model URIs (``models:/NAME/VERSION``, ``models:/NAME@ALIAS``) and the names they use.

Every place that takes a model takes one of these (``load_model``, ``export``, the
validation notebook's ``model_uri`` parameter), so they are parsed in one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SCHEME = "models:/"
MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")
ALIAS_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


def check_model_name(name: str) -> str:
    if not isinstance(name, str) or not MODEL_NAME.match(name):
        raise ValueError(
            f"model name {name!r} is not valid: use letters, digits, '_', '.' and '-' "
            "(at most 255, starting with a letter or digit)"
        )
    return name


def check_alias(alias: str) -> str:
    if not isinstance(alias, str) or not ALIAS_NAME.match(alias):
        raise ValueError(
            f"alias {alias!r} is not valid: use letters, digits, '_' and '-' (at most 64, "
            "starting with a letter), e.g. production"
        )
    return alias


@dataclass(frozen=True)
class ModelURI:
    """One model version by number or by alias (exactly one of the two)."""

    name: str
    version: int | None = None
    alias: str | None = None

    def __str__(self) -> str:
        if self.alias is not None:
            return f"{SCHEME}{self.name}@{self.alias}"
        return f"{SCHEME}{self.name}/{self.version}"

    @classmethod
    def of_version(cls, name: str, version: int) -> ModelURI:
        return cls(name, version=version)


def is_model_uri(text: str) -> bool:
    return isinstance(text, str) and text.startswith(SCHEME)


def parse_model_uri(text: str, *, scheme_optional: bool = False) -> ModelURI:
    """``models:/churn/3`` or ``models:/churn@production`` (with ``scheme_optional``, also
    ``churn/3`` and ``churn@production``, as the CLI takes them)."""
    if is_model_uri(text):
        body = text[len(SCHEME) :]
    elif scheme_optional and isinstance(text, str):
        body = text
    else:
        raise ValueError(
            f"{text!r} is not a model URI (models:/NAME/VERSION or models:/NAME@ALIAS)"
        )
    if "@" in body:
        name, _, alias = body.partition("@")
        return ModelURI(check_model_name(name), alias=check_alias(alias))
    name, sep, number = body.rpartition("/")
    if not sep or not number.isdigit() or int(number) < 1:
        raise ValueError(
            f"{text!r} names no version: write models:/NAME/VERSION (a number from 1) or "
            "models:/NAME@ALIAS"
        )
    return ModelURI(check_model_name(name), version=int(number))
