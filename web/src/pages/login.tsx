// The front door: log in, then go where your role works; the list of places is shown before logging in too.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import "../styles.css";
import { api, describe, whoAmI, type Me } from "../lib/api";
import { lang, setLang, t } from "../lib/i18n";
import { allowed, places, TopBar } from "../lib/ui";
import { ErrorText } from "../lib/feedback";

function home(me: Me): string {
  return me.role === "admin" ? "/admin" : me.role === "supervisor" ? "/wallboard" : "/agent";
}

function safeNext(): string | null {
  const next = new URLSearchParams(location.search).get("next");
  return next && next.startsWith("/") && !next.startsWith("//") ? next : null;
}

function Places({ me }: { me: Me | null }) {
  return (
    <section class="card" aria-labelledby="where">
      <h2 id="where">{t("Where to go")}</h2>
      <ul>
        {places().map((p) => (
          <li>
            {allowed(me, p) ? <a href={p.path}>{p.title}</a> : <span>{p.title}</span>} — <span class="muted">{p.what}</span>
            {p.role && !allowed(me, p) ? <span class="muted small"> ({t("for {role}", { role: t(p.role) })})</span> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}

function Login() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    void whoAmI().then(setMe);
  }, []);
  if (me === undefined) return <main aria-busy="true" />;
  if (me !== null) {
    return (
      <>
        <TopBar me={me} current="/" />
        <main style="max-width:44rem">
          <h1>{t("Hello, {name}", { name: me.user?.display_name ?? "" })}</h1>
          <Places me={me} />
        </main>
      </>
    );
  }
  async function submit(e: Event) {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    setBusy(true);
    setError("");
    const answer = await api.POST("/api/auth/login", {
      body: {
        username: String(form.get("username") ?? ""),
        password: String(form.get("password") ?? ""),
        tenant: String(form.get("tenant") ?? "") || undefined,
      },
    });
    setBusy(false);
    if (answer.error || !answer.data) {
      setError(describe(answer.error));
      return;
    }
    const who = await whoAmI();
    location.assign(safeNext() ?? (who ? home(who) : "/"));
  }
  return (
    <main style="max-width:44rem;margin:2rem auto">
      <div class="row" style="justify-content:space-between">
        <h1>Centralita</h1>
        <select aria-label={t("Language")} value={lang()} onChange={(e) => setLang(e.currentTarget.value as "es" | "en")}>
          <option value="es">Español</option>
          <option value="en">English</option>
        </select>
      </div>
      <form class="card" onSubmit={submit} aria-labelledby="login-title">
        <h2 id="login-title">{t("Log in")}</h2>
        <label for="username">{t("User")}</label>
        <input id="username" name="username" autocomplete="username" required autofocus />
        <label for="password">{t("Password")}</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        <label for="tenant">{t("Contact center")}</label>
        <input id="tenant" name="tenant" value="demo" autocomplete="organization" />
        <div class="row" style="margin-top:0.8rem">
          <button class="primary" type="submit" disabled={busy}>
            {t("Log in")}
          </button>
          <ErrorText text={error} />
        </div>
        <p class="muted small">{t("The demo's users and passwords are in demo-logins.txt in the data directory.")}</p>
      </form>
      <Places me={null} />
    </main>
  );
}

document.documentElement.lang = lang();
render(<Login />, document.getElementById("app")!);
