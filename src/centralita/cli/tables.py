"""Tables that stay readable in a narrow terminal (80 columns and less).

Each column is as wide as its longest line when the terminal allows, else narrower down to its longest
unbreakable piece (a word, a code, `80 % ≤ 20 s`): codes, ids and figures are never broken, text wraps
between words. When even that does not fit, the columns that matter least go (`Col.drop`, highest
first), and the caption names them: a wider terminal, or `--json`, shows them.

Cells are plain text: `\\n` starts a new line, and `keep("60 s")` joins words that must stay on one line.
Text is wrapped here, not by Rich, so that the layout is exactly the one computed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from rich import box
from rich.cells import cell_len
from rich.table import Table
from rich.text import Text

from centralita.core.i18n import _

GLUE = "\u00a0"  # a space where a line must not break; shown as a space
GAP = 2  # blank columns between two columns
FOLD = 16
SAMPLE = 100  # rows that decide the column widths of a long table
MISSING = "—"


def keep(text: str) -> str:
    """`text` as one unbreakable piece: `keep("80 % ≤ 20 s")`."""
    return text.replace(" ", GLUE)


@dataclass(frozen=True)
class Col:
    key: str  # the field of the row shown in this column
    header: str  # the column's title, translated
    drop: int = 0  # 0: always shown; when the terminal is too narrow, the highest `drop` goes first
    wrap: bool = True  # False: each line on one line (a code, a time), never wrapped
    right: bool = False  # right-aligned (figures)
    fold: bool = False  # long text (event data): a piece wider than FOLD characters may be cut across lines
    bold: bool = False


def _words(text: str) -> list[str]:
    return [w for line in text.split("\n") for w in line.split(" ") if w]


def min_width(text: str, wrap: bool = True) -> int:
    """The narrowest this text can be: its longest unbreakable piece (its longest line when not wrapped)."""
    if not wrap:
        return max_width(text)
    return max((cell_len(w) for w in _words(text)), default=0)


def max_width(text: str) -> int:
    """The width of its longest line."""
    return max((cell_len(line) for line in text.split("\n")), default=0)


def wrap(text: str, width: int) -> str:
    """`text` with its lines broken between words to fit `width`; a piece wider than `width` is cut."""
    out: list[str] = []
    for line in text.split("\n"):
        current = ""
        for word in line.split(" "):
            if not word:
                continue
            while cell_len(word) > width:  # only when a single piece is wider than the whole column
                if current:
                    out.append(current)
                    current = ""
                head = _cut(word, width)
                out.append(head)
                word = word[len(head) :]
            if not current:
                current = word
            elif cell_len(current) + 1 + cell_len(word) <= width:
                current += " " + word
            else:
                out.append(current)
                current = word
        out.append(current)
    return "\n".join(out).replace(GLUE, " ")


def _cut(word: str, width: int) -> str:
    head = ""
    for ch in word:
        if cell_len(head + ch) > width:
            break
        head += ch
    return head or word[:1]


@dataclass(frozen=True)
class Layout:
    columns: list[Col]  # the columns shown, in order
    widths: list[int]  # their widths (without the gaps)
    hidden: list[Col]  # the columns left out for lack of room


def layout(columns: Sequence[Col], cells: Sequence[Sequence[str]], width: int) -> Layout:
    """Which columns to show and how wide, for rows of `cells` (one string per column) in `width` characters."""
    maxs = [max([max_width(c.header), *(max_width(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    mins = [
        max(min_width(c.header), min(FOLD, maxs[i]))
        if c.fold
        else max([min_width(c.header), *(min_width(row[i], c.wrap) for row in cells)])
        for i, c in enumerate(columns)
    ]
    shown = list(range(len(columns)))

    def needed(indexes: list[int]) -> int:
        return sum(mins[i] for i in indexes) + GAP * max(len(indexes) - 1, 0)

    while needed(shown) > width:
        droppable = [i for i in shown if columns[i].drop > 0]
        if not droppable:
            break
        shown.remove(max(droppable, key=lambda i: (columns[i].drop, i)))
    room = width - GAP * max(len(shown) - 1, 0)
    if sum(maxs[i] for i in shown) <= room:
        widths = {i: maxs[i] for i in shown}
    else:
        widths = _share(room, shown, mins, maxs, [columns[i].header for i in range(len(columns))], cells)
    excess = sum(widths.values()) - room
    while excess > 0:  # a single piece wider than the terminal: cut, widest first
        widest = max(shown, key=lambda i: (widths[i], i))
        if widths[widest] <= 1:
            break
        widths[widest] -= 1
        excess -= 1
    return Layout(
        columns=[columns[i] for i in shown],
        widths=[widths[i] for i in shown],
        hidden=[c for i, c in enumerate(columns) if i not in shown],
    )


def _share(
    room: int, shown: list[int], mins: list[int], maxs: list[int], headers: list[str], cells: Sequence[Sequence[str]]
) -> dict[int, int]:
    """Widths between each column's minimum and maximum that fit `room`, with as few wrapped lines as it can:
    each spare character goes where it saves the most lines per character (judged on the first SAMPLE rows)."""
    widths = {i: mins[i] for i in shown}
    spare = room - sum(widths.values())
    sample = cells[:SAMPLE]
    known: dict[tuple[int, int], int] = {}

    def lines(i: int, w: int) -> int:
        if (i, w) not in known:
            texts = [headers[i], *(row[i] for row in sample)]
            known[i, w] = sum(wrap(text, w).count("\n") + 1 for text in texts)
        return known[i, w]

    while spare > 0:
        best: tuple[float, int, int, int] | None = None  # (lines saved per character, lines saved, column, width)
        for i in shown:
            now = lines(i, widths[i])
            for w in range(widths[i] + 1, min(maxs[i], widths[i] + spare) + 1):
                saved = now - lines(i, w)
                if saved > 0:
                    candidate = (saved / (w - widths[i]), saved, -i, w)
                    if best is None or candidate > best:
                        best = candidate
        if best is None:
            break
        _rate, _saved, neg_i, w = best
        spare -= w - widths[-neg_i]
        widths[-neg_i] = w
    return widths


def render(
    columns: Sequence[Col],
    rows: Sequence[Mapping[str, str | None]],
    width: int,
    title: str | None = None,
    note: str | None = None,
) -> Table:
    """A Rich table of `rows` (field → display text, None shown as —) laid out for `width` characters."""
    cells = [[MISSING if row.get(c.key) is None else str(row.get(c.key)) for c in columns] for row in rows]
    plan = layout(columns, cells, width)
    notes = [note] if note else []
    if plan.hidden:
        notes.append(
            _(
                "Not shown at this width: {columns} (a wider terminal or --json shows them)",
                columns=", ".join(c.header for c in plan.hidden),
            )
        )
    table = Table(
        title=title,
        caption="\n".join(notes) or None,
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 1),
        collapse_padding=True,  # with the blank divider: GAP columns between two columns
        show_edge=False,
        caption_justify="left",
        title_justify="left",
    )
    positions = [columns.index(c) for c in plan.columns]
    wrapped = [[wrap(row_cells[i], w) for i, w in zip(positions, plan.widths, strict=True)] for row_cells in cells]
    justify: Literal["left", "right"]
    for col, w in zip(plan.columns, plan.widths, strict=True):
        justify = "right" if col.right else "left"
        table.add_column(Text(wrap(col.header, w)), width=w, no_wrap=True, overflow="crop", justify=justify)
    for row in wrapped:
        table.add_row(
            *(Text(text, style="bold" if col.bold else "") for col, text in zip(plan.columns, row, strict=True))
        )
    return table


def render_record(
    pairs: Sequence[tuple[str, str | None]], width: int, title: str | None = None, note: str | None = None
) -> Table:
    """One item as `field  value` lines (a single customer, the counts): labels on the left, never wrapped."""
    columns = [Col("field", "", wrap=False, bold=True), Col("value", "")]
    table = render(columns, [{"field": k, "value": v} for k, v in pairs], width, title=title, note=note)
    table.show_header = False
    table.box = None
    return table
