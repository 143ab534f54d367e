"""The prompt library: prompts flows name by id (`prompt: banco.bienvenida`), each with its text per
language. A flow says a library prompt in the contact's language, else in Spanish (the product speaks
Spanish first), else in the one language it has; `{{…}}` inside is evaluated like a `tts:` prompt's.
Configured in the config-as-code file (`prompts:`) and read over the API."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from centralita.core.actor import Actor
from centralita.core.i18n import _
from centralita.events.log import append_event
from centralita.store import tables as t

__all__ = ["PromptCreate", "PromptTexts", "do_save_prompt", "list_prompts", "prompt_texts"]

PROMPT_ID = r"^[A-Za-z_][A-Za-z0-9_.-]{0,99}$"
LANGUAGES = ("es", "en")
MAX_TEXT = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class PromptTexts(BaseModel):
    """A library prompt's text in Spanish and/or English (at least one)."""

    model_config = ConfigDict(extra="forbid")
    es: str | None = Field(default=None, min_length=1, max_length=MAX_TEXT, description="Spanish text")
    en: str | None = Field(default=None, min_length=1, max_length=MAX_TEXT, description="English text")

    @field_validator("es", "en")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        if value is not None and _CONTROL.search(value):
            raise ValueError(_("control characters are not allowed"))
        return value

    @model_validator(mode="after")
    def _some_text(self) -> PromptTexts:
        if self.es is None and self.en is None:
            raise ValueError(_("give the text in at least one language (es, en)"))
        return self

    def texts(self) -> dict[str, str]:
        return {lang: getattr(self, lang) for lang in LANGUAGES if getattr(self, lang) is not None}


class PromptCreate(PromptTexts):
    """A library prompt: its id and its text in Spanish and/or English."""

    code: str = Field(pattern=PROMPT_ID, description="the id flows name it by")


@dataclass(frozen=True)
class PromptInfo:
    code: str
    texts: dict[str, Any]


def do_save_prompt(session: Session, actor: Actor, data: PromptCreate) -> t.Prompt:
    """Create or change a library prompt (`prompt.saved` with its languages); the same texts change nothing."""
    texts = data.texts()
    now = actor.now()
    row = session.scalar(select(t.Prompt).where(t.Prompt.tenant_id == actor.tenant_id, t.Prompt.code == data.code))
    if row is not None and row.texts == texts:
        return row
    if row is None:
        row = t.Prompt(tenant_id=actor.tenant_id, code=data.code, texts=texts, created_at=now, updated_at=now)
        session.add(row)
    else:
        row.texts, row.updated_at = texts, now
    append_event(
        session, actor.tenant_id, "prompt.saved", now, {"code": data.code, "languages": sorted(texts)},
        user_id=actor.user_id,
    )  # fmt: skip
    return row


def list_prompts(session: Session, tenant_id: int) -> list[PromptInfo]:
    rows = session.scalars(select(t.Prompt).where(t.Prompt.tenant_id == tenant_id).order_by(t.Prompt.code))
    return [PromptInfo(r.code, dict(r.texts)) for r in rows]


def prompt_texts(session: Session, tenant_id: int, code: str) -> dict[str, Any] | None:
    texts = session.scalar(select(t.Prompt.texts).where(t.Prompt.tenant_id == tenant_id, t.Prompt.code == code))
    return dict(texts) if isinstance(texts, dict) else None
