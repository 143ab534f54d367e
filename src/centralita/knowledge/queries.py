"""Reads: the knowledge base's search, and a contact's script with its customer's data filled in.

Search is case- and accent-insensitive (`normalize`: NFKD without combining marks, casefolded) and every
word of the query must appear in the title, the tags or the body. Ranking: the more words in the title,
the earlier (an article whose title holds them all comes first), then in the tags, then how often they
appear in the body, then the newest. It reads the tenant's active articles and ranks them in Python: a
contact center's knowledge base is hundreds of articles, not millions.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from centralita.knowledge.schemas import PLACEHOLDER, ArticleHit, ContactScript, ScriptRef
from centralita.store import tables as t

__all__ = [
    "MISSING_VALUE",
    "contact_articles",
    "contact_reasons",
    "contact_script",
    "excerpt",
    "fill",
    "normalize",
    "search_articles",
]

MISSING_VALUE = "—"  # what a placeholder shows when the contact has no such data
EXCERPT = 200
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_LINE_MARK = re.compile(r"(^|\n)[ \t]{0,3}(?:#{1,6}|>|[-*+]|\d+\.)[ \t]+")
_EMPHASIS = re.compile(r"(?<![\w*_])[*_]+(?=\S)|(?<=\S)[*_]+(?![\w*_])|`+|~~")
_SPACE = re.compile(r"\s+")


def _fold(char: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)).casefold()


def normalize(text: str) -> str:
    """Lower case without accents: `Tarjeta BLOQUEADA, ¿qué hago?` → `tarjeta bloqueada, ¿que hago?`."""
    return "".join(_fold(c) for c in text)


def _folded_with_origin(text: str) -> tuple[str, list[int]]:
    """The normalized text, and for each of its characters the index of the original one."""
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = _fold(char)
        out.append(folded)
        origin.extend([index] * len(folded))
    return "".join(out), origin


def _plain(markdown: str) -> str:
    """Markdown as one line of plain text (headings, emphasis and link targets dropped)."""
    text = _EMPHASIS.sub("", _LINE_MARK.sub(r"\1", _LINK.sub(r"\1", markdown)))
    return _SPACE.sub(" ", text).strip()


def _words(query: str) -> list[str]:
    return list(dict.fromkeys(w for w in re.split(r"[^\w]+", normalize(query)) if w))


def excerpt(body: str, words: list[str], size: int = EXCERPT) -> str:
    """About `size` characters of the body's plain text around its first match (else its start)."""
    plain = _plain(body)
    folded, origin = _folded_with_origin(plain)
    hits = [i for i in (folded.find(w) for w in words) if i >= 0]
    if len(plain) <= size:
        return plain
    start = 0
    if hits and origin:
        at = origin[min(hits)]
        start = max(0, at - size // 3)
        if start > 0:
            space = plain.find(" ", start)
            start = space + 1 if 0 <= space < at else start
    end = min(len(plain), start + size)
    if end < len(plain):
        space = plain.rfind(" ", start, end)
        end = space if space > start else end
    text = plain[start:end].strip()
    return ("…" if start > 0 else "") + text + ("…" if end < len(plain) else "")


@dataclass(frozen=True)
class _Ranked:
    key: tuple[Any, ...]
    row: t.KbArticle


def _rank(row: t.KbArticle, words: list[str]) -> tuple[Any, ...] | None:
    title = normalize(row.title)
    tags = normalize(" ".join(row.tags or []))
    body = normalize(row.body)
    in_title = in_tags = in_body = 0
    for word in words:
        found = False
        if word in title:
            in_title, found = in_title + 1, True
        if word in tags:
            in_tags, found = in_tags + 1, True
        count = body.count(word)
        if count:
            in_body, found = in_body + min(count, 50), True
        if not found:
            return None
    return (-in_title, -in_tags, -in_body, -row.updated_at.timestamp(), row.code)


def _reason_codes(session: Session, tenant_id: int, code: str) -> set[str]:
    """A reason and its parent (a sub-reason's articles include its reason's)."""
    codes = {code}
    parent_id = session.scalar(select(t.Reason.parent_id).where(t.Reason.tenant_id == tenant_id, t.Reason.code == code))
    if parent_id is not None:
        parent = session.scalar(select(t.Reason.code).where(t.Reason.id == parent_id))
        if parent is not None:
            codes.add(parent)
    return codes


def _hit(row: t.KbArticle, words: list[str]) -> ArticleHit:
    return ArticleHit(
        code=row.code,
        title=row.title,
        excerpt=excerpt(row.body, words),
        tags=list(row.tags or []),
        reasons=list(row.reasons or []),
        updated_at=row.updated_at,
    )


def _active_articles(session: Session, tenant_id: int) -> Iterable[t.KbArticle]:
    return session.scalars(select(t.KbArticle).where(t.KbArticle.tenant_id == tenant_id, t.KbArticle.active.is_(True)))


def search_articles(
    session: Session, tenant_id: int, q: str | None, reason: str | None = None, limit: int = 20
) -> list[ArticleHit]:
    """Active articles matching every word of `q` (all without `q`), optionally about a reason, ranked."""
    words = _words(q or "")
    reasons = _reason_codes(session, tenant_id, reason) if reason else None
    ranked: list[_Ranked] = []
    for row in _active_articles(session, tenant_id):
        if reasons is not None and not reasons & set(row.reasons or []):
            continue
        if words:
            key = _rank(row, words)
            if key is None:
                continue
        else:
            key = (normalize(row.title), row.code)
        ranked.append(_Ranked(key, row))
    ranked.sort(key=lambda r: r.key)
    return [_hit(r.row, words) for r in ranked[:limit]]


def contact_reasons(session: Session, contact: t.Contact) -> list[str]:
    """The contact's reason codes, most precise first: its sub-reason, its reason, the reason's parent;
    else the reason its flow collected (and that code's parent)."""
    codes: list[str] = []
    for reason_id in (contact.sub_reason_id, contact.reason_id):
        if reason_id is None:
            continue
        row = session.get(t.Reason, reason_id)
        if row is None or row.tenant_id != contact.tenant_id:
            continue
        codes.append(row.code)
        if row.parent_id is not None:
            parent = session.get(t.Reason, row.parent_id)
            if parent is not None:
                codes.append(parent.code)
    collected = (contact.collected or {}).get("reason")
    if not codes and isinstance(collected, str) and collected:
        codes.extend(sorted(_reason_codes(session, contact.tenant_id, collected), key=lambda c: c != collected))
    return list(dict.fromkeys(codes))


def contact_articles(session: Session, contact: t.Contact, limit: int = 5) -> list[ArticleHit]:
    """The active articles about the contact's reason (its most precise reason first, then the newest)."""
    codes = contact_reasons(session, contact)
    if not codes:
        return []
    ranked: list[_Ranked] = []
    for row in _active_articles(session, contact.tenant_id):
        linked = [codes.index(c) for c in row.reasons or [] if c in codes]
        if linked:
            ranked.append(_Ranked((min(linked), -row.updated_at.timestamp(), row.code), row))
    ranked.sort(key=lambda r: r.key)
    return [_hit(r.row, []) for r in ranked[:limit]]


def _text(value: Any) -> str:
    if value is None or value == "" or isinstance(value, dict | list):
        return MISSING_VALUE
    return str(value)


def _reason_name(session: Session, tenant_id: int, code: str | None, language: str) -> str | None:
    reason = (
        session.scalar(select(t.Reason).where(t.Reason.tenant_id == tenant_id, t.Reason.code == code)) if code else None
    )
    if reason is None:
        return code
    return reason.name_en if language == "en" else reason.name_es


def _values(session: Session, contact: t.Contact, language: str, codes: list[str]) -> dict[str, str]:
    """The placeholders' values: `codes` is the contact's reasons, most precise first (the last one is the
    reason itself, any before it a sub-reason)."""
    reason_code = codes[-1] if codes else None
    sub_code = codes[0] if len(codes) > 1 else None
    customer = session.get(t.Customer, contact.customer_id) if contact.customer_id is not None else None
    if customer is not None and customer.tenant_id != contact.tenant_id:
        customer = None
    queue = session.get(t.Queue, contact.queue_id) if contact.queue_id is not None else None
    collected = contact.collected or {}
    case = collected.get("case")
    values: dict[str, Any] = {
        "customer.name": customer.name if customer else contact.customer_name,
        "customer.segment": customer.segment if customer else contact.segment,
        "customer.value_tier": customer.value_tier if customer else contact.value_tier,
        "customer.lifecycle_stage": customer.lifecycle_stage if customer else contact.lifecycle_stage,
        "customer.language": customer.language if customer else None,
        "contact.id": contact.id,
        "contact.reason": _reason_name(session, contact.tenant_id, reason_code, language),
        "contact.reason_code": reason_code,
        "contact.sub_reason": _reason_name(session, contact.tenant_id, sub_code, language),
        "contact.channel": contact.channel,
        "contact.language": contact.language,
        "contact.queue": queue.name if queue is not None else None,
        "collected.case_ref": case.get("reference") if isinstance(case, dict) else None,
    }
    variables = collected.get("vars")
    if isinstance(variables, dict):
        for name, value in variables.items():
            values.setdefault(f"collected.{name}", value)
    return {key: _text(value) for key, value in values.items()}


def fill(text: str, values: dict[str, str]) -> str:
    """A step's text with its placeholders replaced in one pass (an unknown or missing one by `—`): a
    customer's data that looks like a placeholder stays as it is."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), MISSING_VALUE), text)


def contact_script(session: Session, contact: t.Contact) -> ContactScript:
    """The active script for the contact's most precise reason that has one, filled in."""
    codes = contact_reasons(session, contact)
    scripts = list(
        session.scalars(
            select(t.AgentScript)
            .where(t.AgentScript.tenant_id == contact.tenant_id, t.AgentScript.active.is_(True))
            .order_by(t.AgentScript.code)
        )
    )
    for code in codes:
        for script in scripts:
            if code in (script.reasons or []):
                values = _values(session, contact, script.language, codes)
                steps = [
                    {"title": str(step.get("title", "")), "text": fill(str(step.get("text", "")), values)}
                    for step in script.steps or []
                    if isinstance(step, dict)
                ]
                return ContactScript(script=ScriptRef(code=script.code, name=script.name), steps=steps)
    return ContactScript(script=None, steps=[])
