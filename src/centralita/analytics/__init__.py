"""Knowledge from every contact: KPI formulas (pure), the history engine, reports (metrics.md)."""
