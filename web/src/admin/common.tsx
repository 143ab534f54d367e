// What the admin sections share: calling the API keeping the problem document (its `detail` is shown next
// to the form, its `errors` beside the fields they name), a confirmation dialog, and form controls that
// always carry a <label>.
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

interface FieldProps {
  label: string;
  name: string;
  problem: Problem | null;
  hint?: string;
  children: (id: string, describedBy: string | undefined, invalid: boolean) => ComponentChildren;
}

/** One labelled control with its hint and its error (announced with the control). */
export function Field({ label, name, problem, hint, children }: FieldProps) {
  const id = useId(`f-${name}`);
  const error = fieldError(problem, name);
  const described = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
  return (
    <div class={error ? "field invalid" : "field"}>
      <label for={id}>{label}</label>
      {children(id, described, Boolean(error))}
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

export function TextField(p: {
  label: string;
  name: string;
  value: string;
  onInput: (v: string) => void;
  problem: Problem | null;
  hint?: string;
  required?: boolean;
  disabled?: boolean;
  type?: string;
  autocomplete?: string;
}) {
  return (
    <Field label={p.label} name={p.name} problem={p.problem} hint={p.hint}>
      {(id, described, invalid) => (
        <input
          id={id}
          name={p.name}
          type={(p.type ?? "text") as "text"}
          value={p.value}
          required={p.required}
          disabled={p.disabled}
          autocomplete={p.autocomplete ?? "off"}
          aria-describedby={described}
          aria-invalid={invalid || undefined}
          onInput={(e) => p.onInput(e.currentTarget.value)}
        />
      )}
    </Field>
  );
}

export function SelectField(p: {
  label: string;
  name: string;
  value: string;
  onChange: (v: string) => void;
  problem: Problem | null;
  options: [string, string][];
  hint?: string;
  disabled?: boolean;
}) {
  return (
    <Field label={p.label} name={p.name} problem={p.problem} hint={p.hint}>
      {(id, described, invalid) => (
        <select
          id={id}
          name={p.name}
          value={p.value}
          disabled={p.disabled}
          aria-describedby={described}
          aria-invalid={invalid || undefined}
          onChange={(e) => p.onChange(e.currentTarget.value)}
        >
          {p.options.map(([value, text]) => (
            <option value={value}>{text}</option>
          ))}
        </select>
      )}
    </Field>
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
