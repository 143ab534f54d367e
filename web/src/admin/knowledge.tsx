// The knowledge base (articles in Markdown) and agent scripts (steps per contact reason), through
// `/api/kb/articles` and `/api/scripts`. A server without those routes (404) shows "not available" instead
// of the lists.
import { useEffect, useState } from "preact/hooks";
import { api } from "../lib/api";
import { t } from "../lib/i18n";
import { call, Check, CodeField, CodeNameFields, LanguageField, TextAreaField, TextField, type S } from "./common";
import { atCode, codeColumn, Crud, deleting, nameColumn, stateColumn } from "./crud";

type Probe = "loading" | "missing" | "ok";

async function probe(path: string): Promise<Probe> {
  try {
    const r = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
    return r.status === 404 ? "missing" : "ok";
  } catch {
    return "missing";
  }
}

function list(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

interface ArticleForm {
  code: string;
  title: string;
  body: string;
  tags: string;
  reasons: string;
  language: string;
  active: boolean;
}

function Articles() {
  return (
    <Crud<S<"ArticleHit">, ArticleForm>
      id="articles"
      title={t("Knowledge base articles")}
      newLabel={t("New article")}
      intro={t("Articles agents search while serving a customer (Markdown), linked to contact reasons.")}
      load={() => call(api.GET("/api/kb/articles", { params: { query: { limit: 100 } } }))}
      rowKey={(a) => a.code}
      rowName={(a) => a.title}
      columns={[
        codeColumn(),
        { label: t("Title"), cell: (a) => a.title },
        { label: t("Contact reasons"), cell: (a) => a.reasons.join(", ") || "—", secondary: true },
        { label: t("Tags"), cell: (a) => a.tags.join(", ") || "—", secondary: true },
      ]}
      blank={() => ({ code: "", title: "", body: "", tags: "", reasons: "", language: "es", active: true })}
      fromRow={(a) => ({ code: a.code, title: a.title, body: "", tags: a.tags.join(", "), reasons: a.reasons.join(", "), language: "es", active: true })}
      fetchRow={async (a) => {
        const o = await call(api.GET("/api/kb/articles/{code}", atCode(a)));
        const x = o.data;
        return x ? { code: x.code, title: x.title, body: x.body, tags: x.tags.join(", "), reasons: x.reasons.join(", "), language: x.language, active: x.active } : null;
      }}
      form={(f, set, problem, creating) => (
        <>
          <div class="two">
            <CodeField value={f.code} onInput={(v) => set({ code: v })} problem={problem} creating={creating} />
            <LanguageField value={f.language} onChange={(v) => set({ language: v })} problem={problem} />
          </div>
          <TextField label={t("Title")} name="title" value={f.title} onInput={(v) => set({ title: v })} problem={problem} required />
          <TextAreaField label={t("Text (Markdown)")} name="body" rows={10} mono value={f.body} onInput={(v) => set({ body: v })} problem={problem} />
          <TextField label={t("Contact reasons")} name="reasons" value={f.reasons} onInput={(v) => set({ reasons: v })} problem={problem} hint={t("Reason codes, separated by commas")} />
          <TextField label={t("Tags")} name="tags" value={f.tags} onInput={(v) => set({ tags: v })} problem={problem} hint={t("Separated by commas")} />
          <Check label={t("Active (agents find it)")} checked={f.active} onChange={(v) => set({ active: v })} />
        </>
      )}
      save={(f) =>
        call(
          api.PUT("/api/kb/articles/{code}", {
            ...atCode(f),
            body: { title: f.title, body: f.body, tags: list(f.tags), reasons: list(f.reasons), language: f.language as "es" | "en", active: f.active },
          }),
        )
      }
      remove={deleting((a) => t("Delete the article {name}? This cannot be undone.", { name: a.title }), (a) => call(api.DELETE("/api/kb/articles/{code}", atCode(a))))}
    />
  );
}

interface ScriptForm {
  code: string;
  name: string;
  reasons: string;
  language: string;
  steps: { title: string; text: string }[];
  active: boolean;
}

function Scripts() {
  return (
    <Crud<S<"ScriptPublic">, ScriptForm>
      id="scripts"
      title={t("Agent scripts")}
      newLabel={t("New script")}
      intro={t("The steps an agent follows for a contact reason; {customer.name}-style placeholders are filled in.")}
      load={() => call(api.GET("/api/scripts"))}
      rowKey={(s) => s.code}
      rowName={(s) => s.name}
      columns={[
        codeColumn(),
        nameColumn(),
        { label: t("Contact reasons"), cell: (s) => s.reasons.join(", ") || "—", secondary: true },
        { label: t("Steps"), cell: (s) => s.steps.length, num: true, secondary: true },
        stateColumn(),
      ]}
      blank={() => ({ code: "", name: "", reasons: "", language: "es", steps: [{ title: "", text: "" }], active: true })}
      fromRow={(s) => ({ code: s.code, name: s.name, reasons: s.reasons.join(", "), language: s.language, steps: s.steps.map((x) => ({ title: x.title ?? "", text: x.text ?? "" })), active: s.active })}
      form={(f, set, problem, creating) => {
        const step = (i: number, patch: Partial<{ title: string; text: string }>) => set({ steps: f.steps.map((s, n) => (n === i ? { ...s, ...patch } : s)) });
        return (
          <>
            <div class="two">
              <CodeNameFields form={f} set={set} problem={problem} creating={creating} />
            </div>
            <div class="two">
              <TextField label={t("Contact reasons")} name="reasons" value={f.reasons} onInput={(v) => set({ reasons: v })} problem={problem} hint={t("Reason codes, separated by commas")} />
              <LanguageField value={f.language} onChange={(v) => set({ language: v })} problem={problem} />
            </div>
            {f.steps.map((s, i) => (
              <fieldset>
                <legend>{t("Step {number}", { number: i + 1 })}</legend>
                <TextField label={t("Title")} name={`steps.${i}.title`} value={s.title} onInput={(v) => step(i, { title: v })} problem={problem} />
                <TextAreaField label={t("Text")} name={`steps.${i}.text`} rows={3} value={s.text} onInput={(v) => step(i, { text: v })} problem={problem} />
                {f.steps.length > 1 ? (
                  <button type="button" class="small-button danger-outline" onClick={() => set({ steps: f.steps.filter((_, n) => n !== i) })}>
                    {t("Remove step {number}", { number: i + 1 })}
                  </button>
                ) : null}
              </fieldset>
            ))}
            <button type="button" onClick={() => set({ steps: [...f.steps, { title: "", text: "" }] })}>
              + {t("Add a step")}
            </button>
            <Check label={t("Active")} checked={f.active} onChange={(v) => set({ active: v })} />
          </>
        );
      }}
      save={(f) =>
        call(
          api.PUT("/api/scripts/{code}", {
            ...atCode(f),
            body: { name: f.name, reasons: list(f.reasons), language: f.language as "es" | "en", steps: f.steps, active: f.active },
          }),
        )
      }
      remove={deleting((s) => t("Delete the script {name}? This cannot be undone.", { name: s.name }), (s) => call(api.DELETE("/api/scripts/{code}", atCode(s))))}
    />
  );
}

function Unavailable({ title, path }: { title: string; path: string }) {
  return (
    <section class="section">
      <h1>{title}</h1>
      <p class="notice-muted">
        {t("Not available yet on this server.")} <code>{path}</code>
      </p>
    </section>
  );
}

export function Knowledge() {
  const [kb, setKb] = useState<Probe>("loading");
  const [scripts, setScripts] = useState<Probe>("loading");
  useEffect(() => {
    void probe("/api/kb/articles?limit=1").then(setKb);
    void probe("/api/scripts").then(setScripts);
  }, []);
  if (kb === "loading" || scripts === "loading") return <p class="muted" aria-busy="true">{t("Loading…")}</p>;
  return (
    <div data-section="knowledge">
      {kb === "ok" ? <Articles /> : <Unavailable title={t("Knowledge base articles")} path="/api/kb/articles" />}
      {scripts === "ok" ? <Scripts /> : <Unavailable title={t("Agent scripts")} path="/api/scripts" />}
    </div>
  );
}
