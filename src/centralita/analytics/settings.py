"""The tenant's metric choices, as analytics reads them (defined in core: configuration and the live
windows read them too)."""

from centralita.core.metrics_settings import CostModel, MetricsSettings, ServiceLevelSettings, metrics_settings

__all__ = ["CostModel", "MetricsSettings", "ServiceLevelSettings", "metrics_settings"]
