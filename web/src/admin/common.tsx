// What the admin sections share: calling the API keeping the problem document (its `detail` is shown next
// to the form, its `errors` beside the fields they name), a confirmation dialog, form controls that always
// carry a <label> (and the ones many forms repeat: code, language, active), and a table with row buttons.
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import type { components } from "../api/schema";
import type { Problem } from "../lib/api";
import { t } from "../lib/i18n";

export type S<N extends keyof components["schemas"]> = components["schemas"][N];

/** An API answer: its data, or the problem (with the HTTP status) it answered. */
export type Outcome<T> = { data: T; problem?: undefined } | { data?: undefined; problem: Problem };

export async function call<T>(promise: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<Outcome<T>> {
  try {
    const answer = await promise;
    if (answer.response.status === 401) {
      location.assign(`/?next=${encodeURIComponent(location.pathname + location.hash)}`);
    }
    if (answer.error !== undefined || !answer.response.ok) {
      const problem = (answer.error ?? {}) as Problem;
      return { problem: { ...problem, status: answer.response.status } };
    }
    return { data: answer.data as T };
  } catch {
    return { problem: { detail: t("The server did not answer") } };
  }
}

/** A list the section shows: loaded on mount and after every change (`reload`). */
export function useList<T>(load: () => Promise<Outcome<T[]>>): { rows: T[] | null; error: string; reload: () => void } {
  const [rows, setRows] = useState<T[] | null>(null);
  const [error, setError] = useState("");
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    void load().then((o) => {
      if (!live) return;
      if (o.problem) setError(o.problem.detail ?? o.problem.title ?? t("Something went wrong"));
      else {
        setError("");
        setRows(o.data);
      }
    });
    return () => {
      live = false;
    };
  }, [tick]);
  return { rows, error, reload: () => setTick((n) => n + 1) };
}

/** The problem of the last submit: its detail above the buttons, each field's message beside the field. */
export function fieldError(problem: Problem | null, name: string): string | undefined {
  const found = problem?.errors?.find((e) => e.field === name || (e.field ?? "").startsWith(`${name}.`));
  return found?.message;
}

export function ProblemText({ problem }: { problem: Problem | null }) {
  if (!problem) return null;
  return (
    <p class="alert" role="alert">
      {problem.detail ?? problem.title ?? t("Something went wrong")}
    </p>
  );
}

let uid = 0;
export function useId(prefix: string): string {
  const ref = useRef("");
  if (!ref.current) ref.current = `${prefix}-${++uid}`;
  return ref.current;
}

/** What every labelled control takes: its label, its field's name (where the API's errors point), the
problem of the last submit and an optional hint. */
interface FieldBase {
  label: string;
  name: string;
  problem: Problem | null;
  hint?: string;
}

/** The attributes that tie a control to its label, hint and error. */
interface ControlProps {
  id: string;
  "aria-describedby": string | undefined;
  "aria-invalid": true | undefined;
}

/** One labelled control with its hint and its error (announced with the control). */
export function Field({ label, name, problem, hint, children }: FieldBase & { children: (control: ControlProps) => ComponentChildren }) {
  const id = useId(`f-${name}`);
  const error = fieldError(problem, name);
  const described = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
  return (
    <div class={error ? "field invalid" : "field"}>
      <label for={id}>{label}</label>
      {children({ id, "aria-describedby": described, "aria-invalid": error ? true : undefined })}
      {hint ? (
        <span id={`${id}-hint`} class="hint">
          {hint}
        </span>
      ) : null}
      {error ? (
        <span id={`${id}-error`} class="field-error">
          {error}
        </span>
      ) : null}
    </div>
  );
}

export function TextField(
  p: FieldBase & { value: string; onInput: (v: string) => void; required?: boolean; disabled?: boolean; type?: string; autocomplete?: string },
) {
  return (
    <Field {...p}>
      {(control) => (
        <input
          {...control}
          name={p.name}
          type={(p.type ?? "text") as "text"}
          value={p.value}
          required={p.required}
          disabled={p.disabled}
          autocomplete={p.autocomplete ?? "off"}
          onInput={(e) => p.onInput(e.currentTarget.value)}
        />
      )}
    </Field>
  );
}

export function SelectField(p: FieldBase & { value: string; onChange: (v: string) => void; options: [string, string][]; disabled?: boolean }) {
  return (
    <Field {...p}>
      {(control) => (
        <select {...control} name={p.name} value={p.value} disabled={p.disabled} onChange={(e) => p.onChange(e.currentTarget.value)}>
          {p.options.map(([value, text]) => (
            <option value={value}>{text}</option>
          ))}
        </select>
      )}
    </Field>
  );
}

export function TextAreaField(p: FieldBase & { value: string; onInput: (v: string) => void; rows: number; mono?: boolean }) {
  return (
    <Field {...p}>
      {(control) => <textarea {...control} rows={p.rows} class={p.mono ? "mono" : undefined} value={p.value} onInput={(e) => p.onInput(e.currentTarget.value)} />}
    </Field>
  );
}

/** A row's code: required, fixed once the row exists. */
export function CodeField(p: { value: string; onInput: (v: string) => void; problem: Problem | null; creating: boolean; hint?: string }) {
  return <TextField label={t("Code")} name="code" value={p.value} onInput={p.onInput} problem={p.problem} required disabled={!p.creating} hint={p.hint} />;
}

/** A row's code and name, the first two fields of most forms. */
export function CodeNameFields(p: {
  form: { code: string; name: string };
  set: (patch: { code?: string; name?: string }) => void;
  problem: Problem | null;
  creating: boolean;
  codeHint?: string;
}) {
  return (
    <>
      <CodeField value={p.form.code} onInput={(v) => p.set({ code: v })} problem={p.problem} creating={p.creating} hint={p.codeHint} />
      <TextField label={t("Name")} name="name" value={p.form.name} onInput={(v) => p.set({ name: v })} problem={p.problem} required />
    </>
  );
}

export function LanguageField(p: { value: string; onChange: (v: string) => void; problem: Problem | null }) {
  return (
    <SelectField
      label={t("Language")}
      name="language"
      value={p.value}
      onChange={p.onChange}
      problem={p.problem}
      options={[
        ["es", "Español"],
        ["en", "English"],
      ]}
    />
  );
}

export function Check(p: { label: string; checked: boolean; onChange: (v: boolean) => void; name?: string }) {
  return (
    <label class="check">
      <input type="checkbox" name={p.name} checked={p.checked} onChange={(e) => p.onChange(e.currentTarget.checked)} />
      {p.label}
    </label>
  );
}

/** The "Active" box of a form editing a row (a new row is active). */
export function ActiveCheck(p: { creating: boolean; checked: boolean; onChange: (v: boolean) => void }) {
  return p.creating ? null : <Check label={t("Active")} checked={p.checked} onChange={p.onChange} />;
}

export interface TableColumn<R> {
  label: string;
  cell: (row: R) => ComponentChildren;
  num?: boolean;
}

/** A table of rows with a caption for screen readers and, last, a column of each row's buttons. */
export function ActionsTable<R>(p: {
  caption: string;
  columns: TableColumn<R>[];
  rows: R[];
  actions: (row: R) => ComponentChildren;
  rowClass?: (row: R) => string | undefined;
}) {
  return (
    <table>
      <caption class="sr-only">{p.caption}</caption>
      <thead>
        <tr>
          {p.columns.map((c) => (
            <th scope="col" class={c.num ? "num" : undefined}>
              {c.label}
            </th>
          ))}
          <th scope="col" class="actions">
            <span class="sr-only">{t("Actions")}</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {p.rows.map((row) => (
          <tr class={p.rowClass?.(row)}>
            {p.columns.map((c) => (
              <td class={c.num ? "num" : undefined}>{c.cell(row)}</td>
            ))}
            <td class="actions">{p.actions(row)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Ask before something that cannot be undone: a modal <dialog>, Escape or "Cancel" says no. */
export function Confirm(p: { text: string; action: string; onYes: () => void; onNo: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  return (
    <dialog ref={ref} class="confirm" aria-labelledby="confirm-text" onCancel={p.onNo}>
      <p id="confirm-text">{p.text}</p>
      <div class="row end">
        <button type="button" onClick={p.onNo} autofocus>
          {t("Cancel")}
        </button>
        <button type="button" class="danger" onClick={p.onYes}>
          {p.action}
        </button>
      </div>
    </dialog>
  );
}

/** `{code: level}` as "code:level, code:level" and back (numbers only). */
export function mapText(map: Record<string, number> | null | undefined): string {
  return Object.entries(map ?? {})
    .map(([k, v]) => `${k}:${v}`)
    .join(", ");
}

export function parseMap(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of text.split(",")) {
    const [k, v] = part.split(":").map((s) => s.trim());
    if (k) out[k] = Number(v ?? "");
  }
  return out;
}

export function intOrNull(text: string): number | null {
  return text.trim() === "" ? null : Number(text);
}

export function Active({ active }: { active: boolean }) {
  return <span class={active ? "badge available" : "badge offline"}>{active ? t("Active") : t("Inactive")}</span>;
}
