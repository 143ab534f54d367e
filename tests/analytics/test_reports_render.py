"""Business reports written in every format and read back."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import polars as pl
import pytest

from centralita.analytics.render import (
    FORMATS,
    PNG_SIGNATURE,
    Heading,
    cell_text,
    chart_svg,
    to_frame,
    to_html,
    write,
)
from centralita.analytics.reports import Chart, Column, Report

HEADING = Heading("banco", "2026-03-01", "2026-03-31", "Europe/Madrid")


def sample(chart: Chart | None = None) -> Report:
    return Report(
        name="cost-to-serve",
        title="Cost to serve <by segment>",
        description="Total cost & contacts.",
        columns=[
            Column("segment", "segment", "text"),
            Column("contacts", "contacts", "count"),
            Column("share", "share", "rate"),
            Column("cost", "total cost", "money"),
            Column("aht_s", "AHT", "seconds"),
        ],
        rows=[
            {"segment": "premium", "contacts": 3, "share": 0.25, "cost": 12.5, "aht_s": 185.0},
            {"segment": "empresas", "contacts": 9, "share": 0.75, "cost": 4.0, "aht_s": None},
        ],
        chart=chart or Chart("bar", x="segment", y=["cost", "share"]),
        notes=["A contact costs its agent time.", "https in a note is escaped text, never fetched"],
        currency="EUR",
    )


def test_display_text_per_kind() -> None:
    assert cell_text(0.1234, "rate") == "12.3 %"
    assert cell_text(42.25, "seconds") == "42.2 s" and cell_text(405, "seconds") == "6 min 45 s"
    assert cell_text(2 * 86400 + 7200, "seconds") == "2 d 2 h" and cell_text(3 * 3600 + 60, "seconds") == "3 h 1 min"
    assert cell_text(1234.5, "money", "EUR") == "1,234.50 EUR"
    assert cell_text(12.0, "points") == "+12.0" and cell_text(3.456, "score") == "3.46"
    assert cell_text(None, "count") is None and cell_text(float("nan"), "rate") is None
    assert cell_text(1.08333, "number") == "1.083" and cell_text(7, "count") == "7"


def test_csv_round_trip(tmp_path: Path) -> None:
    report = sample()
    text = write(report, "csv", HEADING, None)
    assert text is not None and text.splitlines()[0] == "segment,contacts,share,cost,aht_s"
    back = pl.read_csv(io.StringIO(text), schema=to_frame(report).schema)
    assert back.equals(to_frame(report))
    path = tmp_path / "r.csv"
    assert write(report, "csv", HEADING, path) is None
    assert pl.read_csv(path, schema=to_frame(report).schema).equals(to_frame(report))


def test_parquet_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "r.parquet"
    write(sample(), "parquet", HEADING, path)
    back = pl.read_parquet(path)
    assert back.equals(to_frame(sample()))
    assert back.schema["contacts"] == pl.Int64 and back["aht_s"].to_list() == [185.0, None]


def _xlsx_cells(path: Path) -> tuple[list[str], str, list[str]]:
    """Shared strings, the first sheet's XML and the sheet names of an .xlsx (no Excel reader is installed)."""
    with zipfile.ZipFile(path) as z:
        shared = re.findall(r"<t[^>]*>([^<]*)</t>", z.read("xl/sharedStrings.xml").decode())
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        names = re.findall(r'<sheet name="([^"]+)"', z.read("xl/workbook.xml").decode())
    return shared, sheet, names


def test_xlsx_holds_titles_figures_and_notes(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    write(sample(), "xlsx", HEADING, path)
    shared, sheet, names = _xlsx_cells(path)
    assert names == ["cost-to-serve", "notes"]
    assert {"segment", "contacts", "total cost", "premium", "empresas"} <= set(shared)
    assert "A contact costs its agent time." in shared
    values = [float(v) for v in re.findall(r"<v>([^<]*)</v>", sheet)]
    for figure in (3, 0.25, 12.5, 185, 9, 0.75, 4):
        assert figure in values


def test_html_is_self_contained(tmp_path: Path) -> None:
    page = to_html(sample(), HEADING)
    assert "<svg" in page and "</svg>" in page and "<table>" in page
    assert not re.search(r"https?://", page.replace("https in a note", ""))
    assert "<script" not in page and "<link" not in page and "xlink:" not in page
    assert "Cost to serve &lt;by segment&gt;" in page and "2026-03-01 – 2026-03-31" in page
    assert "12.50 EUR" in page and "25.0 %" in page and "—" in page
    assert "A contact costs its agent time." in page
    path = tmp_path / "r.html"
    write(sample(), "html", HEADING, path)
    assert path.read_text(encoding="utf-8") == page


@pytest.mark.parametrize(
    "chart",
    [
        Chart("bar", x="segment", y=["cost"]),
        Chart("stacked", x="segment", y=["share"], series="segment"),
        Chart("line", x="segment", y=["contacts", "aht_s"]),
        Chart("bar", x="segment", y=["share"], series="segment"),
    ],
)
def test_png_for_every_chart_type(tmp_path: Path, chart: Chart) -> None:
    path = tmp_path / "r.png"
    write(sample(chart), "png", HEADING, path)
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    assert chart_svg(sample(chart)).startswith("<svg")


def test_empty_report_still_renders(tmp_path: Path) -> None:
    empty = sample()
    empty.rows = []
    assert chart_svg(empty) == ""
    write(empty, "png", HEADING, tmp_path / "e.png")
    assert (tmp_path / "e.png").read_bytes().startswith(PNG_SIGNATURE)
    assert "<svg" not in to_html(empty, HEADING)


def test_json_and_binary_formats_need_a_file() -> None:
    doc = json.loads(write(sample(), "json", HEADING, None) or "")
    assert doc["report"] == "cost-to-serve" and doc["rows"][1]["aht_s"] is None
    assert [c["kind"] for c in doc["columns"]] == ["text", "count", "rate", "money", "seconds"]
    for fmt in ("parquet", "xlsx", "png"):
        with pytest.raises(ValueError, match="needs an output"):
            write(sample(), fmt, HEADING, None)
    with pytest.raises(ValueError):
        write(sample(), "table", HEADING, None)
    assert set(FORMATS) == {"table", "json", "csv", "parquet", "xlsx", "html", "png"}
