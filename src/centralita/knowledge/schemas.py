"""The knowledge base's articles and the agent scripts: what the API and the configuration file take and
show. A script step's placeholders are checked here, so `config check` reports an unknown one at its line."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator

from centralita.core.i18n import _
from centralita.core.vocabulary import CODE, Strict, Text

__all__ = [
    "MAX_BODY",
    "PLACEHOLDER",
    "PLACEHOLDERS",
    "ArticleBody",
    "ArticleCreate",
    "ArticleHit",
    "ArticlePublic",
    "ContactScript",
    "ScriptBody",
    "ScriptCreate",
    "ScriptPublic",
    "ScriptRef",
    "ScriptStep",
    "placeholder_problem",
    "placeholders",
]

MAX_BODY = 20_000  # an article's Markdown, in characters
MAX_STEP = 4_000
Language = Literal["es", "en"]
ReasonCode = Annotated[str, Field(pattern=CODE)]
Tag = Annotated[str, Field(min_length=1, max_length=50)]

# What a step's text may name between braces; `collected.<name>` is any variable its flow collected.
PLACEHOLDERS = (
    "customer.name",
    "customer.segment",
    "customer.value_tier",
    "customer.lifecycle_stage",
    "customer.language",
    "contact.id",
    "contact.reason",
    "contact.reason_code",
    "contact.sub_reason",
    "contact.channel",
    "contact.language",
    "contact.queue",
    "collected.case_ref",
)
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\}")
_COLLECTED = re.compile(r"^collected\.[A-Za-z_][A-Za-z0-9_]{0,49}$")


def placeholders(text: str) -> list[str]:
    """The placeholders a text names (`{customer.name}` → `customer.name`), in order."""
    return [m.group(1) for m in PLACEHOLDER.finditer(text)]


def placeholder_problem(text: str) -> str | None:
    """Why a step's text cannot be filled in (an unknown placeholder), else None."""
    for name in placeholders(text):
        if name not in PLACEHOLDERS and not _COLLECTED.match(name):
            return _(
                "unknown placeholder {{{name}}}; use one of {known} or collected.<variable>",
                name=name,
                known=", ".join(PLACEHOLDERS),
            )
    return None


class ArticleBody(Strict):
    """An article as PUT takes it (the code is in the path)."""

    title: str = Field(min_length=1, max_length=200)
    body: Text = Field(min_length=1, max_length=MAX_BODY, description="Markdown text")
    tags: list[Tag] = Field(default_factory=list, max_length=30)
    reasons: list[ReasonCode] = Field(default_factory=list, max_length=50, description="contact reason codes")
    language: Language = "es"
    active: bool = Field(default=True, description="false: kept, but agents no longer find it")


class ArticleCreate(ArticleBody):
    code: str = Field(pattern=CODE)


class ArticlePublic(BaseModel):
    code: str
    title: str
    body: str
    tags: list[str]
    reasons: list[str]
    language: str
    active: bool
    updated_at: dt.datetime


class ArticleHit(BaseModel):
    """An article found: its excerpt is plain text around the first match (or the article's start)."""

    code: str
    title: str
    excerpt: str
    tags: list[str]
    reasons: list[str]
    updated_at: dt.datetime


class ScriptStep(Strict):
    title: str = Field(min_length=1, max_length=200)
    text: Text = Field(
        min_length=1, max_length=MAX_STEP, description="plain text; `{customer.name}`-style placeholders"
    )

    @field_validator("text")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        problem = placeholder_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value


class ScriptBody(Strict):
    """A script as PUT takes it (the code is in the path)."""

    name: str = Field(min_length=1, max_length=200)
    reasons: list[ReasonCode] = Field(
        default_factory=list, max_length=50, description="contact reason codes; each has at most one active script"
    )
    language: Language = "es"
    steps: list[ScriptStep] = Field(min_length=1, max_length=50)
    active: bool = True


class ScriptCreate(ScriptBody):
    code: str = Field(pattern=CODE)


class ScriptPublic(BaseModel):
    code: str
    name: str
    reasons: list[str]
    language: str
    steps: list[dict[str, str]]
    active: bool
    updated_at: dt.datetime


class ScriptRef(BaseModel):
    code: str
    name: str


class ContactScript(BaseModel):
    """The script for a contact's reason with its placeholders filled in (`—` where the data is missing);
    no script: `script` null and no steps."""

    script: ScriptRef | None
    steps: list[dict[str, str]]
