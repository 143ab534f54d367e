"""A business report (`reports.Report`) as a file: JSON, CSV, Parquet, Excel, a self-contained HTML page, or a PNG
chart; and its figures as display text for tables (the CLI prints them with its table helper).

- CSV and Parquet hold the raw figures under the columns' keys (rates as fractions, seconds, money in the
  cost model's currency), for other tools; Excel holds them under the columns' titles, rates formatted in
  percent, with the notes on a second sheet.
- HTML is one file with nothing to fetch: inline CSS, the chart as inline SVG drawn by matplotlib (namespace
  declarations, comments and metadata removed, so the page names no URL), the table, the title, the range
  and the notes with the definitions used.
- PNG is the chart alone. Charts follow the report's `Chart`: one panel per `y` column; `bar` draws grouped
  bars, `stacked` stacked shares, `line` lines over time; at most MAX_SERIES series are drawn (the largest),
  the rest are summed into "other" in a stacked chart.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter  # type: ignore[import-untyped]
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from centralita.analytics.reports import Report
from centralita.core import i18n
from centralita.core.i18n import _

__all__ = [
    "BINARY_FORMATS",
    "FORMATS",
    "MAX_SERIES",
    "PNG_SIGNATURE",
    "Heading",
    "cell_text",
    "chart_svg",
    "figure",
    "to_csv",
    "to_frame",
    "to_html",
    "to_json",
    "write",
]

FORMATS = ("table", "json", "csv", "parquet", "xlsx", "html", "png")
BINARY_FORMATS = frozenset({"parquet", "xlsx", "png"})
MAX_SERIES = 10
MAX_CATEGORIES = 40
# ten distinct colours (matplotlib's tab10), and grey for the series summed into "other"
_PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#7f7f7f",
    "#17becf",
)
OTHER_COLOR = "#c5ccd4"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Heading:
    """What a file says about where its figures come from: the contact center and the local days."""

    tenant: str
    first: str
    last: str
    timezone: str

    def text(self) -> str:
        return _(
            "{tenant}, {first} – {last} ({tz})", tenant=self.tenant, first=self.first, last=self.last, tz=self.timezone
        )


# ---------------------------------------------------------------- display text


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    if whole < 86400:
        return f"{whole // 3600} h {whole % 3600 // 60} min"
    return f"{whole // 86400} d {whole % 86400 // 3600} h"


def cell_text(value: Any, kind: str, currency: str = "") -> str | None:
    """A figure as display text by its column kind; None (shown as —) for a missing figure."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if kind == "text":
        return str(value)
    if kind == "count":
        return str(int(value))
    if kind == "rate":
        return f"{100 * value:.1f} %"
    if kind == "seconds":
        return _duration(float(value))
    if kind == "money":
        return f"{value:,.2f} {currency}".strip()
    if kind == "points":
        return f"{value:+.1f}"
    if kind == "score":
        return f"{value:.2f}"
    return f"{value:.3f}"


# ---------------------------------------------------------------- data files

_DTYPES: dict[str, Any] = {"text": pl.String, "count": pl.Int64}


def to_frame(report: Report) -> pl.DataFrame:
    """The rows as a typed frame with the columns' keys: text as strings, counts as integers, the rest
    as floats (null where a figure is missing)."""
    schema = {c.key: _DTYPES.get(c.kind, pl.Float64) for c in report.columns}
    data = [[row.get(c.key) for c in report.columns] for row in report.rows]
    return pl.DataFrame(data, schema=schema, orient="row")


def to_csv(report: Report) -> str:
    """The rows as CSV (comma, header of the columns' keys, raw figures, empty for missing)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.key for c in report.columns])
    for row in report.rows:
        writer.writerow(["" if row.get(c.key) is None else row.get(c.key) for c in report.columns])
    return out.getvalue()


def to_json(report: Report, heading: Heading) -> str:
    """The whole report as JSON: name, title, range, columns (key, title, kind), rows (raw figures, null
    where missing), chart and notes."""
    doc = {
        "report": report.name,
        "title": report.title,
        "description": report.description,
        "tenant": heading.tenant,
        "from": heading.first,
        "to": heading.last,
        "timezone": heading.timezone,
        "currency": report.currency or None,
        "columns": [{"key": c.key, "title": c.title, "kind": c.kind} for c in report.columns],
        "rows": [{c.key: _json_value(row.get(c.key)) for c in report.columns} for row in report.rows],
        "chart": {
            "type": report.chart.type,
            "x": report.chart.x,
            "y": list(report.chart.y),
            "series": report.chart.series,
        },
        "notes": report.notes,
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def _json_value(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


def _write_xlsx(report: Report, path: Path, heading: Heading) -> None:
    frame = to_frame(report).rename({c.key: c.title for c in report.columns})
    formats: dict[Any, str] = {}
    for c in report.columns:
        if c.kind == "rate":
            formats[c.title] = "0.0%"
        elif c.kind == "money":
            formats[c.title] = "#,##0.00"
        elif c.kind in ("seconds", "score", "points", "number"):
            formats[c.title] = "0.00"
    notes = pl.DataFrame(
        {_("notes"): [report.title, heading.text(), report.description, *report.notes]}, schema={_("notes"): pl.String}
    )
    with xlsxwriter.Workbook(str(path)) as book:
        frame.write_excel(book, worksheet=_sheet(report.name), column_formats=formats, autofit=True)
        notes.write_excel(book, worksheet=_sheet(_("notes")), autofit=True)


def _sheet(name: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", "_", name)[:31]


# ---------------------------------------------------------------- charts


def _kind(report: Report, key: str) -> str:
    for c in report.columns:
        if c.key == key:
            return c.kind
    return "number"


def _title(report: Report, key: str) -> str:
    for c in report.columns:
        if c.key == key:
            return c.title
    return key


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def _unique(values: Sequence[Any]) -> list[Any]:
    seen: dict[Any, None] = {}
    for v in values:
        seen.setdefault(v, None)
    return list(seen)


def _largest_series(report: Report, key: str, series: str) -> list[Any]:
    totals: dict[Any, float] = {}
    for row in report.rows:
        value = row.get(key)
        totals[row[series]] = totals.get(row[series], 0.0) + (abs(float(value)) if value is not None else 0.0)
    return sorted(totals, key=lambda name: (-totals[name], str(name)))


def figure(report: Report) -> Figure | None:
    """The report's chart (matplotlib, no pyplot state), or None when there is nothing to draw."""
    chart = report.chart
    if not report.rows or not chart.y:
        return None
    xs = _unique([row[chart.x] for row in report.rows])[:MAX_CATEGORIES]
    ys = [chart.y[0]] if chart.type == "stacked" else list(chart.y)
    width = max(8.0, min(16.0, 3.0 + 0.35 * len(xs) * (1 if chart.series is None else 1.5)))
    fig = Figure(figsize=(width, 1.2 + 3.0 * len(ys)), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(ys), 1, squeeze=False)[:, 0]
    positions = list(range(len(xs)))
    names = [] if chart.series is None else _largest_series(report, ys[0], chart.series)  # one order, one color
    for ax, key in zip(axes, ys, strict=True):
        kind = _kind(report, key)
        scale, unit = _time_unit(report, key) if kind == "seconds" else (1.0, "")
        title = _title(report, key) + (f" ({unit})" if unit else "")
        if kind == "money" and report.currency:
            title += f" ({report.currency})"
        ax.set_title(title, loc="left", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
        if kind == "rate":
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{100 * v:.0f} %"))
        if chart.series is None:
            values = {row[chart.x]: row.get(key) for row in report.rows}
            if chart.type == "line":
                ax.plot(positions, [_number(values.get(x)) / scale for x in xs], marker="o", color=_PALETTE[0])
            else:
                ax.bar(positions, [_number(values.get(x)) / scale for x in xs], color=_PALETTE[0])
        else:
            _series(ax, report, key, xs, names, scale)
        ax.set_xlim(-0.6, len(xs) - 0.4)
        ax.set_xticks(
            positions,
            [str(x) for x in xs],
            rotation=45 if len(xs) > 6 else 0,
            ha="right" if len(xs) > 6 else "center",
            fontsize=8,
        )
        ax.tick_params(axis="y", labelsize=8)
    return fig


def _time_unit(report: Report, key: str) -> tuple[float, str]:
    """Seconds drawn in the unit that suits the largest: days, hours, minutes or seconds."""
    top = max((float(row[key]) for row in report.rows if row.get(key) is not None), default=0.0)
    for scale, unit in ((86400.0, "d"), (3600.0, "h"), (60.0, "min")):
        if top >= 2 * scale:
            return scale, unit
    return 1.0, "s"


def _series(ax: Any, report: Report, key: str, xs: list[Any], names: list[Any], scale: float = 1.0) -> None:
    chart = report.chart
    kind = chart.type
    assert chart.series is not None
    shown, rest = names[:MAX_SERIES], names[MAX_SERIES:]
    cell: dict[tuple[Any, Any], float] = {}
    for row in report.rows:
        value = row.get(key)
        cell[(row[chart.x], row[chart.series])] = _number(value) / scale
    positions = list(range(len(xs)))
    colors = [*_PALETTE, OTHER_COLOR]
    if kind == "stacked":
        bottom = [0.0] * len(xs)
        layers = [(str(name), [cell.get((x, name), 0.0) for x in xs]) for name in shown]
        if rest:
            layers.append((_("other"), [sum(cell.get((x, name), 0.0) for name in rest) for x in xs]))
        for (label, values), color in zip(layers, colors, strict=False):
            clean = [0.0 if math.isnan(v) else v for v in values]
            ax.bar(positions, clean, bottom=bottom, label=label, color=color)
            bottom = [b + v for b, v in zip(bottom, clean, strict=True)]
    elif kind == "line":
        for name, color in zip(shown, colors, strict=False):
            ax.plot(positions, [cell.get((x, name), math.nan) for x in xs], marker="o", label=str(name), color=color)
    else:
        width = 0.8 / max(1, len(shown))
        for i, (name, color) in enumerate(zip(shown, colors, strict=False)):
            at = [p - 0.4 + width * (i + 0.5) for p in positions]
            ax.bar(at, [cell.get((x, name), math.nan) for x in xs], width=width, label=str(name), color=color)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)


_SVG_DROP = (
    re.compile(r"<\?xml[^>]*\?>\s*"),
    re.compile(r"<!DOCTYPE[^>]*>\s*"),
    re.compile(r"<!--.*?-->\s*", re.DOTALL),
    re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL),
    re.compile(r'\s+xmlns(:\w+)?="[^"]*"'),
)


def chart_svg(report: Report) -> str:
    """The chart as an SVG element to inline in HTML, naming no URL (no namespaces, comments or metadata;
    `xlink:href` becomes SVG 2's `href`); empty when there is nothing to draw."""
    fig = figure(report)
    if fig is None:
        return ""
    out = io.StringIO()
    with rc_context({"svg.hashsalt": "centralita"}):  # the same report gives the same page
        fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    svg = out.getvalue()
    for pattern in _SVG_DROP:
        svg = pattern.sub("", svg)
    return svg.replace("xlink:href", "href").strip()


def _write_png(report: Report, path: Path) -> None:
    fig = figure(report)
    if fig is None:  # still a PNG: an empty chart says so
        fig = Figure(figsize=(6, 2))
        FigureCanvasAgg(fig)
        fig.text(0.5, 0.5, _("Nothing to show."), ha="center", va="center")
    fig.suptitle(report.title, x=0.01, ha="left", fontsize=12, fontweight="bold")
    fig.savefig(str(path), format="png", dpi=110, metadata={"Software": None})


# ---------------------------------------------------------------- HTML

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:72rem;
padding:0 1rem;color:#1d2733;background:#fff}
h1{font-size:1.5rem;margin:0 0 .25rem}
.range{color:#5a6675;margin:0 0 1rem}
.chart svg{max-width:100%;height:auto}
table{border-collapse:collapse;width:100%;font-size:.875rem;margin:1rem 0}
th,td{padding:.35rem .6rem;border-bottom:1px solid #e3e7ec;text-align:left;vertical-align:top}
th{background:#f4f6f8;font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.notes{font-size:.85rem;color:#3c4755}
footer{font-size:.75rem;color:#8792a0;margin-top:2rem}
"""


def to_html(report: Report, heading: Heading) -> str:
    """One self-contained page: title, range, description, chart (inline SVG), table and notes."""
    esc = html.escape
    head = "".join(f'<th class="{"" if c.kind == "text" else "num"}">{esc(c.title)}</th>' for c in report.columns)
    body = []
    for row in report.rows:
        cells = []
        for c in report.columns:
            text = cell_text(row.get(c.key), c.kind, report.currency)
            cells.append(
                f'<td class="{"" if c.kind == "text" else "num"}">{esc(text if text is not None else "—")}</td>'
            )
        body.append("<tr>" + "".join(cells) + "</tr>")
    table = (
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        if report.rows
        else f"<p>{esc(_('Nothing to show.'))}</p>"
    )
    notes = "".join(f"<li>{esc(n)}</li>" for n in report.notes)
    svg = chart_svg(report)
    return (
        f'<!DOCTYPE html>\n<html lang="{esc(i18n.language())}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(report.title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f'<h1>{esc(report.title)}</h1>\n<p class="range">{esc(heading.text())}</p>\n'
        f"<p>{esc(report.description)}</p>\n"
        + (f'<figure class="chart">{svg}</figure>\n' if svg else "")
        + f"{table}\n"
        + (f'<section class="notes"><h2>{esc(_("Definitions"))}</h2><ul>{notes}</ul></section>\n' if notes else "")
        + f"<footer>Centralita · {esc(report.name)}</footer>\n</body>\n</html>\n"
    )


# ---------------------------------------------------------------- one entry point


def write(report: Report, fmt: str, heading: Heading, output: Path | None) -> str | None:
    """Write the report in `fmt` to `output`; with no output, return the text (csv, html). The binary
    formats need an output (ValueError). `table` is the CLI's own (ValueError here)."""
    if fmt not in FORMATS or fmt == "table":
        raise ValueError(f"unknown file format {fmt!r}")
    if fmt in BINARY_FORMATS and output is None:
        raise ValueError(f"{fmt} needs an output file")
    if fmt == "csv":
        text = to_csv(report)
    elif fmt == "json":
        text = to_json(report, heading)
    elif fmt == "html":
        text = to_html(report, heading)
    else:
        assert output is not None
        if fmt == "parquet":
            to_frame(report).write_parquet(output)
        elif fmt == "xlsx":
            _write_xlsx(report, output, heading)
        else:
            _write_png(report, output)
        return None
    if output is None:
        return text
    output.write_text(text, encoding="utf-8")
    return None
