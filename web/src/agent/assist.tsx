// What helps the agent answer: the script for the contact's reason (its steps, the customer's data filled
// in by the server) and the knowledge base (search, the articles linked to the reason).
import { useEffect, useState } from "preact/hooks";
import { api, must } from "../lib/api";
import { t } from "../lib/i18n";

import type { Article, ArticleHit, ContactScript } from "./types";
import { ErrorText } from "../lib/feedback";

export function ScriptView({ contactId }: { contactId: number }) {
  const [answer, setAnswer] = useState<ContactScript | null>(null);
  const [done, setDone] = useState<Set<number>>(new Set());
  const [error, setError] = useState("");
  useEffect(() => {
    setAnswer(null);
    setDone(new Set());
    must(api.GET("/api/contacts/{contact_id}/script", { params: { path: { contact_id: contactId } } })).then(
      setAnswer,
      (e: Error) => setError(e.message),
    );
  }, [contactId]);
  return (
    <section class="card" aria-labelledby="script-title" data-testid="script">
      <h2 id="script-title">{answer?.script ? `${t("Script")}: ${answer.script.name}` : t("Script")}</h2>
      {error ? <p class="muted small">{error}</p> : null}
      {answer && !answer.steps.length ? <p class="muted small">{t("No script for this reason.")}</p> : null}
      <ol class="script">
        {answer?.steps.map((step, i) => (
          <li class={done.has(i) ? "done" : ""}>
            <label class="inline">
              <input
                type="checkbox"
                checked={done.has(i)}
                onChange={() => {
                  const next = new Set(done);
                  if (next.has(i)) next.delete(i);
                  else next.add(i);
                  setDone(next);
                }}
              />
              <strong>{step.title}</strong>
            </label>
            <p class="small">{step.text}</p>
          </li>
        ))}
      </ol>
    </section>
  );
}

function Paragraphs({ text }: { text: string }) {
  return (
    <>
      {text.split(/\n{2,}/).map((p) => (
        <p class="small">{p}</p>
      ))}
    </>
  );
}

export function KnowledgeBase({ contactId }: { contactId: number | null }) {
  const [query, setQuery] = useState("");
  const [results, setResults] = useState<ArticleHit[]>([]);
  const [open, setOpen] = useState<Article | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    setOpen(null);
    if (contactId === null) return;
    must(api.GET("/api/contacts/{contact_id}/articles", { params: { path: { contact_id: contactId } } })).then(
      setResults,
      () => setResults([]),
    );
  }, [contactId]);
  async function search(e: Event) {
    e.preventDefault();
    setError("");
    try {
      setResults(await must(api.GET("/api/kb/articles", { params: { query: { q: query, limit: 10 } } })));
      setOpen(null);
    } catch (err) {
      setError((err as Error).message);
    }
  }
  async function read(code: string) {
    try {
      setOpen(await must(api.GET("/api/kb/articles/{code}", { params: { path: { code } } })));
    } catch (err) {
      setError((err as Error).message);
    }
  }
  return (
    <section class="card" aria-labelledby="kb-title">
      <h2 id="kb-title">{t("Knowledge base")}</h2>
      <form class="row" role="search" onSubmit={search}>
        <label for="kb-q" class="sr-only">
          {t("Search the knowledge base")}
        </label>
        <input
          id="kb-q"
          type="search"
          placeholder={t("Search the knowledge base")}
          value={query}
          onInput={(e) => setQuery(e.currentTarget.value)}
          style="flex:1"
        />
        <button type="submit">{t("Search")}</button>
      </form>
      <ErrorText text={error} block />
      {open ? (
        <article data-testid="kb-article">
          <h3>{open.title}</h3>
          <Paragraphs text={open.body ?? ""} />
          <button class="link" onClick={() => setOpen(null)}>
            {t("Back to the list")}
          </button>
        </article>
      ) : (
        <ul class="kb-list">
          {results.map((a) => (
            <li>
              <button class="link" onClick={() => void read(a.code)}>
                {a.title}
              </button>
              {a.excerpt ? <div class="small muted">{a.excerpt}</div> : null}
            </li>
          ))}
          {!results.length ? <li class="muted small">{t("No article.")}</li> : null}
        </ul>
      )}
    </section>
  );
}
