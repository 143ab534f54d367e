// The admin sections that are lists with a form: queues, skills, agents, users, API tokens, contact
// reasons (and their groups), hours calendars (and holidays), entry points. Every change goes through the
// REST API, which runs the same actions as the configuration file.
import { useEffect, useState } from "preact/hooks";
import { api, type Problem } from "../lib/api";
import { t } from "../lib/i18n";
import { atCode, codeColumn, Crud, deleting, nameColumn, stateColumn } from "./crud";
import { Active, ActiveCheck, call, Check, CodeField, CodeNameFields, intOrNull, LanguageField, mapText, parseMap, SelectField, TextAreaField, TextField, useList, type S } from "./common";

const CHANNELS = ["voice", "chat", "email"];

function channelName(c: string): string {
  return c === "voice" ? t("Voice") : c === "chat" ? t("Chat") : c === "email" ? t("Email") : c;
}

/** A reference list (skills, queues, hours…) other forms offer as choices. */
function useCodes<R extends { code: string; name?: string }>(load: () => Promise<{ data?: R[]; problem?: unknown }>): R[] {
  const [rows, setRows] = useState<R[]>([]);
  useEffect(() => {
    void load().then((o) => setRows(o.data ?? []));
  }, []);
  return rows;
}

const loadSkills = () => call(api.GET("/api/skills"));
const loadQueues = () => call(api.GET("/api/queues"));
const loadHours = () => call(api.GET("/api/hours"));

// --- queues ------------------------------------------------------------------------------------------------

interface QueueForm {
  code: string;
  name: string;
  channels: string[];
  threshold: string;
  percent: string;
  skills: string;
  segments: string;
  priority_mode: string;
  hours: string;
  overflow_queue: string;
  overflow_after: string;
  overflow_unstaffed: boolean;
  overflow_mode: string;
  max_contacts: string;
  offer_timeout: string;
  active: boolean;
}

export function Queues() {
  const hours = useCodes(loadHours);
  const queues = useCodes(loadQueues);
  return (
    <Crud<S<"QueuePublic">, QueueForm>
      id="queues"
      title={t("Queues")}
      newLabel={t("New queue")}
      intro={t("Where contacts wait for an agent: service level, priorities, opening hours and overflow.")}
      load={loadQueues}
      rowKey={(q) => q.code}
      rowName={(q) => q.name}
      columns={[
        codeColumn(),
        nameColumn(),
        { label: t("Channels"), cell: (q) => q.channels.map(channelName).join(", "), secondary: true },
        { label: t("Service level"), cell: (q) => t("{percent} % in {seconds} s", { percent: q.sl_target.percent ?? 80, seconds: q.sl_target.threshold_s ?? 20 }) },
        { label: t("Hours"), cell: (q) => q.hours ?? "—", secondary: true },
        { label: t("Overflow"), cell: (q) => (q.overflow ? String(q.overflow.queue) : "—"), secondary: true },
        stateColumn(),
      ]}
      blank={() => ({
        code: "",
        name: "",
        channels: [...CHANNELS],
        threshold: "20",
        percent: "80",
        skills: "",
        segments: "",
        priority_mode: "strict",
        hours: "",
        overflow_queue: "",
        overflow_after: "",
        overflow_unstaffed: false,
        overflow_mode: "add",
        max_contacts: "",
        offer_timeout: "",
        active: true,
      })}
      fromRow={(q) => ({
        code: q.code,
        name: q.name,
        channels: q.channels,
        threshold: String(q.sl_target.threshold_s ?? 20),
        percent: String(q.sl_target.percent ?? 80),
        skills: mapText(q.required_skills),
        segments: mapText(q.segment_priority),
        priority_mode: q.priority_mode,
        hours: q.hours ?? "",
        overflow_queue: q.overflow ? String(q.overflow.queue) : "",
        overflow_after: q.overflow?.after_s != null ? String(q.overflow.after_s) : "",
        overflow_unstaffed: Boolean(q.overflow?.when_unstaffed),
        overflow_mode: q.overflow?.mode ? String(q.overflow.mode) : "add",
        max_contacts: q.max_contacts != null ? String(q.max_contacts) : "",
        offer_timeout: String(q.offer_timeout_s),
        active: q.active,
      })}
      form={(f, set, problem, creating) => (
        <>
          <div class="two">
            <CodeNameFields form={f} set={set} problem={problem} creating={creating} codeHint={t("Letters, digits and _; cannot change later")} />
          </div>
          <fieldset>
            <legend>{t("Channels")}</legend>
            <div class="row">
              {CHANNELS.map((c) => (
                <Check label={channelName(c)} checked={f.channels.includes(c)} onChange={(on) => set({ channels: on ? [...f.channels, c] : f.channels.filter((x) => x !== c) })} />
              ))}
            </div>
          </fieldset>
          <fieldset>
            <legend>{t("Service level")}</legend>
            <div class="two">
              <TextField label={t("Target (%)")} name="sl_target.percent" type="number" value={f.percent} onInput={(v) => set({ percent: v })} problem={problem} />
              <TextField label={t("Threshold (seconds)")} name="sl_target.threshold_s" type="number" value={f.threshold} onInput={(v) => set({ threshold: v })} problem={problem} />
            </div>
          </fieldset>
          <TextField label={t("Required skills")} name="required_skills" value={f.skills} onInput={(v) => set({ skills: v })} problem={problem} hint={t("skill:minimum level, separated by commas (e.g. cards:2)")} />
          <div class="two">
            <SelectField label={t("Priority mode")} name="priority_mode" value={f.priority_mode} onChange={(v) => set({ priority_mode: v })} problem={problem} options={[["strict", t("Strict")], ["aged", t("Aged (waiting raises priority)")]]} />
            <TextField label={t("Segment priorities")} name="segment_priority" value={f.segments} onInput={(v) => set({ segments: v })} problem={problem} hint={t("segment:priority, e.g. vip:10")} />
          </div>
          <div class="two">
            <SelectField label={t("Hours calendar")} name="hours" value={f.hours} onChange={(v) => set({ hours: v })} problem={problem} options={[["", t("Always open")], ...hours.map((h): [string, string] => [h.code, h.name])]} />
            <TextField label={t("Maximum contacts waiting")} name="max_contacts" type="number" value={f.max_contacts} onInput={(v) => set({ max_contacts: v })} problem={problem} hint={t("Empty: no limit")} />
          </div>
          <fieldset>
            <legend>{t("Overflow")}</legend>
            <div class="two">
              <SelectField label={t("Overflow queue")} name="overflow.queue" value={f.overflow_queue} onChange={(v) => set({ overflow_queue: v })} problem={problem} options={[["", t("No overflow")], ...queues.filter((q) => q.code !== f.code).map((q): [string, string] => [q.code, q.name])]} />
              <TextField label={t("After (seconds)")} name="overflow.after_s" type="number" value={f.overflow_after} onInput={(v) => set({ overflow_after: v })} problem={problem} />
            </div>
            <Check label={t("Also when no agent is logged in")} checked={f.overflow_unstaffed} onChange={(v) => set({ overflow_unstaffed: v })} />
          </fieldset>
          <TextField label={t("Offer timeout (seconds)")} name="offer_timeout_s" type="number" value={f.offer_timeout} onInput={(v) => set({ offer_timeout: v })} problem={problem} hint={t("Empty: the default")} />
          <ActiveCheck creating={creating} checked={f.active} onChange={(v) => set({ active: v })} />
        </>
      )}
      save={(f, row) => {
        const body = {
          name: f.name,
          channels: f.channels,
          sl_target: { threshold_s: Number(f.threshold), percent: Number(f.percent) },
          required_skills: parseMap(f.skills),
          segment_priority: parseMap(f.segments),
          priority_mode: f.priority_mode,
          hours: f.hours || null,
          overflow: f.overflow_queue ? { queue: f.overflow_queue, after_s: intOrNull(f.overflow_after), when_unstaffed: f.overflow_unstaffed, mode: f.overflow_mode } : null,
          max_contacts: intOrNull(f.max_contacts),
          ...(f.offer_timeout.trim() ? { offer_timeout_s: Number(f.offer_timeout) } : {}),
        };
        return row
          ? call(api.PATCH("/api/queues/{code}", { ...atCode(row), body: { ...body, active: f.active } }))
          : call(api.POST("/api/queues", { body: { ...body, code: f.code } }));
      }}
      remove={deleting((q) => t("Delete the queue {name}? This cannot be undone.", { name: q.name }), (q) => call(api.DELETE("/api/queues/{code}", atCode(q))))}
    />
  );
}

// --- skills ------------------------------------------------------------------------------------------------

export function Skills() {
  return (
    <Crud<S<"SkillPublic">, { code: string; name: string }>
      id="skills"
      title={t("Skills")}
      newLabel={t("New skill")}
      intro={t("What agents know; queues ask for them, agents have them at a level from 1 to 5.")}
      load={loadSkills}
      rowKey={(s) => s.code}
      rowName={(s) => s.name}
      columns={[
        codeColumn(),
        nameColumn(),
      ]}
      blank={() => ({ code: "", name: "" })}
      fromRow={(s) => ({ code: s.code, name: s.name })}
      form={(f, set, problem, creating) => (
        <>
          <CodeNameFields form={f} set={set} problem={problem} creating={creating} codeHint={t("Letters, digits and _; cannot change later")} />
        </>
      )}
      save={(f, row) =>
        row
          ? call(api.PATCH("/api/skills/{code}", { ...atCode(row), body: { name: f.name } }))
          : call(api.POST("/api/skills", { body: { code: f.code, name: f.name } }))
      }
      remove={deleting((s) => t("Delete the skill {name}? This cannot be undone.", { name: s.name }), (s) => call(api.DELETE("/api/skills/{code}", atCode(s))))}
    />
  );
}

// --- agents ------------------------------------------------------------------------------------------------

interface AgentForm {
  code: string;
  name: string;
  email: string;
  languages: string;
  skills: Record<string, number>;
  queues: string[];
  profile: S<"ProfileEntry">[];
  capacity: Record<string, string>;
  active: boolean;
}

export function Agents() {
  const skills = useCodes(loadSkills);
  const queues = useCodes(loadQueues);
  return (
    <Crud<S<"AgentPublic">, AgentForm>
      id="agents"
      title={t("Agents")}
      newLabel={t("New agent")}
      intro={t("The people who take contacts: their skills, their queues and how many contacts of each channel at once.")}
      load={() => call(api.GET("/api/agents", { params: { query: { include_inactive: true } } }))}
      rowKey={(a) => a.code}
      rowName={(a) => a.name}
      columns={[
        codeColumn(),
        nameColumn(),
        { label: t("Skills"), cell: (a) => mapText(a.skills) || "—", secondary: true },
        { label: t("Queues"), cell: (a) => a.queues.map((q) => q.queue).join(", ") || "—", secondary: true },
        { label: t("Capacity"), cell: (a) => Object.entries(a.capacity).map(([c, n]) => `${channelName(c)} ${n}`).join(" · ") || "—", secondary: true },
        stateColumn(),
      ]}
      blank={() => ({ code: "", name: "", email: "", languages: "es", skills: {}, queues: [], profile: [], capacity: { voice: "1", chat: "3", email: "2" }, active: true })}
      fromRow={(a) => ({
        code: a.code,
        name: a.name,
        email: a.email ?? "",
        languages: a.languages.join(", "),
        skills: { ...a.skills },
        queues: a.queues.map((q) => q.queue),
        profile: a.queues,
        capacity: Object.fromEntries(CHANNELS.map((c) => [c, a.capacity[c] != null ? String(a.capacity[c]) : "0"])),
        active: a.active,
      })}
      form={(f, set, problem, creating) => (
        <>
          <div class="two">
            <CodeNameFields form={f} set={set} problem={problem} creating={creating} />
          </div>
          <div class="two">
            <TextField label={t("Email")} name="email" type="email" value={f.email} onInput={(v) => set({ email: v })} problem={problem} />
            <TextField label={t("Languages")} name="languages" value={f.languages} onInput={(v) => set({ languages: v })} problem={problem} hint={t("e.g. es, en")} />
          </div>
          <fieldset>
            <legend>{t("Skills (level 1 to 5)")}</legend>
            {skills.length === 0 ? <p class="muted small">{t("No skills yet.")}</p> : null}
            <div class="three">
              {skills.map((s) => (
                <SelectField
                  label={s.name}
                  name={`skills.${s.code}`}
                  value={String(f.skills[s.code] ?? "")}
                  problem={problem}
                  options={[["", "—"], ["1", "1"], ["2", "2"], ["3", "3"], ["4", "4"], ["5", "5"]]}
                  onChange={(v) => {
                    const next = { ...f.skills };
                    if (v) next[s.code] = Number(v);
                    else delete next[s.code];
                    set({ skills: next });
                  }}
                />
              ))}
            </div>
          </fieldset>
          <fieldset>
            <legend>{t("Queues")}</legend>
            <div class="row">
              {queues.map((q) => (
                <Check label={q.name} checked={f.queues.includes(q.code)} onChange={(on) => set({ queues: on ? [...f.queues, q.code] : f.queues.filter((x) => x !== q.code) })} />
              ))}
            </div>
          </fieldset>
          <fieldset>
            <legend>{t("Contacts at once, by channel")}</legend>
            <div class="three">
              {CHANNELS.map((c) => (
                <TextField label={channelName(c)} name={`capacity.${c}`} type="number" value={f.capacity[c] ?? "0"} onInput={(v) => set({ capacity: { ...f.capacity, [c]: v } })} problem={problem} />
              ))}
            </div>
          </fieldset>
          <ActiveCheck creating={creating} checked={f.active} onChange={(v) => set({ active: v })} />
        </>
      )}
      save={(f, row) => {
        const body = {
          name: f.name,
          email: f.email.trim() || null,
          languages: f.languages.split(",").map((s) => s.trim()).filter(Boolean),
          skills: f.skills,
          queues: f.queues.map((queue) => f.profile.find((q) => q.queue === queue) ?? { queue, rank: 1, delay_s: 0 }),
          capacity: Object.fromEntries(Object.entries(f.capacity).map(([c, n]) => [c, Number(n || 0)])),
        };
        return row
          ? call(api.PATCH("/api/agents/{code}", { ...atCode(row), body: { ...body, active: f.active } }))
          : call(api.POST("/api/agents", { body: { ...body, code: f.code } }));
      }}
      remove={deleting((a) => t("Delete the agent {name}? This cannot be undone.", { name: a.name }), (a) => call(api.DELETE("/api/agents/{code}", atCode(a))))}
    />
  );
}

// --- users -------------------------------------------------------------------------------------------------

interface UserForm {
  username: string;
  display_name: string;
  password: string;
  role: string;
  agent: string;
  language: string;
  active: boolean;
}

function roleOptions(): [string, string][] {
  return [
    ["agent", t("agent")],
    ["supervisor", t("supervisor")],
    ["admin", t("admin")],
  ];
}

export function Users() {
  const agents = useCodes(() => call(api.GET("/api/agents")));
  return (
    <Crud<S<"UserPublic">, UserForm>
      id="users"
      title={t("Users")}
      newLabel={t("New user")}
      intro={t("Who logs in, with which role; an agent user is linked to its agent.")}
      load={() => call(api.GET("/api/users"))}
      rowKey={(u) => String(u.id)}
      rowName={(u) => u.username}
      columns={[
        { label: t("User"), cell: (u) => <code>{u.username}</code> },
        { label: t("Name"), cell: (u) => u.display_name },
        { label: t("Role"), cell: (u) => t(u.role) },
        { label: t("Agent"), secondary: true, cell: (u) => agents.find((a) => "id" in a && (a as { id: number }).id === u.agent_id)?.name ?? "—" },
        stateColumn(),
      ]}
      blank={() => ({ username: "", display_name: "", password: "", role: "agent", agent: "", language: "es", active: true })}
      fromRow={(u) => ({ username: u.username, display_name: u.display_name, password: "", role: u.role, agent: "", language: u.language, active: u.active })}
      form={(f, set, problem, creating) => (
        <>
          <div class="two">
            <TextField label={t("User")} name="username" value={f.username} onInput={(v) => set({ username: v })} problem={problem} required disabled={!creating} />
            <TextField label={t("Name")} name="display_name" value={f.display_name} onInput={(v) => set({ display_name: v })} problem={problem} />
          </div>
          <TextField
            label={creating ? t("Password") : t("New password (reset)")}
            name="password"
            type="password"
            autocomplete="new-password"
            value={f.password}
            onInput={(v) => set({ password: v })}
            problem={problem}
            required={creating}
            hint={creating ? undefined : t("Empty: keep the current password")}
          />
          <div class="two">
            <SelectField label={t("Role")} name="role" value={f.role} onChange={(v) => set({ role: v })} problem={problem} options={roleOptions()} />
            <LanguageField value={f.language} onChange={(v) => set({ language: v })} problem={problem} />
          </div>
          {creating ? (
            <SelectField label={t("Agent")} name="agent" value={f.agent} onChange={(v) => set({ agent: v })} problem={problem} options={[["", t("None")], ...agents.map((a): [string, string] => [a.code, a.name])]} hint={t("For the agent role")} />
          ) : (
            <Check label={t("Active (may log in)")} checked={f.active} onChange={(v) => set({ active: v })} />
          )}
        </>
      )}
      save={(f, row) =>
        row
          ? call(
              api.PATCH("/api/users/{user_id}", {
                params: { path: { user_id: row.id } },
                body: { display_name: f.display_name, role: f.role, language: f.language, active: f.active, ...(f.password ? { password: f.password } : {}) },
              }),
            )
          : call(
              api.POST("/api/users", {
                body: { username: f.username, display_name: f.display_name, password: f.password, role: f.role, language: f.language, agent: f.agent || null },
              }),
            )
      }
      remove={{
        label: t("Deactivate"),
        when: (u) => u.active,
        question: (u) => t("Deactivate the user {name}? They will not be able to log in.", { name: u.username }),
        run: (u) => call(api.PATCH("/api/users/{user_id}", { params: { path: { user_id: u.id } }, body: { active: false } })),
      }}
    />
  );
}

// --- API tokens --------------------------------------------------------------------------------------------

function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : "—";
}

export function Tokens() {
  return (
    <Crud<S<"ApiTokenPublic">, { name: string; role: string; days: string }>
      id="tokens"
      title={t("API tokens")}
      newLabel={t("New token")}
      intro={t("For other systems calling the API. The secret is shown once, when the token is created.")}
      load={() => call(api.GET("/api/tokens"))}
      rowKey={(k) => String(k.id)}
      rowName={(k) => k.name}
      canEdit={false}
      columns={[
        { label: t("Name"), cell: (k) => k.name },
        { label: t("Role"), cell: (k) => t(k.role) },
        { label: t("Created"), cell: (k) => when(k.created_at) },
        { label: t("Expires"), cell: (k) => when(k.expires_at) },
        { label: t("Last used"), cell: (k) => when(k.last_used_at) },
        { label: t("State"), cell: (k) => (k.revoked_at ? <span class="badge away">{t("Revoked")}</span> : <Active active={true} />) },
      ]}
      blank={() => ({ name: "", role: "supervisor", days: "90" })}
      fromRow={(k) => ({ name: k.name, role: k.role, days: "" })}
      form={(f, set, problem) => (
        <>
          <TextField label={t("Name")} name="name" value={f.name} onInput={(v) => set({ name: v })} problem={problem} required />
          <div class="two">
            <SelectField label={t("Role")} name="role" value={f.role} onChange={(v) => set({ role: v })} problem={problem} options={roleOptions()} />
            <TextField label={t("Expires in (days)")} name="expires_in_days" type="number" value={f.days} onInput={(v) => set({ days: v })} problem={problem} hint={t("Empty: never")} />
          </div>
        </>
      )}
      save={(f) => call(api.POST("/api/tokens", { body: { name: f.name, role: f.role, expires_in_days: intOrNull(f.days) } }))}
      after={(saved) => {
        const issued = saved as S<"ApiTokenIssued">;
        return (
          <div class="card secret" role="status">
            <h2>{t("The token's secret")}</h2>
            <p class="small">{t("Copy it now: it will not be shown again.")}</p>
            <label for="token-secret">{t("Secret of {name}", { name: issued.name })}</label>
            <input id="token-secret" class="mono wide" readOnly value={issued.token} onFocus={(e) => e.currentTarget.select()} />
          </div>
        );
      }}
      remove={{
        label: t("Revoke"),
        when: (k) => !k.revoked_at,
        question: (k) => t("Revoke the token {name}? Systems using it will be refused.", { name: k.name }),
        run: (k) => call(api.DELETE("/api/tokens/{token_id}", { params: { path: { token_id: k.id } } })),
      }}
    />
  );
}

// --- contact reasons and their groups ----------------------------------------------------------------------

/** A reason's or a group's names, side by side. */
function SpanishEnglishNames(p: { form: { name_es: string; name_en: string }; set: (patch: { name_es?: string; name_en?: string }) => void; problem: Problem | null }) {
  return (
    <div class="two">
      <TextField label={t("Name in Spanish")} name="name_es" value={p.form.name_es} onInput={(v) => p.set({ name_es: v })} problem={p.problem} required />
      <TextField label={t("Name in English")} name="name_en" value={p.form.name_en} onInput={(v) => p.set({ name_en: v })} problem={p.problem} required />
    </div>
  );
}

export function Reasons() {
  const groups = useList(() => call(api.GET("/api/reason-groups")));
  return (
    <>
      <Crud<S<"ReasonPublic">, { code: string; group: string; parent: string; name_es: string; name_en: string; avoidable: boolean; active: boolean }>
        id="reasons"
        title={t("Contact reasons")}
        newLabel={t("New reason")}
        intro={t("Why customers contact you; agents pick one when wrapping up.")}
        load={() => call(api.GET("/api/reasons", { params: { query: { include_inactive: true } } }))}
        rowKey={(r) => r.code}
        rowName={(r) => r.name_es}
        columns={[
          codeColumn(),
          { label: t("Group"), cell: (r) => r.group },
          { label: t("Spanish"), cell: (r) => r.name_es },
          { label: t("English"), cell: (r) => r.name_en, secondary: true },
          { label: t("Avoidable"), cell: (r) => (r.avoidable ? t("Yes") : t("No")), secondary: true },
          stateColumn(),
        ]}
        blank={() => ({ code: "", group: groups.rows?.[0]?.code ?? "", parent: "", name_es: "", name_en: "", avoidable: false, active: true })}
        fromRow={(r) => ({ code: r.code, group: r.group, parent: r.parent ?? "", name_es: r.name_es, name_en: r.name_en, avoidable: r.avoidable, active: r.active })}
        form={(f, set, problem, creating) => (
          <>
            <div class="two">
              <CodeField value={f.code} onInput={(v) => set({ code: v })} problem={problem} creating={creating} />
              <SelectField label={t("Group")} name="group" value={f.group} onChange={(v) => set({ group: v })} problem={problem} disabled={!creating} options={(groups.rows ?? []).map((g): [string, string] => [g.code, g.name_es])} />
            </div>
            <SpanishEnglishNames form={f} set={set} problem={problem} />
            {creating ? <TextField label={t("Parent reason")} name="parent" value={f.parent} onInput={(v) => set({ parent: v })} problem={problem} hint={t("Code of the parent; empty for a top reason")} /> : null}
            <Check label={t("Avoidable (self-service could have solved it)")} checked={f.avoidable} onChange={(v) => set({ avoidable: v })} />
            <ActiveCheck creating={creating} checked={f.active} onChange={(v) => set({ active: v })} />
          </>
        )}
        save={(f, row) =>
          row
            ? call(api.PATCH("/api/reasons/{code}", { ...atCode(row), body: { name_es: f.name_es, name_en: f.name_en, avoidable: f.avoidable, active: f.active } }))
            : call(api.POST("/api/reasons", { body: { code: f.code, group: f.group, parent: f.parent || null, name_es: f.name_es, name_en: f.name_en, avoidable: f.avoidable } }))
        }
        remove={deleting((r) => t("Delete the reason {name}? This cannot be undone.", { name: r.name_es }), (r) => call(api.DELETE("/api/reasons/{code}", atCode(r))))}
      />
      <Crud<S<"ReasonGroupPublic">, { code: string; name_es: string; name_en: string }>
        id="reason-groups"
        title={t("Reason groups")}
        newLabel={t("New group")}
        load={async () => {
          const o = await call(api.GET("/api/reason-groups"));
          groups.reload();
          return o;
        }}
        rowKey={(g) => g.code}
        rowName={(g) => g.name_es}
        canEdit={false}
        columns={[
          codeColumn(),
          { label: t("Spanish"), cell: (g) => g.name_es },
          { label: t("English"), cell: (g) => g.name_en },
        ]}
        blank={() => ({ code: "", name_es: "", name_en: "" })}
        fromRow={(g) => ({ code: g.code, name_es: g.name_es, name_en: g.name_en })}
        form={(f, set, problem) => (
          <>
            <TextField label={t("Code")} name="code" value={f.code} onInput={(v) => set({ code: v })} problem={problem} required />
            <SpanishEnglishNames form={f} set={set} problem={problem} />
          </>
        )}
        save={(f) => call(api.POST("/api/reason-groups", { body: f }))}
      />
    </>
  );
}

// --- hours calendars and holidays --------------------------------------------------------------------------

const DAYS = ["", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

function weeklyText(weekly: Record<string, unknown>[]): string {
  return weekly.map((w) => `${DAYS[Number(w.day)] ?? w.day} ${String(w.start)}-${String(w.end)}`).join("\n");
}

function parseWeekly(text: string): S<"WeeklyInterval">[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      const [day, span = ""] = line.split(/\s+/);
      const [start = "", end = ""] = span.split("-");
      const index = DAYS.indexOf(day);
      return { day: index > 0 ? index : Number(day), start, end };
    });
}

function overridesText(overrides: Record<string, unknown>[]): string {
  return overrides
    .map((o) => {
      const spans = (o.intervals as { start: string; end: string }[] | undefined)?.map((i) => `${i.start}-${i.end}`).join(",") ?? "";
      return `${String(o.date)} ${o.closed ? "closed" : spans} ${String(o.name ?? "")}`.trim();
    })
    .join("\n");
}

function parseOverrides(text: string): S<"HoursOverride">[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      const [date = "", what = "closed", ...name] = line.split(/\s+/);
      const closed = what === "closed";
      const intervals = closed ? [] : what.split(",").map((s) => ({ start: s.split("-")[0] ?? "", end: s.split("-")[1] ?? "" }));
      return { date, closed, intervals, name: name.join(" ") };
    });
}

export function Hours() {
  return (
    <Crud<S<"HoursPublic">, { code: string; name: string; timezone: string; weekly: string; overrides: string }>
      id="hours"
      title={t("Hours calendars")}
      newLabel={t("New calendar")}
      intro={t("When queues and flows are open: the weekly hours and the holidays or special days.")}
      load={loadHours}
      rowKey={(h) => h.code}
      rowName={(h) => h.name}
      columns={[
        codeColumn(),
        nameColumn(),
        { label: t("Time zone"), cell: (h) => h.timezone },
        { label: t("Weekly intervals"), cell: (h) => h.weekly.length, num: true, secondary: true },
        { label: t("Holidays and special days"), cell: (h) => h.overrides.length, num: true },
      ]}
      blank={() => ({ code: "", name: "", timezone: "Europe/Madrid", weekly: "Mon 09:00-18:00\nTue 09:00-18:00\nWed 09:00-18:00\nThu 09:00-18:00\nFri 09:00-18:00", overrides: "" })}
      fromRow={(h) => ({ code: h.code, name: h.name, timezone: h.timezone, weekly: weeklyText(h.weekly), overrides: overridesText(h.overrides) })}
      form={(f, set, problem, creating) => (
        <>
          <div class="two">
            <CodeNameFields form={f} set={set} problem={problem} creating={creating} />
          </div>
          <TextField label={t("Time zone")} name="timezone" value={f.timezone} onInput={(v) => set({ timezone: v })} problem={problem} hint="Europe/Madrid" />
          <TextAreaField label={t("Weekly hours")} name="weekly" rows={7} mono value={f.weekly} onInput={(v) => set({ weekly: v })} problem={problem} hint={t("One interval a line: day (Mon…Sun) and HH:MM-HH:MM")} />
          <TextAreaField label={t("Holidays and special days")} name="overrides" rows={5} mono value={f.overrides} onInput={(v) => set({ overrides: v })} problem={problem} hint={t("One a line: YYYY-MM-DD, then closed or HH:MM-HH:MM[,HH:MM-HH:MM], then a name")} />
        </>
      )}
      save={(f, row) => {
        const body = { name: f.name, timezone: f.timezone, weekly: parseWeekly(f.weekly), overrides: parseOverrides(f.overrides) };
        return row
          ? call(api.PATCH("/api/hours/{code}", { ...atCode(row), body }))
          : call(api.POST("/api/hours", { body: { ...body, code: f.code } }));
      }}
      remove={deleting((h) => t("Delete the calendar {name}? This cannot be undone.", { name: h.name }), (h) => call(api.DELETE("/api/hours/{code}", atCode(h))))}
    />
  );
}

// --- entry points ------------------------------------------------------------------------------------------

export function EntryPoints() {
  const flows = useCodes(async () => {
    const o = await call(api.GET("/api/flows"));
    return { data: o.data?.map((f) => ({ code: f.code, name: f.code })) };
  });
  return (
    <Crud<S<"EntryPointPublic">, { code: string; name: string; kind: string; address: string; flow: string; language: string; active: boolean }>
      id="entry-points"
      title={t("Entry points")}
      newLabel={t("New entry point")}
      intro={t("The phone numbers, chat widgets and email addresses customers reach, each with the flow it runs.")}
      load={() => call(api.GET("/api/entry-points"))}
      rowKey={(e) => e.code}
      rowName={(e) => e.name}
      columns={[
        codeColumn(),
        nameColumn(),
        { label: t("Kind"), cell: (e) => e.kind },
        { label: t("Address"), cell: (e) => <code>{e.address}</code>, secondary: true },
        { label: t("Flow"), cell: (e) => e.flow },
        stateColumn(),
      ]}
      blank={() => ({ code: "", name: "", kind: "phone", address: "", flow: flows[0]?.code ?? "", language: "es", active: true })}
      fromRow={(e) => ({ code: e.code, name: e.name, kind: e.kind, address: e.address, flow: e.flow, language: e.language, active: e.active })}
      form={(f, set, problem, creating) => (
        <>
          <div class="two">
            <CodeNameFields form={f} set={set} problem={problem} creating={creating} />
          </div>
          <div class="two">
            <SelectField label={t("Kind")} name="kind" value={f.kind} onChange={(v) => set({ kind: v })} problem={problem} options={[["phone", t("Phone")], ["chat", t("Chat")], ["email", t("Email")]]} />
            <TextField label={t("Address")} name="address" value={f.address} onInput={(v) => set({ address: v })} problem={problem} required hint={t("A phone number, a widget key or an email address")} />
          </div>
          <div class="two">
            <SelectField label={t("Flow")} name="flow" value={f.flow} onChange={(v) => set({ flow: v })} problem={problem} options={flows.map((x): [string, string] => [x.code, x.code])} />
            <LanguageField value={f.language} onChange={(v) => set({ language: v })} problem={problem} />
          </div>
          <ActiveCheck creating={creating} checked={f.active} onChange={(v) => set({ active: v })} />
        </>
      )}
      save={(f, row) =>
        row
          ? call(api.PATCH("/api/entry-points/{code}", { ...atCode(row), body: { name: f.name, kind: f.kind, address: f.address, flow: f.flow, language: f.language, active: f.active } }))
          : call(api.POST("/api/entry-points", { body: { code: f.code, name: f.name, kind: f.kind, address: f.address, flow: f.flow, language: f.language } }))
      }
      remove={{
        label: t("Deactivate"),
        when: (e) => e.active,
        question: (e) => t("Deactivate the entry point {name}? Contacts to it will not be taken.", { name: e.name }),
        run: (e) => call(api.PATCH("/api/entry-points/{code}", { params: { path: { code: e.code } }, body: { active: false } })),
      }}
    />
  );
}
