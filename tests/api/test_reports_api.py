"""The reports API (`/api/reports`): supervisors and admins only; the KPIs are `analytics.queries.kpi_report`
on the same data; business reports from the registry; CSV downloads; every bad parameter a 422 naming it
(SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import random
from typing import Any

import polars as pl
import pytest
from sqlalchemy import select

from centralita.analytics.queries import DateRange, kpi_report
from centralita.analytics.reports import REPORTS, Chart, Column, Report, ReportQuery, ReportSpec
from centralita.api.routes.reports import MAX_DAYS
from centralita.core.clock import FakeClock
from centralita.core.metrics_settings import MetricsSettings
from centralita.store import tables as t
from tests.conftest import Api

UTC = dt.UTC
NOVEMBER = "from=2026-11-01&to=2026-11-30"
ES = {"Accept-Language": "es"}


def _history(api: Api, tenant_id: int, seed: int, n: int = 120) -> None:
    """`n` finished contacts in November 2026 over both queues and two channels: answered (handled, some
    rated), abandoned and other exits, with segments for the reason mix."""
    rng = random.Random(seed)
    with api.service.db.write() as s:
        queues = dict(s.execute(select(t.Queue.code, t.Queue.id).where(t.Queue.tenant_id == tenant_id)).all())
        for _i in range(n):
            start = dt.datetime(2026, 11, 1, 7, 0, tzinfo=UTC) + dt.timedelta(
                days=rng.randrange(30), minutes=rng.randrange(600)
            )
            wait = dt.timedelta(seconds=rng.randrange(0, 90))
            outcome = rng.choice(["answered", "answered", "answered", "abandoned", "other:callback"])
            row = t.Contact(
                tenant_id=tenant_id,
                channel=rng.choice(["voice", "chat"]),
                status="ended",
                queue_id=queues[rng.choice(["atencion", "cobros"])],
                segment=rng.choice(["retail", "premium", None]),
                initiation_ts=start,
                enqueue_ts=start,
                dequeue_ts=start + wait,
                queue_outcome=outcome,
                disconnect_ts=start + wait + dt.timedelta(seconds=5),
            )
            if outcome == "answered":
                talk = dt.timedelta(seconds=rng.randrange(30, 600))
                row.agent_connected_ts = start + wait
                row.agent_end_ts = start + wait + talk
                row.acw_start_ts = row.agent_end_ts
                row.acw_end_ts = row.agent_end_ts + dt.timedelta(seconds=rng.randrange(0, 60))
                row.disconnect_ts = row.agent_end_ts
                row.csat = rng.choice([None, 1, 3, 4, 5])
            s.add(row)


@pytest.fixture
def data(api: Api, clock: FakeClock) -> Api:
    clock.set(dt.datetime(2026, 12, 8, 10, 0, tzinfo=UTC))
    _history(api, api.a.tenant_id, seed=1)
    _history(api, api.b.tenant_id, seed=2, n=40)  # another contact center's: never in a's figures
    return api


def _problem_fields(answer: Any) -> list[str]:
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    return [e["field"] for e in answer.json()["errors"]]


def test_roles_agents_403_anonymous_401(api: Api) -> None:
    for path in ("/api/reports", f"/api/reports/kpis?{NOVEMBER}", f"/api/reports/reason-mix?{NOVEMBER}"):
        assert api.anonymous().get(path).status_code == 401, path
        assert api.client("agent").get(path).status_code == 403, path
        assert api.client("supervisor").get(path).status_code == 200, path
        assert api.client("admin").get(path).status_code == 200, path


def test_catalog_lists_kpis_and_every_report(api: Api, clock: FakeClock) -> None:
    clock.set(dt.datetime(2026, 12, 7, 23, 30, tzinfo=UTC))  # already the 8th in Madrid
    body = api.client("supervisor").get("/api/reports", headers=ES).json()
    assert body["timezone"] == "Europe/Madrid" and body["today"] == "2026-12-08"
    assert body["max_days"] == MAX_DAYS
    assert body["kpis"]["name"] == "kpis"
    assert {"queue", "channel", "agent", "hour", "day_of_week"} <= {d["name"] for d in body["kpis"]["dimensions"]}
    assert [i["name"] for i in body["kpis"]["intervals"]][:3] == ["15m", "30m", "1h"]
    kinds = {c["key"]: c["kind"] for c in body["kpis"]["columns"]}
    assert kinds["service_level"] == "rate" and kinds["aht_s"] == "seconds" and kinds["offered"] == "count"
    assert [r["name"] for r in body["reports"]] == list(REPORTS)
    mix = next(r for r in body["reports"] if r["name"] == "reason-mix")
    assert mix["title"] == "Motivos de contacto por segmento" and mix["description"]
    assert mix["chart"]["type"] == "stacked"
    english = api.client("supervisor").get("/api/reports").json()  # the tests' server speaks English
    assert next(r for r in english["reports"] if r["name"] == "reason-mix")["title"] == "Contact-reason mix by segment"


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"by": ["queue"]},
        {"by": ["queue", "channel"], "interval": "day", "threshold": 20.0},
        {"by": ["segment"], "interval": "week"},
        {"interval": "1h", "threshold": 0.0},
    ],
)
def test_kpis_equal_kpi_report_on_the_same_data(data: Api, query: dict[str, Any]) -> None:
    params = NOVEMBER
    if query.get("by"):
        params += "&by=" + ",".join(query["by"])
    if query.get("interval"):
        params += f"&interval={query['interval']}"
    if query.get("threshold") is not None:
        params += f"&threshold={query['threshold']}"
    answer = data.client("supervisor").get(f"/api/reports/kpis?{params}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    with data.service.db.read() as s:
        tenant = s.get(t.Tenant, data.a.tenant_id)
        assert tenant is not None
        expected = kpi_report(
            s,
            tenant,
            DateRange(dt.date(2026, 11, 1), dt.date(2026, 11, 30), "Europe/Madrid"),
            by=query.get("by", ()),
            interval=query.get("interval"),
            threshold_s=query.get("threshold"),
        )
    assert body["groups"] == json.loads(json.dumps(expected))
    assert (body["from"], body["to"], body["timezone"]) == ("2026-11-01", "2026-11-30", "Europe/Madrid")
    assert body["by"] == query.get("by", []) and body["interval"] == query.get("interval")
    if not query:
        assert body["groups"][0]["offered"] == 120  # tenant b's 40 are not here
        assert 0 <= body["groups"][0]["service_level"] <= 1


def test_by_repeated_or_comma_separated_alike(data: Api) -> None:
    client = data.client("supervisor")
    one = client.get(f"/api/reports/kpis?{NOVEMBER}&by=queue,channel").json()
    two = client.get(f"/api/reports/kpis?{NOVEMBER}&by=queue&by=channel").json()
    assert one == two and len(one["groups"]) == 4
    assert {(g["queue"], g["channel"]) for g in one["groups"]} == {
        (q, c) for q in ("atencion", "cobros") for c in ("chat", "voice")
    }


def test_an_empty_range_gives_zeros_and_nulls(data: Api) -> None:
    body = data.client("supervisor").get("/api/reports/kpis?from=2026-10-01&to=2026-10-02").json()
    (group,) = body["groups"]
    assert group["offered"] == 0 and group["service_level"] is None and group["aht_s"] is None


def test_business_report_from_the_registry(data: Api) -> None:
    answer = data.client("supervisor").get(f"/api/reports/reason-mix?{NOVEMBER}", headers=ES)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["name"] == "reason-mix" and body["title"] == "Motivos de contacto por segmento"
    assert [c["key"] for c in body["columns"]] == ["segment", "reason", "contacts", "share"]
    assert body["chart"] == {"type": "stacked", "x": "segment", "y": ["share"], "series": "reason"}
    assert sum(r["contacts"] for r in body["rows"]) == 120
    for segment in {r["segment"] for r in body["rows"]}:
        assert sum(r["share"] for r in body["rows"] if r["segment"] == segment) == pytest.approx(1)
    assert all(isinstance(n, str) for n in body["notes"]) and body["timezone"] == "Europe/Madrid"


def test_csv_downloads_parse(data: Api) -> None:
    client = data.client("supervisor")
    answer = client.get(f"/api/reports/kpis?{NOVEMBER}&by=queue&interval=week&format=csv")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == 'attachment; filename="kpis_2026-11-01_2026-11-30.csv"'
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    groups = client.get(f"/api/reports/kpis?{NOVEMBER}&by=queue&interval=week").json()["groups"]
    assert len(rows) == len(groups) > 2
    assert list(rows[0])[:3] == ["interval", "queue", "contacts"]
    for row, group in zip(rows, groups, strict=True):
        assert row["interval"] == group["interval"] and row["queue"] == group["queue"]
        assert int(row["offered"]) == group["offered"]
        assert (float(row["service_level"]) if row["service_level"] else None) == group["service_level"]
        assert row["aht_s"] == ("" if group["aht_s"] is None else repr(group["aht_s"]))

    report = client.get(f"/api/reports/reason-mix?{NOVEMBER}&format=csv")
    assert report.status_code == 200
    assert report.headers["content-disposition"] == 'attachment; filename="reason-mix_2026-11-01_2026-11-30.csv"'
    lines = list(csv.reader(io.StringIO(report.text)))
    assert lines[0] == ["segment", "reason", "contacts", "share"]
    assert sum(int(line[2]) for line in lines[1:]) == 120


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/reports/kpis?from=2026-13-01&to=2026-11-30", "from"),
        ("/api/reports/kpis?from=yesterday&to=2026-11-30", "from"),
        ("/api/reports/kpis?from=20261101&to=2026-11-30", "from"),
        ("/api/reports/kpis?from=2026-11-01&to=2026-02-30", "to"),
        ("/api/reports/kpis?to=2026-11-30", "from"),
        ("/api/reports/kpis?from=2026-11-01", "to"),
        ("/api/reports/kpis?from=2026-11-30&to=2026-11-01", "to"),
        ("/api/reports/kpis?from=2024-01-01&to=2026-11-30", "to"),
        ("/api/reports/kpis?from=2026-11-01&to=9999-12-31", "to"),
        ("/api/reports/kpis?from=0001-01-01&to=0001-01-02", "from"),
        ("/api/reports/kpis?from=2026-11-01%00&to=2026-11-30", "from"),
        (f"/api/reports/kpis?{NOVEMBER}&by=queue,nope", "by"),
        (f"/api/reports/kpis?{NOVEMBER}&by=queue%00", "by"),
        (f"/api/reports/kpis?{NOVEMBER}&by=queue,channel,agent,reason", "by"),
        (f"/api/reports/kpis?{NOVEMBER}&interval=2m", "interval"),
        ("/api/reports/kpis?from=2026-01-01&to=2026-11-30&interval=15m", "interval"),
        (f"/api/reports/kpis?{NOVEMBER}&threshold=99999999999999999999999999", "threshold"),
        (f"/api/reports/kpis?{NOVEMBER}&threshold=1e400", "threshold"),
        (f"/api/reports/kpis?{NOVEMBER}&threshold=nan", "threshold"),
        (f"/api/reports/kpis?{NOVEMBER}&threshold=-1", "threshold"),
        (f"/api/reports/kpis?{NOVEMBER}&threshold=ten", "threshold"),
        (f"/api/reports/kpis?{NOVEMBER}&format=xlsx", "format"),
        (f"/api/reports/nope?{NOVEMBER}", "name"),
        (f"/api/reports/reason%00mix?{NOVEMBER}", "name"),
        ("/api/reports/reason-mix?from=2026-11-01&to=2026-10-01", "to"),
        (f"/api/reports/reason-mix?{NOVEMBER}&interval=fortnight", "interval"),
    ],
)
def test_bad_parameters_are_422_naming_the_field(api: Api, path: str, field: str) -> None:
    answer = api.client("supervisor").get(path)
    assert field in _problem_fields(answer), answer.text


def test_bad_dates_say_why_in_the_request_language(api: Api) -> None:
    client = api.client("supervisor")
    spanish = client.get("/api/reports/kpis?from=2026-11-31&to=2026-12-01", headers=ES).json()
    assert spanish["errors"] == [{"field": "from", "message": "no es una fecha (AAAA-MM-DD): '2026-11-31'"}]
    english = client.get("/api/reports/kpis?from=2026-11-02&to=2026-11-01", headers={"Accept-Language": "en"})
    assert english.json()["errors"] == [{"field": "to", "message": "is before from (2026-11-02)"}]


def test_the_longest_range_is_allowed(api: Api) -> None:
    last = dt.date(2026, 11, 30)
    first = last - dt.timedelta(days=MAX_DAYS - 1)
    answer = api.client("supervisor").get(f"/api/reports/kpis?from={first}&to={last}&interval=day")
    assert answer.status_code == 200, answer.text
    too_long = api.client("supervisor").get(f"/api/reports/kpis?from={first - dt.timedelta(days=1)}&to={last}")
    assert _problem_fields(too_long) == ["to"]


def test_openapi_describes_the_reports(api: Api) -> None:
    spec = api.anonymous().get("/openapi.json").json()
    kpis = spec["paths"]["/api/reports/kpis"]["get"]
    assert set(kpis["responses"]["200"]["content"]) == {"application/json", "text/csv"}
    assert {p["name"] for p in kpis["parameters"]} == {"from", "to", "by", "interval", "threshold", "format"}
    assert "KpiRow" in spec["components"]["schemas"] and "ReportCatalog" in spec["components"]["schemas"]
    assert {"401", "403", "422"} <= set(spec["paths"]["/api/reports/{name}"]["get"]["responses"])


def _odd(facts: pl.DataFrame, q: ReportQuery, s: MetricsSettings) -> Report:
    """Fails on no contacts; a mean over nothing as NaN otherwise.

    (A report with faults of its own.)"""
    if facts.is_empty():
        raise ZeroDivisionError("no contacts")
    rows = [{"queue": "atencion", "mean": float("nan")}, {"queue": "cobros", "mean": float("inf")}]
    return Report(
        "odd",
        "Odd",
        "",
        [Column("queue", "queue", "text"), Column("mean", "mean", "score")],
        rows,
        Chart("bar", "queue", ["mean"]),
    )


def test_one_report_at_fault_neither_hides_the_others_nor_sends_nan(data: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(REPORTS, "odd", ReportSpec("odd", lambda: "Odd", _odd))
    client = data.client("supervisor")
    listed = client.get("/api/reports")
    assert listed.status_code == 200, listed.text
    odd = next(r for r in listed.json()["reports"] if r["name"] == "odd")
    assert odd["description"] == "Fails on no contacts; a mean over nothing as NaN otherwise." and odd["options"] == []
    assert any(r["name"] == "reason-mix" for r in listed.json()["reports"])
    answer = client.get(f"/api/reports/odd?{NOVEMBER}")
    assert answer.status_code == 200, answer.text
    assert answer.json()["rows"] == [{"queue": "atencion", "mean": None}, {"queue": "cobros", "mean": None}]
    assert client.get(f"/api/reports/odd?{NOVEMBER}&format=csv").text == "queue,mean\r\natencion,\r\ncobros,\r\n"


@dataclasses.dataclass(frozen=True)
class _Declaring:
    """A registration that names its options (by and interval choices, others), as ReportSpec may."""

    name: str
    title: Any
    run: Any
    by: tuple[str, ...] = ("segment", "channel")
    intervals: tuple[str, ...] = ("month", "week")
    options: tuple[str, ...] = ("top",)


def test_a_report_takes_only_the_options_it_declares(data: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[ReportQuery] = []

    def run(facts: pl.DataFrame, q: ReportQuery, s: MetricsSettings) -> Report:
        seen.append(q)
        return Report(
            "declaring", "Declaring", "Says its options.", [Column("n", "n")], [{"n": 1}], Chart("line", "n", ["n"])
        )

    monkeypatch.setitem(REPORTS, "declaring", _Declaring("declaring", lambda: "Declaring", run))
    client = data.client("supervisor")
    info = next(r for r in client.get("/api/reports").json()["reports"] if r["name"] == "declaring")
    assert [b["name"] for b in info["by"]] == ["segment", "channel"] and info["by"][1]["title"] == "channel"
    assert [i["name"] for i in info["intervals"]] == ["month", "week"]
    assert info["options"] == ["by", "interval", "top"]
    ok = client.get(f"/api/reports/declaring?{NOVEMBER}&by=channel&interval=week&top=5")
    assert ok.status_code == 200, ok.text
    assert seen[-1].interval == "week"
    for known in ("by", "top"):  # the fields this version of ReportQuery has
        if hasattr(seen[-1], known):
            assert getattr(seen[-1], known) == {"by": "channel", "top": 5}[known]
    for query, field in [
        ("by=queue", "by"),
        ("by=segment,channel", "by"),
        ("interval=day", "interval"),
        ("z=2", "z"),
        ("level=3", "level"),
        ("tier=alto", "tier"),
        ("top=0", "top"),
        ("top=99999999999999999999999", "top"),
    ]:
        assert _problem_fields(client.get(f"/api/reports/declaring?{NOVEMBER}&{query}")) == [field], query
    # a report that declares nothing takes none of them
    assert _problem_fields(client.get(f"/api/reports/reason-mix?{NOVEMBER}&top=3")) == ["top"]
