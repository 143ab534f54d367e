// A report's table: every row, values written for their kind (percent, durations, "—" for null), sortable
// by any column (a button in its header; aria-sort says how it is sorted), the first rows first with a
// button for the rest.
import { useMemo, useState } from "preact/hooks";
import { t } from "../lib/i18n";
import { compareValues, formatKey, formatValue, type Kind } from "./format";

export interface TableColumn {
  key: string;
  title: string;
  kind: Kind;
  group?: boolean; // a group key (dimension or interval): written as words, never as a figure
}

const FIRST_ROWS = 200;

export function ReportTable({
  caption,
  columns,
  rows,
  currency,
  intervalKind,
}: {
  caption: string;
  columns: TableColumn[];
  rows: Record<string, unknown>[];
  currency: string;
  intervalKind: string | null;
}) {
  const [sort, setSort] = useState<{ key: string; up: boolean } | null>(null);
  const [all, setAll] = useState(false);
  const sorted = useMemo(() => {
    if (!sort) return rows;
    const out = [...rows];
    out.sort((a, b) => {
      const x = a[sort.key], y = b[sort.key];
      if (x == null || y == null) return compareValues(x, y); // nulls last either way
      return sort.up ? compareValues(x, y) : compareValues(y, x);
    });
    return out;
  }, [rows, sort]);
  const shown = all ? sorted : sorted.slice(0, FIRST_ROWS);
  function sortBy(key: string) {
    setSort((s) => (s && s.key === key ? { key, up: !s.up } : { key, up: true }));
  }
  return (
    <div class="card table-card report-table">
      <table>
        <caption class="sr-only">{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => {
              const state = sort?.key === c.key ? (sort.up ? "ascending" : "descending") : undefined;
              const numeric = !c.group && c.kind !== "text";
              return (
                <th key={c.key} scope="col" class={numeric ? "num" : undefined} aria-sort={state}>
                  <button type="button" class="sort" onClick={() => sortBy(c.key)} data-column={c.key}>
                    {c.title}
                    <span aria-hidden="true" class="sort-mark">{state === "ascending" ? " ▲" : state === "descending" ? " ▼" : ""}</span>
                  </button>
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {shown.length === 0 ? (
            <tr>
              <td colSpan={columns.length} class="muted">
                {t("No contacts in these days.")}
              </td>
            </tr>
          ) : (
            shown.map((row) => (
              <tr>
                {columns.map((c, i) => {
                  const text = c.group ? formatKey(c.key, row[c.key], intervalKind) : formatValue(c.kind, row[c.key], currency);
                  const numeric = !c.group && c.kind !== "text";
                  return i === 0 ? (
                    <th key={c.key} scope="row" class={numeric ? "num" : undefined}>{text}</th>
                  ) : (
                    <td key={c.key} class={numeric ? "num" : undefined}>{text}</td>
                  );
                })}
              </tr>
            ))
          )}
        </tbody>
      </table>
      {sorted.length > shown.length ? (
        <p>
          <button type="button" onClick={() => setAll(true)}>
            {t("Show all {n} rows", { n: sorted.length })}
          </button>
        </p>
      ) : null}
    </div>
  );
}
