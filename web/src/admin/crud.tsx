// One admin section: the list (a table), a form to create or edit a row beside it, and delete/deactivate
// behind a confirmation. Each section (sections.tsx) says how to load, show, fill and save its rows.
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import type { Problem } from "../lib/api";
import { t } from "../lib/i18n";
import { Active, ActionsTable, Confirm, ProblemText, useList, type Outcome, type TableColumn } from "./common";

export interface Column<R> extends TableColumn<R> {
  /** left out while the form is open beside the table (it takes the room) */
  secondary?: boolean;
}

/** The columns most sections start or end with. */
export function codeColumn<R extends { code: string }>(): Column<R> {
  return { label: t("Code"), cell: (row) => <code>{row.code}</code> };
}

export function nameColumn<R extends { name: string }>(): Column<R> {
  return { label: t("Name"), cell: (row) => row.name };
}

export function stateColumn<R extends { active: boolean }>(): Column<R> {
  return { label: t("State"), cell: (row) => <Active active={row.active} /> };
}

export type Remove<R> = { label: string; question: (row: R) => string; run: (row: R) => Promise<Outcome<unknown>>; when?: (row: R) => boolean };

/** `remove` for rows deleted for good ("Delete"), asking `question` first. */
export function deleting<R>(question: (row: R) => string, run: (row: R) => Promise<Outcome<unknown>>): Remove<R> {
  return { label: t("Delete"), question, run };
}

/** The path parameters of a row's URL by its code (`/api/skills/{code}`). */
export function atCode(row: { code: string }): { params: { path: { code: string } } } {
  return { params: { path: { code: row.code } } };
}

export interface CrudProps<R, F> {
  id: string;
  title: string;
  newLabel: string;
  intro?: string;
  load: () => Promise<Outcome<R[]>>;
  rowKey: (row: R) => string;
  rowName: (row: R) => string;
  columns: Column<R>[];
  blank: () => F;
  fromRow: (row: R) => F;
  /** when a row lacks what its form needs (an article's body), fetch it instead of `fromRow` */
  fetchRow?: (row: R) => Promise<F | null>;
  form: (form: F, set: (patch: Partial<F>) => void, problem: Problem | null, creating: boolean) => ComponentChildren;
  save: (form: F, row: R | null) => Promise<Outcome<unknown>>;
  canEdit?: boolean;
  remove?: Remove<R>;
  after?: (saved: unknown, creating: boolean) => ComponentChildren;
}

export function Crud<R, F>(p: CrudProps<R, F>) {
  const list = useList(p.load);
  const [editing, setEditing] = useState<{ row: R | null; form: F } | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const [asking, setAsking] = useState<R | null>(null);
  const [notice, setNotice] = useState("");
  const [afterSave, setAfterSave] = useState<ComponentChildren>(null);

  async function open(row: R | null) {
    setProblem(null);
    setNotice("");
    setAfterSave(null);
    const fetched = row && p.fetchRow ? await p.fetchRow(row) : null;
    setEditing({ row, form: fetched ?? (row ? p.fromRow(row) : p.blank()) });
    setTimeout(() => document.querySelector<HTMLElement>(`#${p.id}-form input:not([disabled]), #${p.id}-form select`)?.focus(), 0);
  }

  async function submit(e: Event) {
    e.preventDefault();
    if (!editing) return;
    setBusy(true);
    const outcome = await p.save(editing.form, editing.row);
    setBusy(false);
    if (outcome.problem) {
      setProblem(outcome.problem);
      return;
    }
    const creating = editing.row === null;
    setNotice(creating ? t("Created.") : t("Saved."));
    setAfterSave(p.after ? p.after(outcome.data, creating) : null);
    setEditing(null);
    list.reload();
    document.getElementById(`${p.id}-title`)?.focus(); // the keyboard goes on from the section, not the page's top
  }

  async function removeRow(row: R) {
    setAsking(null);
    if (!p.remove) return;
    const outcome = await p.remove.run(row);
    if (outcome.problem) {
      setNotice("");
      setProblem(outcome.problem);
      return;
    }
    setProblem(null);
    setNotice(t("Done."));
    setAfterSave(null);
    setEditing(null);
    list.reload();
    document.getElementById(`${p.id}-title`)?.focus();
  }

  const creating = editing?.row === null;
  const columns = editing ? p.columns.filter((c) => !c.secondary) : p.columns;
  return (
    <section aria-labelledby={`${p.id}-title`} class="section">
      <header class="section-head">
        <div>
          <h1 id={`${p.id}-title`} tabIndex={-1}>
            {p.title}
          </h1>
          {p.intro ? <p class="muted small">{p.intro}</p> : null}
        </div>
        <button type="button" class="primary" onClick={() => void open(null)}>
          + {p.newLabel}
        </button>
      </header>
      <div aria-live="polite" class="notice-slot">
        {notice ? <p class="notice">{notice}</p> : null}
      </div>
      {afterSave}
      {!editing && problem ? <ProblemText problem={problem} /> : null}
      <div class={editing ? "split" : ""}>
        <div class="card table-card">
          {list.error ? <p class="alert" role="alert">{list.error}</p> : null}
          {list.rows === null ? (
            <p class="muted" aria-busy="true">{t("Loading…")}</p>
          ) : list.rows.length === 0 ? (
            <p class="muted">{t("Nothing here yet.")}</p>
          ) : (
            <ActionsTable
              caption={p.title}
              columns={columns}
              rows={list.rows}
              rowClass={(row) => (editing?.row === row ? "selected" : undefined)}
              actions={(row) => (
                <>
                  {p.canEdit !== false ? (
                    <button type="button" class="small-button" onClick={() => void open(row)} aria-label={t("Edit {name}", { name: p.rowName(row) })}>
                      {t("Edit")}
                    </button>
                  ) : null}
                  {p.remove && (p.remove.when?.(row) ?? true) ? (
                    <button type="button" class="small-button danger-outline" onClick={() => setAsking(row)} aria-label={`${p.remove.label}: ${p.rowName(row)}`}>
                      {p.remove.label}
                    </button>
                  ) : null}
                </>
              )}
            />
          )}
        </div>
        {editing ? (
          <form id={`${p.id}-form`} class="card form-card" onSubmit={submit} aria-labelledby={`${p.id}-form-title`} noValidate>
            <h2 id={`${p.id}-form-title`}>
              {creating ? p.newLabel : t("Edit {name}", { name: editing.row ? p.rowName(editing.row) : "" })}
            </h2>
            {p.form(editing.form, (patch) => setEditing({ ...editing, form: { ...editing.form, ...patch } }), problem, creating)}
            <ProblemText problem={problem} />
            <div class="row form-buttons">
              <button type="submit" class="primary" disabled={busy}>
                {creating ? t("Create") : t("Save")}
              </button>
              <button type="button" onClick={() => setEditing(null)}>
                {t("Cancel")}
              </button>
            </div>
          </form>
        ) : null}
      </div>
      {asking !== null && p.remove ? (
        <Confirm text={p.remove.question(asking)} action={p.remove.label} onYes={() => void removeRow(asking)} onNo={() => setAsking(null)} />
      ) : null}
    </section>
  );
}
