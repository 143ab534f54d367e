"""Post-contact surveys, whatever the channel the customer answers on (metrics §4.3).

Three questions, each optional, at least one answered: CSAT 1–5 (satisfaction), CES 1–7 ("the company made
it easy for me") and NPS 0–10 ("how likely to recommend"). The answers are written once on the contact the
survey is about (`csat`, `ces`, `nps`, `survey_ts`) with its `contact.surveyed` event, in one transaction.

`do_answer_survey` is the one action, for every door: it knows nothing of chats, calls or links. A door
decides which contact its survey is about and that the customer may answer it now, then calls it:

- the web chat (today): the contact of the conversation that had its last agent, once the conversation
  ended (`contacts.chat.survey_contact`, `POST /api/chat/conversations/{id}/survey`);
- a voice flow's `survey` after the call (with the voice issue): the call's contact, the caller's digits;
- an e-mail's signed link to a survey page (with the e-mail issue): the contact the link names.

Whatever the door, the contact must have been served by an agent and have ended (after-contact work or
closed), and a contact is surveyed once: a second answer is a 409 and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from centralita.contacts.live import _event
from centralita.contacts.status import ContactStatus
from centralita.core.actor import Actor
from centralita.core.errors import Conflict, FieldError, InvalidInput
from centralita.core.i18n import _
from centralita.store import tables as t

__all__ = ["QUESTIONS", "SCALES", "SurveyAnswers", "do_answer_survey", "survey_open"]

# Each question's range, both ends included (metrics §4.3).
SCALES: dict[str, tuple[int, int]] = {"csat": (1, 5), "ces": (1, 7), "nps": (0, 10)}
QUESTIONS = tuple(SCALES)
_ENDED = frozenset({ContactStatus.ACW, ContactStatus.CLOSED})


@dataclass(frozen=True)
class SurveyAnswers:
    """The customer's answers; None is a question left unanswered."""

    csat: int | None = None
    ces: int | None = None
    nps: int | None = None

    def as_dict(self) -> dict[str, int | None]:
        return {"csat": self.csat, "ces": self.ces, "nps": self.nps}

    def problems(self) -> list[FieldError]:
        """What is wrong with the answers, each naming its question (none: they may be stored)."""
        answers = self.as_dict()
        out: list[FieldError] = []
        for name, value in answers.items():
            low, high = SCALES[name]
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high
            ):
                out.append(FieldError([name], _("must be a whole number from {low} to {high}", low=low, high=high)))
        if all(value is None for value in answers.values()):
            said = _("answer at least one of csat, ces and nps")
            out.extend(FieldError([name], said) for name in QUESTIONS)
        return out


def survey_open(row: t.Contact) -> bool:
    """Whether `row` may be surveyed now: an agent served it, it has ended and it was not answered yet."""
    return row.agent_connected_ts is not None and row.status in _ENDED and row.survey_ts is None


def do_answer_survey(session: Session, actor: Actor, row: t.Contact, answers: SurveyAnswers) -> t.Contact:
    """The customer's `answers` about `row` (locked by the caller), whatever door brought them: stored on the
    contact with `survey_ts` and the `contact.surveyed` event. Bad answers are a 422 naming the question; a
    contact no agent served or not ended yet, or surveyed already, a 409."""
    problems = answers.problems()
    if problems:
        raise InvalidInput("; ".join(str(p) for p in problems), problems)
    if row.survey_ts is not None:
        raise Conflict(_("the survey of contact {id} was answered already", id=row.id))
    if row.agent_connected_ts is None or row.status not in _ENDED:
        raise Conflict(_("the survey of contact {id} is not offered yet", id=row.id))
    row.csat, row.ces, row.nps = answers.csat, answers.ces, answers.nps
    row.survey_ts = actor.now()
    _event(session, actor, row, "contact.surveyed", answers.as_dict())
    return row
