// The admin console (/admin, admins only): a left navigation of sections, each a list with a form
// (web/src/admin/). The section is kept in the address (#queues, #flows…) so a reload stays put.
import { useEffect, useState } from "preact/hooks";
import { Flows } from "../admin/flows";
import { Knowledge } from "../admin/knowledge";
import { Agents, EntryPoints, Hours, Queues, Reasons, Skills, Tokens, Users } from "../admin/sections";
import { t } from "../lib/i18n";
import { start } from "../lib/ui";

interface Section {
  id: string;
  title: () => string;
  group: () => string;
  view: () => preact.JSX.Element;
}

const SECTIONS: Section[] = [
  { id: "queues", title: () => t("Queues"), group: () => t("Routing"), view: () => <Queues /> },
  { id: "skills", title: () => t("Skills"), group: () => t("Routing"), view: () => <Skills /> },
  { id: "hours", title: () => t("Hours calendars"), group: () => t("Routing"), view: () => <Hours /> },
  { id: "agents", title: () => t("Agents"), group: () => t("People"), view: () => <Agents /> },
  { id: "users", title: () => t("Users"), group: () => t("People"), view: () => <Users /> },
  { id: "tokens", title: () => t("API tokens"), group: () => t("People"), view: () => <Tokens /> },
  { id: "flows", title: () => t("Contact flows"), group: () => t("Channels"), view: () => <Flows /> },
  { id: "entry-points", title: () => t("Entry points"), group: () => t("Channels"), view: () => <EntryPoints /> },
  { id: "reasons", title: () => t("Contact reasons"), group: () => t("Service"), view: () => <Reasons /> },
  { id: "knowledge", title: () => t("Knowledge base and scripts"), group: () => t("Service"), view: () => <Knowledge /> },
];

function current(): string {
  const id = location.hash.slice(1);
  return SECTIONS.some((s) => s.id === id) ? id : "queues";
}

function Admin() {
  const [id, setId] = useState(current());
  useEffect(() => {
    const onHash = () => {
      setId(current());
      document.getElementById("admin-content")?.focus();
    };
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);
  const groups = [...new Set(SECTIONS.map((s) => s.group()))];
  const section = SECTIONS.find((s) => s.id === id)!;
  useEffect(() => {
    document.title = `${section.title()} · ${t("Administration")} · Centralita`;
  }, [id]);
  return (
    <div class="admin">
      <nav class="sidenav" aria-label={t("Administration")}>
        {groups.map((g) => (
          <div class="navgroup">
            <p class="navgroup-title">{g}</p>
            <ul>
              {SECTIONS.filter((s) => s.group() === g).map((s) => (
                <li>
                  <a href={`#${s.id}`} aria-current={s.id === id ? "page" : undefined}>
                    {s.title()}
                  </a>
                </li>
              ))}
            </ul>
          </div>
        ))}
      </nav>
      <main id="admin-content" tabIndex={-1} key={id}>
        {section.view()}
      </main>
    </div>
  );
}

void start("admin", "/admin", () => <Admin />);
