"""A contact center's metric choices (`metrics:` in the configuration file, metrics.md §1.3) and its cost
model for cost to serve (§5). Every field has the metrics.md default, so `{}` is a valid setting."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from centralita.core.vocabulary import Strict

__all__ = ["CostModel", "MetricsSettings", "ServiceLevelSettings", "metrics_settings"]


class GenesysSettings(Strict):
    flow_outs: bool = False
    short_abandons: bool = False
    abandons: bool = False


class ServiceLevelSettings(Strict):
    variant: Literal["ans", "neg", "pos", "ign", "short", "amazon", "genesys"] = "neg"
    threshold_s: int | None = Field(default=None, ge=0, le=86400, description="null: each queue's threshold")
    short_abandon_s: int = Field(default=0, ge=0, le=3600)
    genesys: GenesysSettings = Field(default_factory=GenesysSettings)


class AbandonSettings(Strict):
    variant: Literal["queued", "answered_abandoned", "adjusted"] = "queued"


class HoldSettings(Strict):
    over: Literal["held", "handled"] = "held"


class TransferSettings(Strict):
    per: Literal["interaction", "record"] = "interaction"


class FcrSettings(Strict):
    window_days: int = Field(default=7, ge=1, le=90)
    match: Literal["reason", "sub_reason", "customer"] = "reason"


class CsatSettings(Strict):
    variant: Literal["top2", "mean"] = "top2"


class CesSettings(Strict):
    variant: Literal["mean", "agree", "index"] = "mean"


class CostPerContactSettings(Strict):
    denominator: Literal["handled", "inbound"] = "handled"


class CostModel(Strict):
    """Each contact's cost from its own activity (metrics.md §5): agent cost per hour × handle time +
    telephony per minute × call minutes + IVR per minute × flow minutes + a fixed cost per channel.
    An agent's own `hourly_cost` overrides `agent_hour`. Amounts in the tenant's currency."""

    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    agent_hour: float = Field(default=24.0, ge=0, le=1e6)
    telephony_minute: float = Field(default=0.01, ge=0, le=1e4)
    ivr_minute: float = Field(default=0.02, ge=0, le=1e4)
    per_channel: dict[Literal["voice", "chat", "email", "sms", "social"], Annotated[float, Field(ge=0, le=1e4)]] = (
        Field(default_factory=dict)
    )


class MetricsSettings(Strict):
    interval_minutes: Literal[15, 30, 60] = 30
    service_level: ServiceLevelSettings = Field(default_factory=ServiceLevelSettings)
    abandon_rate: AbandonSettings = Field(default_factory=AbandonSettings)
    average_hold: HoldSettings = Field(default_factory=HoldSettings)
    transfer_rate: TransferSettings = Field(default_factory=TransferSettings)
    fcr: FcrSettings = Field(default_factory=FcrSettings)
    csat: CsatSettings = Field(default_factory=CsatSettings)
    ces: CesSettings = Field(default_factory=CesSettings)
    cost_per_contact: CostPerContactSettings = Field(default_factory=CostPerContactSettings)
    cost: CostModel = Field(default_factory=CostModel)


def metrics_settings(tenant_settings: dict[str, Any] | None) -> MetricsSettings:
    """The tenant's choices from its stored settings (validated when they were stored)."""
    return MetricsSettings.model_validate((tenant_settings or {}).get("metrics") or {})
