// Change an agent live: its state (POST /api/agents/{code}/state, supervisors and admins) and its skills
// and queues (PATCH /api/agents/{code}, admins). What the API refuses is shown as it says it.
import { useEffect, useRef, useState } from "preact/hooks";
import type { paths } from "../api/schema";
import { api, ok } from "../lib/api";
import { lang, t } from "../lib/i18n";
import type { AgentRow, QueueRow } from "../lib/realtime";
import { activityLabel } from "../lib/labels";

type Agent = paths["/api/agents/{code}"]["get"]["responses"]["200"]["content"]["application/json"];
type Skill = paths["/api/skills"]["get"]["responses"]["200"]["content"]["application/json"][number];
type Away = paths["/api/away-reasons"]["get"]["responses"]["200"]["content"]["application/json"][number];

interface Props {
  agent: AgentRow;
  queues: QueueRow[];
  onClose: () => void;
}

export function AgentDialog({ agent, queues, onClose }: Props) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [full, setFull] = useState<Agent | null>(null);
  const [skills, setSkills] = useState<Skill[]>([]);
  const [aways, setAways] = useState<Away[]>([]);
  const [levels, setLevels] = useState<Record<string, number>>({});
  const [inQueues, setInQueues] = useState<Set<string>>(new Set());
  const [state, setState] = useState(agent.state);
  const [away, setAway] = useState(agent.away_reason ?? "");
  const [error, setError] = useState("");
  const [done, setDone] = useState("");
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    dialog.current?.showModal();
    void (async () => {
      try {
        const [a, s, r] = await Promise.all([
          api.GET("/api/agents/{code}", { params: { path: { code: agent.code } } }).then(ok),
          api.GET("/api/skills").then(ok),
          api.GET("/api/away-reasons").then(ok),
        ]);
        setFull(a);
        setSkills(s);
        setAways(r);
        setLevels({ ...a.skills });
        setInQueues(new Set(a.queues.map((q) => q.queue)));
        if (!agent.away_reason && r.length) setAway(r[0].code);
      } catch (e) {
        setError((e as Error).message);
      }
    })();
  }, [agent.code]);

  async function run(what: () => Promise<unknown>, message: string) {
    setBusy(true);
    setError("");
    setDone("");
    try {
      await what();
      setDone(message);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }

  function applyState(e: Event) {
    e.preventDefault();
    void run(
      () =>
        api
          .POST("/api/agents/{code}/state", {
            params: { path: { code: agent.code } },
            body: { state, away_reason: state === "away" ? away || null : null },
          })
          .then(ok),
      t("State changed"),
    );
  }

  function saveProfile(e: Event) {
    e.preventDefault();
    if (!full) return;
    const kept = new Map(full.queues.map((q) => [q.queue, q]));
    const body = {
      skills: Object.fromEntries(Object.entries(levels).filter(([, v]) => v > 0)),
      queues: queues.filter((q) => inQueues.has(q.code)).map((q) => kept.get(q.code) ?? { queue: q.code, rank: 1, delay_s: 0 }),
    };
    void run(
      async () => {
        const updated = ok(await api.PATCH("/api/agents/{code}", { params: { path: { code: agent.code } }, body }));
        setFull(updated);
      },
      t("Skills and queues saved"),
    );
  }

  return (
    <dialog ref={dialog} class="agent-dialog" aria-labelledby="agent-dialog-title" onClose={onClose}>
      <div class="row" style="justify-content:space-between">
        <h2 id="agent-dialog-title">{t("Change {name}", { name: agent.name })}</h2>
        <button type="button" onClick={() => dialog.current?.close()}>
          {t("Close")}
        </button>
      </div>
      <form onSubmit={applyState} aria-labelledby="state-title">
        <h3 id="state-title">{t("State")}</h3>
        <div class="row">
          <label class="inline">
            {t("New state")}
            <select value={state} onChange={(e) => setState(e.currentTarget.value)}>
              {["available", "away", "offline"].map((s) => (
                <option value={s}>{activityLabel(s)}</option>
              ))}
            </select>
          </label>
          {state === "away" ? (
            <label class="inline">
              {t("Reason")}
              <select value={away} onChange={(e) => setAway(e.currentTarget.value)}>
                {aways.map((r) => (
                  <option value={r.code}>{lang() === "es" ? r.name_es : r.name_en}</option>
                ))}
              </select>
            </label>
          ) : null}
          <button class="primary" type="submit" disabled={busy}>
            {t("Apply state")}
          </button>
        </div>
      </form>
      <form onSubmit={saveProfile} aria-labelledby="profile-title">
        <h3 id="profile-title">{t("Skills and queues")}</h3>
        <fieldset disabled={!full} class="plain">
          <legend class="sr-only">{t("Skills")}</legend>
          <div class="skill-grid">
            {skills.map((s) => (
              <label class="inline" for={`skill-${s.code}`}>
                <span>{s.name}</span>
                <select
                  id={`skill-${s.code}`}
                  value={String(levels[s.code] ?? 0)}
                  onChange={(e) => setLevels({ ...levels, [s.code]: Number(e.currentTarget.value) })}
                >
                  <option value="0">{t("none")}</option>
                  {[1, 2, 3, 4, 5].map((n) => (
                    <option value={String(n)}>{n}</option>
                  ))}
                </select>
              </label>
            ))}
          </div>
        </fieldset>
        <fieldset disabled={!full} class="plain">
          <legend>{t("Queues")}</legend>
          <div class="skill-grid">
            {queues.map((q) => (
              <label class="inline">
                <input
                  type="checkbox"
                  checked={inQueues.has(q.code)}
                  onChange={(e) => {
                    const next = new Set(inQueues);
                    if (e.currentTarget.checked) next.add(q.code);
                    else next.delete(q.code);
                    setInQueues(next);
                  }}
                />
                {q.name}
              </label>
            ))}
          </div>
        </fieldset>
        <div class="row" style="margin-top:0.6rem">
          <button class="primary" type="submit" disabled={busy || !full}>
            {t("Save skills and queues")}
          </button>
        </div>
      </form>
      <div aria-live="polite">
        {error ? <p class="alert" role="alert">{error}</p> : null}
        {done ? <p class="ok-text">{done}</p> : null}
      </div>
    </dialog>
  );
}
