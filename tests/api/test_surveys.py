"""Post-contact surveys (contacts/surveys.py, `POST /api/chat/conversations/{id}/survey`): CSAT 1–5, CES 1–7
and NPS 0–10, each optional and at least one, stored once on the contact the agent served and in its
`contact.surveyed` event. Every bad answer is a 422 naming its field and writes nothing; a survey answered
already or not offered yet is a 409; another conversation's token reaches nothing. The action itself takes
any channel's contact (the seam for the voice flow's survey and the e-mail link). On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

import tests.flowrun.conftest as flowrun_fixtures
from centralita.contacts import surveys
from centralita.core.actor import Actor
from centralita.core.errors import Conflict, InvalidInput
from centralita.store import tables as t
from tests.api.test_chat_agent import _connected
from tests.api.test_conversations_api import _start, _written
from tests.flowrun.conftest import Live

live = flowrun_fixtures.live


def _ended(live: Live) -> tuple[int, dict[str, str]]:
    """A conversation an agent served and then ended: its survey is offered."""
    cid, token = _connected(live)
    assert live.client("agent").post(f"/api/contacts/{cid}/end").status_code == 200
    return cid, token


def _survey_events(live: Live, contact_id: int) -> list[dict[str, Any]]:
    with live.service.db.read() as s:
        return [
            e.data
            for e in s.scalars(
                select(t.Event).where(t.Event.type == "contact.surveyed", t.Event.contact_id == contact_id)
            )
        ]


def test_all_three_answers_land_on_the_served_contact_and_its_event(live: Live) -> None:
    cid, token = _ended(live)
    anon = live.api.anonymous()
    read = anon.get(f"/api/chat/conversations/{cid}/messages", headers=token).json()["survey"]
    assert read == {"offered": True, "answered": False, "csat": None, "ces": None, "nps": None}
    resp = anon.post(f"/api/chat/conversations/{cid}/survey", json={"csat": 4, "ces": 6, "nps": 9}, headers=token)
    assert resp.status_code == 200, resp.text
    assert resp.json()["survey"] == {"offered": True, "answered": True, "csat": 4, "ces": 6, "nps": 9}
    with live.service.db.read() as s:
        row = s.get(t.Contact, cid)
        assert row is not None and (row.csat, row.ces, row.nps) == (4, 6, 9) and row.survey_ts is not None
    assert _survey_events(live, cid) == [{"csat": 4, "ces": 6, "nps": 9}]
    assert live.contact(cid)["nps"] == 9  # the contact's own read shows it
    again = anon.get(f"/api/chat/conversations/{cid}/messages", headers=token).json()["survey"]
    assert again == {"offered": True, "answered": True, "csat": 4, "ces": 6, "nps": 9}


@pytest.mark.parametrize(
    ("body", "stored"),
    [({"nps": 0}, (None, None, 0)), ({"nps": 10, "csat": None}, (None, None, 10)), ({"ces": 1}, (None, 1, None))],
)
def test_each_question_is_optional(live: Live, body: dict[str, Any], stored: tuple[Any, ...]) -> None:
    cid, token = _ended(live)
    resp = live.api.anonymous().post(f"/api/chat/conversations/{cid}/survey", json=body, headers=token)
    assert resp.status_code == 200, resp.text
    with live.service.db.read() as s:
        row = s.get(t.Contact, cid)
        assert row is not None and (row.csat, row.ces, row.nps) == stored
    assert _survey_events(live, cid) == [dict(zip(("csat", "ces", "nps"), stored, strict=True))]


BAD: list[tuple[Any, list[str]]] = [
    # out of range, at both ends of every scale
    ({"csat": 0}, ["csat"]),
    ({"csat": 6}, ["csat"]),
    ({"ces": 0}, ["ces"]),
    ({"ces": 8}, ["ces"]),
    ({"nps": -1}, ["nps"]),
    ({"nps": 11}, ["nps"]),
    # wrong types: no booleans, floats (even whole ones), text, lists or objects
    ({"csat": True}, ["csat"]),
    ({"nps": False}, ["nps"]),
    ({"ces": 4.5}, ["ces"]),
    ({"nps": 9.0}, ["nps"]),
    ({"csat": "4"}, ["csat"]),
    ({"nps": [9]}, ["nps"]),
    ({"ces": {"value": 3}}, ["ces"]),
    # huge integers
    ({"nps": 2**63}, ["nps"]),
    ({"csat": 2**70}, ["csat"]),
    ({"ces": -(2**70)}, ["ces"]),
    # nothing answered
    ({}, ["csat", "ces", "nps"]),
    ({"csat": None, "ces": None, "nps": None}, ["csat", "ces", "nps"]),
    # other fields and other bodies
    ({"csat": 5, "recommend": 10}, ["recommend"]),
    ([5, 6, 7], ["body"]),
    ("5", ["body"]),
    ({"csat": 5, "nps": 12}, ["nps"]),
]


def test_bad_answers_are_a_422_naming_the_field_and_write_nothing(live: Live) -> None:
    cid, token = _ended(live)
    anon = live.api.anonymous()
    url = f"/api/chat/conversations/{cid}/survey"
    before = _written(live)
    for body, fields in BAD:
        resp = anon.post(url, json=body, headers={**token, "Accept-Language": "en"})
        assert resp.status_code == 422, (body, resp.text)
        assert resp.headers["content-type"].startswith("application/problem+json")
        named = [e["field"] for e in resp.json()["errors"]]
        assert named == fields, (body, named)
        for field in fields:
            assert field in resp.json()["detail"], (body, resp.json())
    empty = anon.post(url, json={}, headers={**token, "Accept-Language": "en"}).json()
    assert "answer at least one of csat, ces and nps" in empty["detail"]
    out = anon.post(url, json={"nps": 11}, headers={**token, "Accept-Language": "en"}).json()
    assert out["errors"] == [{"field": "nps", "message": "must be 10 or less"}]
    spanish = anon.post(url, json={}, headers={**token, "Accept-Language": "es"}).json()
    assert "responda al menos una de csat, ces y nps" in spanish["detail"]
    no_body = anon.post(url, headers=token)
    assert no_body.status_code == 422 and no_body.json()["errors"][0]["field"] == "body", no_body.text
    assert _written(live) == before
    with live.service.db.read() as s:
        row = s.get(t.Contact, cid)
        assert row is not None and row.survey_ts is None and (row.csat, row.ces, row.nps) == (None, None, None)
    # and a good answer still goes in afterwards
    assert anon.post(url, json={"csat": 5, "ces": 7, "nps": 10}, headers=token).status_code == 200


def test_answered_twice_is_a_409_and_keeps_the_first_answers(live: Live) -> None:
    cid, token = _ended(live)
    anon = live.api.anonymous()
    url = f"/api/chat/conversations/{cid}/survey"
    assert anon.post(url, json={"csat": 2, "nps": 3}, headers=token).status_code == 200
    before = _written(live)
    for body in ({"csat": 5}, {"nps": 10}, {"csat": 2, "nps": 3}):
        twice = anon.post(url, json=body, headers={**token, "Accept-Language": "en"})
        assert twice.status_code == 409, twice.text
        assert "answered already" in twice.json()["detail"], twice.text
    assert _written(live) == before
    with live.service.db.read() as s:
        row = s.get(t.Contact, cid)
        assert row is not None and (row.csat, row.ces, row.nps) == (2, None, 3)
    assert _survey_events(live, cid) == [{"csat": 2, "ces": None, "nps": 3}]


def test_a_survey_not_offered_yet_is_a_409(live: Live) -> None:
    with_agent, agent_token = _connected(live)  # with the agent, not ended
    cid, token, _ = _start(live)  # in its bot flow
    anon = live.api.anonymous()
    before = _written(live)
    for conversation, headers in ((with_agent, agent_token), (cid, token)):
        url = f"/api/chat/conversations/{conversation}/survey"
        resp = anon.post(url, json={"nps": 9}, headers={**headers, "Accept-Language": "en"})
        assert resp.status_code == 409 and "not offered" in resp.json()["detail"], resp.text
    assert _written(live) == before
    with live.service.db.read() as s:
        assert s.scalar(select(t.Event.id).where(t.Event.type == "contact.surveyed")) is None


def test_another_conversations_token_reaches_nothing(live: Live) -> None:
    cid, token = _ended(live)
    other_cid, other_token, _ = _start(live)
    anon = live.api.anonymous()
    before = _written(live)
    for headers in (other_token, {}, {"X-Chat-Token": token["X-Chat-Token"] + "x"}):
        resp = anon.post(f"/api/chat/conversations/{cid}/survey", json={"nps": 10}, headers=headers)
        assert resp.status_code == 404, resp.text
    # the right token on the wrong conversation id
    resp = anon.post(f"/api/chat/conversations/{other_cid}/survey", json={"nps": 10}, headers=token)
    assert resp.status_code == 404, resp.text
    assert _written(live) == before


def test_the_action_takes_any_channels_contact(live: Live) -> None:
    """The seam for the voice flow's survey and the e-mail link: a served, ended call is surveyed by the same
    action, which checks the answers itself and refuses a contact no agent served."""
    call = live.new_contact(channel="voice")
    live.available()
    cid = call["id"]
    agent = live.client("agent")
    assert agent.post(f"/api/contacts/{cid}/accept").status_code == 200
    actor = Actor(tenant_id=live.api.a.tenant_id, role="admin", username="ivr", clock=live.service.clock)
    with pytest.raises(Conflict), live.service.db.write() as s:  # still with its agent
        surveys.do_answer_survey(s, actor, s.get(t.Contact, cid), surveys.SurveyAnswers(nps=8))  # type: ignore[arg-type]
    assert agent.post(f"/api/contacts/{cid}/end").status_code == 200
    for bad in (surveys.SurveyAnswers(), surveys.SurveyAnswers(nps=11), surveys.SurveyAnswers(csat=True)):
        with pytest.raises(InvalidInput), live.service.db.write() as s:
            surveys.do_answer_survey(s, actor, s.get(t.Contact, cid), bad)  # type: ignore[arg-type]
    with live.service.db.write() as s:
        row = s.get(t.Contact, cid)
        assert row is not None and surveys.survey_open(row)
        surveys.do_answer_survey(s, actor, row, surveys.SurveyAnswers(csat=5, ces=7, nps=8))
    with live.service.db.read() as s:
        row = s.get(t.Contact, cid)
        assert row is not None and (row.channel, row.csat, row.ces, row.nps) == ("voice", 5, 7, 8)
        assert not surveys.survey_open(row)
    assert _survey_events(live, cid) == [{"csat": 5, "ces": 7, "nps": 8}]
    unserved = live.new_contact(channel="email")
    with pytest.raises(Conflict), live.service.db.write() as s:
        surveys.do_answer_survey(s, actor, s.get(t.Contact, unserved["id"]), surveys.SurveyAnswers(nps=8))  # type: ignore[arg-type]


def test_the_openapi_document_describes_the_three_questions(live: Live) -> None:
    doc = live.api.anonymous().get("/openapi.json").json()
    body = doc["components"]["schemas"]["SurveyBody"]
    assert body["additionalProperties"] is False and "at least one" in body["description"]
    for name, (low, high) in surveys.SCALES.items():
        kinds = body["properties"][name]["anyOf"]
        assert {"type": "integer", "minimum": low, "maximum": high} in kinds and {"type": "null"} in kinds
    answer = doc["components"]["schemas"]["Survey"]["properties"]
    assert {"offered", "answered", "csat", "ces", "nps"} <= set(answer)
    operation = doc["paths"]["/api/chat/conversations/{contact_id}/survey"]["post"]
    assert {"200", "404", "409", "422"} <= set(operation["responses"])
