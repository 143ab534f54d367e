"""The `metrics:` settings: in the configuration file (checked, planned, applied, exported) and through
PATCH /api/tenant/settings; the reports and the live windows use the chosen variants."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from centralita.configuration.export import export_config
from centralita.configuration.plan import do_apply_config
from centralita.core.errors import InvalidInput
from centralita.core.metrics_settings import MetricsSettings, metrics_settings
from centralita.events.log import read_events
from centralita.service import Service
from centralita.store import tables as t
from tests.conftest import Api
from tests.factories import World, make_world

GOOD = """
metrics:
  service_level: {variant: short, short_abandon_s: 5}
  csat: {variant: mean}
  cost: {agent_hour: 30, per_channel: {voice: 0.05}}
"""


def _stored(service: Service, world: World) -> dict[str, object]:
    with service.db.read() as s:
        settings = s.scalar(select(t.Tenant.settings).where(t.Tenant.id == world.tenant_id)) or {}
        return dict(settings.get("metrics") or {})


def test_config_file_sets_exports_and_is_idempotent(service: Service) -> None:
    world = make_world(service, "norte")
    with service.db.write() as s:
        plan = do_apply_config(s, world.admin, GOOD, "m.yaml")
    assert [(st.kind, st.action, st.fields) for st in plan.steps] == [
        ("metrics", "create", ["cost", "csat", "service_level"])
    ]
    stored = _stored(service, world)
    assert stored["service_level"] == {"variant": "short", "short_abandon_s": 5}
    chosen = metrics_settings({"metrics": stored})
    assert chosen.service_level.variant == "short" and chosen.cost.agent_hour == 30 and chosen.fcr.window_days == 7
    with service.db.write() as s:
        again = do_apply_config(s, world.admin, GOOD, "m.yaml")
    assert not again.changed
    with service.db.read() as s:
        exported = export_config(s, world.tenant_id)
        events = [e.type for e in read_events(s, world.tenant_id)]
    assert "metrics:" in exported and "variant: short" in exported
    assert events.count("tenant.updated") == 1
    with service.db.write() as s:  # the export reads back to the same settings
        assert not do_apply_config(s, world.admin, exported, "export.yaml").changed


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("metrics:\n  service_level: {variant: bogus}\n", "metrics.service_level.variant"),
        ("metrics:\n  fcr: {window_days: 100000000000000000000000}\n", "metrics.fcr.window_days"),
        ("metrics:\n  nope: 1\n", "metrics.nope"),
        ("metrics: [1, 2]\n", "metrics"),
        ("metrics:\n  cost: {currency: euro}\n", "metrics.cost.currency"),
    ],
)
def test_config_file_errors_name_the_field_and_change_nothing(service: Service, text: str, field: str) -> None:
    world = make_world(service, "norte")
    with pytest.raises(InvalidInput) as err, service.db.write() as s:
        do_apply_config(s, world.admin, text, "bad.yaml")
    assert [".".join(map(str, e.loc)) for e in err.value.errors] == [field]
    assert err.value.errors[0].line is not None
    assert _stored(service, world) == {}


def test_tenant_settings_api_reads_and_sets_metrics(api: Api) -> None:
    admin = api.client("admin")
    assert admin.get("/api/tenant/settings").json()["metrics"] == MetricsSettings().model_dump(mode="json")
    resp = admin.patch("/api/tenant/settings", json={"metrics": {"abandon_rate": {"variant": "adjusted"}}})
    assert resp.status_code == 200, resp.text
    assert resp.json()["metrics"]["abandon_rate"]["variant"] == "adjusted"
    bad = admin.patch("/api/tenant/settings", json={"metrics": {"service_level": {"threshold_s": 10**30}}})
    assert bad.status_code == 422 and "metrics.service_level.threshold_s" in bad.text
    assert api.client("supervisor").patch("/api/tenant/settings", json={"metrics": {}}).status_code == 403
    # the other contact center keeps its defaults
    other = api.client("admin", api.b).get("/api/tenant/settings").json()["metrics"]
    assert other["abandon_rate"]["variant"] == "queued"
