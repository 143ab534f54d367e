"""Tables that stay readable in a narrow terminal (80 columns and less).

Each column is as wide as its longest line when the terminal allows, else narrower down to its longest
unbreakable piece (a word, a code, `80 % ≤ 20 s`): codes, ids and figures are never broken, text wraps
between words. When the columns do not fit at a comfortable width (COMFORT, or their longest piece), the
columns that matter least go (`Col.drop`, highest first), and a note under the table names them: a wider
terminal, or `--json`, shows them. Long text marked `detail` (event data) goes under its row instead.

Cells are plain text: `\\n` starts a new line, and `keep("60 s")` joins words that must stay on one line.
Text is wrapped and laid out here (a Rich `Text`, not a Rich table), so that the layout is exactly the one
computed and nothing is cut short.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text

from centralita.core.i18n import _

GLUE = "\u00a0"  # a space where a line must not break; shown as a space
GAP = 2  # blank columns between two columns
COMFORT = 12
CUT = 6  # in a terminal too narrow for whole pieces, text columns are cut down to this width before codes
DETAIL = 40  # a detail column stays beside the others only when they all fit with it this wide
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
    detail: bool = False  # long text shown under each row, across the table, when it does not fit beside
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
    shown: list[int]  # the positions of the columns shown side by side, in order
    widths: list[int]  # their widths (without the gaps)
    hidden: list[int]  # the columns left out for lack of room
    below: list[int]  # `detail` columns shown under each row, across the table


def layout(columns: Sequence[Col], cells: Sequence[Sequence[str]], width: int) -> Layout:
    """Which columns to show and how wide, for rows of `cells` (one string per column) in `width` characters."""
    maxs = [max([max_width(c.header), *(max_width(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    mins = [max([min_width(c.header), *(min_width(row[i], c.wrap) for row in cells)]) for i, c in enumerate(columns)]
    # a column is comfortable at COMFORT characters (or its longest line, when shorter): narrower, short labels
    # break into a tall stack of words, so a column that matters less gives way first
    comfort = [max(mins[i], min(maxs[i], DETAIL if c.detail else COMFORT)) for i, c in enumerate(columns)]

    def needed(indexes: list[int], floor: list[int]) -> int:
        return sum(floor[i] for i in indexes) + GAP * max(len(indexes) - 1, 0)

    shown = list(range(len(columns)))
    below: list[int] = []
    if needed(shown, comfort) > width:  # too narrow for the details beside the rest: under each row
        below = [i for i in shown if columns[i].detail]
        shown = [i for i in shown if i not in below]
    while needed(shown, comfort) > width:
        droppable = [i for i in shown if columns[i].drop > 0]
        if not droppable:
            break
        shown.remove(max(droppable, key=lambda i: (columns[i].drop, i)))
    while needed(shown, mins) > width and len(shown) > 1:  # a very narrow terminal: the last columns go too
        shown.pop()
    room = width - GAP * max(len(shown) - 1, 0)
    floor = comfort if needed(shown, comfort) <= width else mins
    if sum(maxs[i] for i in shown) <= room:
        widths = {i: maxs[i] for i in shown}
    else:
        widths = _share(room, shown, floor, maxs, [columns[i].header for i in range(len(columns))], cells)
    excess = sum(widths.values()) - room
    while excess > 0:  # a very narrow terminal: cut pieces, text first (widest first), codes last
        widest = max(shown, key=lambda i: (columns[i].wrap and widths[i] > CUT, widths[i], i))
        if widths[widest] <= 1:
            break
        widths[widest] -= 1
        excess -= 1
    return Layout(
        shown=shown,
        widths=[widths[i] for i in shown],
        hidden=[i for i in range(len(columns)) if i not in shown and i not in below],
        below=below,
    )


def _share(
    room: int, shown: list[int], mins: list[int], maxs: list[int], headers: list[str], cells: Sequence[Sequence[str]]
) -> dict[int, int]:
    """Widths between each column's minimum and maximum that fit `room`, keeping the table short: each step
    widens the column that saves the most table lines (then wrapped lines) per character it takes; judged
    on the header and the first SAMPLE rows."""
    widths = {i: mins[i] for i in shown}
    spare = room - sum(widths.values())
    texts = {i: [headers[i], *(row[i] for row in cells[:SAMPLE])] for i in shown}
    known: dict[tuple[int, int], list[int]] = {}

    def lines(i: int, w: int) -> list[int]:
        """Lines of each cell of column i (header first) at width w."""
        if (i, w) not in known:
            known[i, w] = [wrap(text, w).count("\n") + 1 for text in texts[i]]
        return known[i, w]

    while spare > 0:
        now = {i: lines(i, widths[i]) for i in shown}
        best: tuple[float, int, int] | None = None  # (score per character, -column, width)
        for i in shown:
            others = [max([now[j][r] for j in shown if j != i], default=1) for r in range(len(texts[i]))]
            height = sum(max(o, n) for o, n in zip(others, now[i], strict=True))
            total = sum(now[i])
            last = total
            for w in range(widths[i] + 1, min(maxs[i], widths[i] + spare) + 1):
                after = lines(i, w)
                if sum(after) == last:
                    continue  # the same lines as one character narrower: not a width worth trying
                last = sum(after)
                saved_height = height - sum(max(o, n) for o, n in zip(others, after, strict=True))
                score = (saved_height * 1000 + total - last) / (w - widths[i])
                if best is None or (score, -i) > best[:2]:
                    best = (score, -i, w)
        if best is None:
            break
        _score, neg_i, w = best
        spare -= w - widths[-neg_i]
        widths[-neg_i] = w
    return widths


def render(
    columns: Sequence[Col],
    rows: Sequence[Mapping[str, str | None]],
    width: int,
    title: str | None = None,
    note: str | None = None,
    header: bool = True,
) -> Text:
    """`rows` (field → display text, None shown as —) as a table `width` characters wide at most: the title, the
    headers (bold) over a rule, the rows, then the note and the names of the columns left out."""
    cells = [[MISSING if row.get(c.key) is None else str(row.get(c.key)) for c in columns] for row in rows]
    plan = layout(columns, cells, width)
    shown = [columns[i] for i in plan.shown]
    out = Text(no_wrap=True, overflow="ignore")

    def line(parts: Sequence[tuple[str, str]]) -> None:
        """One line of (text, style) parts, without trailing blanks."""
        end = len("".join(text for text, _style in parts).rstrip())
        for text, style in parts:
            out.append(text[: max(end, 0)], style=style)
            end -= len(text)
        out.append("\n")

    def row_line(texts: Sequence[str], style: str = "") -> None:
        parts: list[tuple[str, str]] = []
        for n, (col, w, text) in enumerate(zip(shown, plan.widths, texts, strict=True)):
            pad = " " * max(w - cell_len(text), 0)
            gap = " " * GAP if n else ""
            parts += [(gap, ""), (pad + text if col.right else text + pad, style or ("bold" if col.bold else ""))]
        line(parts)

    for part in wrap(title, width).split("\n") if title else []:
        line([(part, "italic")])
    if header:
        headers = [wrap(c.header, w).split("\n") for c, w in zip(shown, plan.widths, strict=True)]
        height = max(len(h) for h in headers)
        headers = [[""] * (height - len(h)) + h for h in headers]  # at the bottom, next to the rule
        for n in range(height):
            row_line([h[n] for h in headers], "bold")
        line([("─" * (sum(plan.widths) + GAP * (len(plan.widths) - 1)), "")])
    indent = plan.widths[0] + GAP
    for row_cells in cells:
        parts = [wrap(row_cells[i], w).split("\n") for i, w in zip(plan.shown, plan.widths, strict=True)]
        for n in range(max(len(p) for p in parts)):
            row_line([p[n] if n < len(p) else "" for p in parts])
        for i in plan.below:
            if row_cells[i] != MISSING:
                for part in wrap(row_cells[i], max(width - indent, 1)).split("\n"):
                    line([(" " * indent + part, "dim")])
    notes = [note] if note else []
    if plan.hidden:
        notes.append(
            _(
                "Not shown at this width: {columns} (a wider terminal or --json shows them)",
                columns=", ".join(columns[i].header for i in plan.hidden),
            )
        )
    for text in notes:
        for part in wrap(text, width).split("\n"):
            line([(part, "dim")])
    out.rstrip()
    return out


def render_record(
    pairs: Sequence[tuple[str, str | None]], width: int, title: str | None = None, note: str | None = None
) -> Text:
    """One item as `label  value` lines (a single customer, the counts): labels on the left, bold, never wrapped."""
    columns = [Col("field", "", wrap=False, bold=True), Col("value", "")]
    rows = [{"field": k, "value": v} for k, v in pairs]
    return render(columns, rows, width, title=title, note=note, header=False)
