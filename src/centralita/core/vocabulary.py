"""The shared vocabulary of every feature: codes, channels, strict input models, choice checks.

Features import these from here (never from each other), so no two feature packages depend on each
other for a word.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import BaseModel, ConfigDict

from centralita.core.i18n import _

__all__ = ["CHANNELS", "CODE", "Strict", "one_of", "unknown_choice"]

CODE = r"^[a-z0-9][a-z0-9_.-]{0,49}$"
CHANNELS = ("voice", "chat", "email", "sms", "social")


class Strict(BaseModel):
    """An input model: unknown fields are an error, never silently dropped."""

    model_config = ConfigDict(extra="forbid")


def one_of(what: str, allowed: Sequence[str]) -> Callable[[str | None], str | None]:
    """A field validator: the value (when given) must be one of `allowed`; the error names them."""

    def check(value: str | None) -> str | None:
        if value is not None and value not in allowed:
            raise ValueError(unknown_choice(what, value, allowed))
        return value

    return check


def unknown_choice(what: str, value: object, allowed: Sequence[str]) -> str:
    """The message for a value not in `allowed`: `unknown <what> <value!r>; one of <allowed>`."""
    choices = ", ".join(allowed)
    messages: dict[str, Callable[[], str]] = {
        "channel": lambda: _("unknown channel {value!r}; one of {choices}", value=value, choices=choices),
        "direction": lambda: _("unknown direction {value!r}; one of {choices}", value=value, choices=choices),
        "overload metric": lambda: _(
            "unknown overload metric {value!r}; one of {choices}", value=value, choices=choices
        ),
    }
    message = messages.get(what)
    if message is not None:
        return message()
    # `what` is a field name (agent_selection, initiation_method, …): a technical token, kept as it is
    return _("unknown {what} {value!r}; one of {choices}", what=what, value=value, choices=choices)
