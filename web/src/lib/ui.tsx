// What every page shares: the top bar (where to go for this role, language, who is logged in, log out),
// page start-up (log in first), and small helpers.
import { render, type ComponentChildren } from "preact";
import "../styles.css";
import { logout, whoAmI, type Me } from "./api";
import { lang, setLang, t } from "./i18n";

export const ROLE_RANK: Record<string, number> = { agent: 1, supervisor: 2, admin: 3 };

export interface Place {
  path: string;
  title: string;
  role: string; // the least role that may open it
  what: string;
}

export function places(): Place[] {
  return [
    { path: "/agent", title: t("Agent desktop"), role: "agent", what: t("Take chats and calls, see the customer, wrap up") },
    { path: "/wallboard", title: t("Wallboard"), role: "supervisor", what: t("Queues and agents, live") },
    { path: "/reports", title: t("Reports"), role: "supervisor", what: t("KPIs and business reports from the history, CSV") },
    { path: "/admin", title: t("Administration"), role: "admin", what: t("Queues, agents, users, flows and more") },
    { path: "/chat-demo", title: t("Web chat demo"), role: "", what: t("A company website with the chat widget") },
    { path: "/docs", title: t("API documentation"), role: "", what: t("Every operation of the REST API") },
  ];
}

export function allowed(me: Me | null, place: Place): boolean {
  if (!place.role) return true;
  return me !== null && (ROLE_RANK[me.role] ?? 0) >= ROLE_RANK[place.role];
}

export function TopBar({ me, current }: { me: Me; current: string }) {
  return (
    <header class="topbar">
      <a class="brand" href="/">Centralita</a>
      <nav aria-label={t("Pages")}>
        {places()
          .filter((p) => p.role && allowed(me, p))
          .map((p) => (
            <a href={p.path} aria-current={p.path === current ? "page" : undefined}>
              {p.title}
            </a>
          ))}
      </nav>
      <label class="inline" style="color:#fff">
        <span class="sr-only">{t("Language")}</span>
        <select aria-label={t("Language")} value={lang()} onChange={(e) => setLang((e.currentTarget.value as "es" | "en"))}>
          <option value="es">Español</option>
          <option value="en">English</option>
        </select>
      </label>
      <span>
        {me.user?.display_name ?? me.user?.username} · {t(me.role)} · {me.tenant.name}
      </span>
      <button class="link" onClick={() => void logout()}>
        {t("Log out")}
      </button>
    </header>
  );
}

/** Start a page for users of at least `role`: log in first (back here after), else render it. */
export async function start(role: string, current: string, page: (me: Me) => ComponentChildren): Promise<void> {
  document.documentElement.lang = lang();
  const root = document.getElementById("app")!;
  const me = await whoAmI();
  if (me === null) {
    location.assign(`/?next=${encodeURIComponent(current)}`);
    return;
  }
  if ((ROLE_RANK[me.role] ?? 0) < ROLE_RANK[role]) {
    render(
      <>
        <TopBar me={me} current={current} />
        <main>
          <p class="alert" role="alert">{t("Your role may not open this page.")}</p>
        </main>
      </>,
      root,
    );
    return;
  }
  render(
    <>
      <TopBar me={me} current={current} />
      {page(me)}
    </>,
    root,
  );
}

export function seconds(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return "—";
  const v = Math.max(0, Math.round(s));
  const m = Math.floor(v / 60);
  return m >= 60 ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}` : `${m}:${String(v % 60).padStart(2, "0")}`;
}

export function percent(x: number | null | undefined): string {
  return x === null || x === undefined ? "—" : `${Math.round(x * 100)} %`;
}

export function since(iso: string | null | undefined, now: number): number | null {
  return iso ? (now - Date.parse(iso)) / 1000 : null;
}
