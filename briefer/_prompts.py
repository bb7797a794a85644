"""Versioned prompt templates, kept as plain text files in ``prompts/``.

A template file starts with a ``version: <stage>/v<n>`` line, then a blank line, then the text.
A stage's call is a pair: a system template, the same for every request (so providers cache it as
a shared prefix), and a user template that takes the request's data.
Placeholders are ``string.Template`` names (``$title``): values are inserted once and never
re-read, so braces or dollar signs in an article cannot break the filling. The version is sent
as ``LLMRequest.prompt_version``, so editing a template means bumping its version line, which
changes every request key and keeps old recordings from matching new prompts.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import cache

from briefer._resources import read_resource

__all__ = ["PromptTemplate", "load_prompt_pair", "load_template", "parse_template"]

_VERSION_LINE = re.compile(r"\Aversion:[ \t]*(?P<version>[a-z0-9_-]+/v\d+)[ \t]*\r?\n(?:\r?\n)?")


@dataclass(frozen=True)
class PromptTemplate:
    """One template: its file name, its version and its text without the version line."""

    name: str
    version: str
    text: str

    @property
    def placeholders(self) -> frozenset[str]:
        found = set()
        for match in string.Template.pattern.finditer(self.text):
            name = match.group("named") or match.group("braced")
            if name:
                found.add(name)
        return frozenset(found)

    def render(self, **values: str) -> str:
        """Fill every placeholder; a missing or unexpected value is an error, not a blank."""
        expected = self.placeholders
        missing = expected - values.keys()
        unexpected = values.keys() - expected
        if missing or unexpected:
            raise KeyError(
                f"template {self.name}: missing {sorted(missing)}, unexpected {sorted(unexpected)}"
            )
        return string.Template(self.text).substitute(values)


def parse_template(name: str, raw: str) -> PromptTemplate:
    match = _VERSION_LINE.match(raw)
    if match is None:
        raise ValueError(f"template {name} must start with a 'version: <stage>/v<n>' line")
    return PromptTemplate(name=name, version=match.group("version"), text=raw[match.end() :])


@cache
def load_template(name: str) -> PromptTemplate:
    """Read ``prompts/<name>`` once per process."""
    return parse_template(name, read_resource("prompts", name))


def load_prompt_pair(system_name: str, user_name: str) -> tuple[PromptTemplate, PromptTemplate]:
    """A stage's system and user templates, which share one version line (the request sends
    one) and of which only the user template takes data."""
    system, user = load_template(system_name), load_template(user_name)
    if system.version != user.version:
        raise ValueError(
            f"prompt templates disagree on their version: {system_name} is "
            f"{system.version}, {user_name} is {user.version}; bump both together"
        )
    if system.placeholders:
        raise ValueError(f"{system_name} must hold no per-request data")
    return system, user
