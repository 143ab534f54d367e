// PLACEHOLDER for the knowledge base and agent scripts (`/api/kb/articles`, `/api/scripts`), built on
// another branch: until those routes answer, each part says it is not available (the route's 404). When
// they land, replace this list with a Crud section per resource (see sections.tsx).
import { useEffect, useState } from "preact/hooks";
import { t } from "../lib/i18n";

type Probe = "loading" | "missing" | "denied" | { count: number };

async function probe(path: string): Promise<Probe> {
  try {
    const r = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (r.status === 404) return "missing";
    if (!r.ok) return "denied";
    const body: unknown = await r.json();
    return { count: Array.isArray(body) ? body.length : 0 };
  } catch {
    return "missing";
  }
}

function Part({ title, path, state }: { title: string; path: string; state: Probe }) {
  return (
    <div class="card">
      <h2>{title}</h2>
      <p class="muted small">
        <code>{path}</code>
      </p>
      {state === "loading" ? (
        <p class="muted">{t("Loading…")}</p>
      ) : state === "missing" ? (
        <p class="notice-muted">{t("Not available yet on this server.")}</p>
      ) : state === "denied" ? (
        <p class="alert">{t("Something went wrong")}</p>
      ) : (
        <p>{t("{count} items.", { count: state.count })}</p>
      )}
    </div>
  );
}

export function Knowledge() {
  const [kb, setKb] = useState<Probe>("loading");
  const [scripts, setScripts] = useState<Probe>("loading");
  useEffect(() => {
    void probe("/api/kb/articles").then(setKb);
    void probe("/api/scripts").then(setScripts);
  }, []);
  return (
    <section aria-labelledby="kb-title" class="section" data-placeholder="knowledge-base">
      <header class="section-head">
        <div>
          <h1 id="kb-title">{t("Knowledge base and scripts")}</h1>
          <p class="muted small">{t("Articles agents search while serving a customer, and the scripts they follow.")}</p>
        </div>
      </header>
      <div class="two">
        <Part title={t("Knowledge base articles")} path="/api/kb/articles" state={kb} />
        <Part title={t("Agent scripts")} path="/api/scripts" state={scripts} />
      </div>
    </section>
  );
}
