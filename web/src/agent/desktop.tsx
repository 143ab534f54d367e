// The agent desktop: state, offers with a countdown, the contacts in hand (several chats at once), and for
// the selected one the conversation, the screen pop, the script, the knowledge base, the case, transfer and
// wrap-up. Live from the realtime socket (snapshot + events); keyboard shortcuts for the frequent actions.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, must, named, type Me } from "../lib/api";
import { t } from "../lib/i18n";
import { Realtime, type ContactRow, type EventRecord, type OfferRow, type State } from "../lib/realtime";
import { activityLabel, channelLabel, statusLabel } from "../lib/labels";
import { seconds, since } from "../lib/ui";
import { KnowledgeBase, ScriptView } from "./assist";
import { CasePanel } from "./cases";
import { ConversationView } from "./conversation";
import { ScreenPopView } from "./screenpop";
import { collectedOf, type AwayReason, type Message, type Reason, type ScreenPop } from "./types";
import { TransferForm, WrapUpForm } from "./wrapup";

const TYPING_SHOWN_MS = 6000;

function merge(old: Message[], more: Message[]): Message[] {
  const byId = new Map(old.map((m) => [m.id, m]));
  for (const m of more) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

export function shortcuts(): [string, string][] {
  return [
    ["Alt+A", t("Accept the offer")],
    ["Alt+R", t("Reject the offer")],
    ["Alt+1…9", t("Go to contact 1…9")],
    ["Alt+M", t("Write a message")],
    ["Alt+H", t("Hold or resume")],
    ["Alt+T", t("Transfer")],
    ["Alt+E", t("End the contact")],
    ["Alt+W", t("Wrap-up form")],
    ["Alt+K", t("Search the knowledge base")],
    ["Alt+S", t("Available or away")],
    ["Alt+?", t("Show these shortcuts")],
  ];
}

export function Desktop({ me }: { me: Me }) {
  const agentId = me.user?.agent_id ?? null;
  const [state, setState] = useState<State | null>(null);
  const [online, setOnline] = useState(false);
  const [messages, setMessages] = useState<Record<number, Message[]>>({});
  const [typing, setTyping] = useState<Record<number, number>>({});
  const [selected, setSelected] = useState<number | null>(null);
  const [pops, setPops] = useState<Record<number, ScreenPop>>({});
  const [reasons, setReasons] = useState<Reason[]>([]);
  const [away, setAway] = useState<AwayReason[]>([]);
  const [awayChoice, setAwayChoice] = useState("");
  const [transferring, setTransferring] = useState(false);
  const [error, setError] = useState("");
  const [now, setNow] = useState(Date.now());
  const [help, setHelp] = useState(false);
  const seen = useRef(new Set<number>());
  const keys = useRef<(e: KeyboardEvent) => void>(() => undefined);

  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    const rt = new Realtime({
      state: (s: State, e: EventRecord | null) => {
        setState(s);
        if (e?.type === "contact.message" && e.contact_id != null) {
          const d = e.data ?? {};
          const m: Message = { id: d.message_id, sender: d.sender, text: d.text, author: d.author ?? null, created_at: e.ts };
          setMessages((all) => ({ ...all, [e.contact_id!]: merge(all[e.contact_id!] ?? [], [m]) }));
          if (d.sender === "customer") setTyping((all) => ({ ...all, [e.contact_id!]: 0 }));
        }
      },
      frame: (f) => {
        if (f.type === "typing" && f.who === "customer") setTyping((all) => ({ ...all, [f.contact_id]: Date.now() + TYPING_SHOWN_MS }));
      },
      connection: setOnline,
    });
    must(api.GET("/api/reasons")).then(setReasons, () => setReasons([]));
    must(api.GET("/api/away-reasons")).then(
      (a) => {
        setAway(a);
        setAwayChoice(a[0]?.code ?? "");
      },
      () => setAway([]),
    );
    return () => {
      clearInterval(timer);
      rt.close();
    };
  }, []);

  const mine = state && agentId !== null ? state.agents[String(agentId)] : undefined;
  const offers: OfferRow[] = useMemo(
    () => (state ? Object.values(state.offers).filter((o) => o.agent_id === agentId) : []),
    [state, agentId],
  );
  const contacts: ContactRow[] = useMemo(
    () =>
      state ? Object.values(state.contacts).filter((c) => c.agent_id === agentId).sort((a, b) => a.contact_id - b.contact_id) : [],
    [state, agentId],
  );
  const current = contacts.find((c) => c.contact_id === selected) ?? null;

  // a new contact in hand: load its conversation and screen pop once; select it when none is
  useEffect(() => {
    for (const c of contacts) {
      if (seen.current.has(c.contact_id)) continue;
      seen.current.add(c.contact_id);
      void loadMessages(c.contact_id);
      void loadPop(c.contact_id);
    }
    if ((selected === null || !contacts.some((c) => c.contact_id === selected)) && contacts.length) {
      setSelected(contacts[contacts.length - 1].contact_id);
    }
  }, [contacts]);
  useEffect(() => {
    for (const o of offers) if (!pops[o.contact_id]) void loadPop(o.contact_id);
  }, [offers]);

  async function loadMessages(id: number) {
    try {
      const conv = await must(api.GET("/api/contacts/{contact_id}/messages", { params: { path: { contact_id: id } } }));
      setMessages((all) => ({ ...all, [id]: merge(all[id] ?? [], conv.messages) }));
    } catch {
      /* a contact without a conversation (a voice call without a flow) */
    }
  }
  async function loadPop(id: number) {
    try {
      const pop = await must(api.GET("/api/contacts/{contact_id}/screen-pop", { params: { path: { contact_id: id } } }));
      setPops((all) => ({ ...all, [id]: pop }));
    } catch {
      /* the offer ended meanwhile */
    }
  }
  async function run(request: Promise<unknown>): Promise<boolean> {
    setError("");
    try {
      await request;
      return true;
    } catch (err) {
      setError((err as Error).message);
      return false;
    }
  }
  function onContact(id: number, verb: "accept" | "reject" | "hold" | "resume" | "end"): Promise<boolean> {
    const path = { params: { path: { contact_id: id } } };
    switch (verb) {
      case "accept":
        return run(must(api.POST("/api/contacts/{contact_id}/accept", path)));
      case "reject":
        return run(must(api.POST("/api/contacts/{contact_id}/reject", path)));
      case "hold":
        return run(must(api.POST("/api/contacts/{contact_id}/hold", path)));
      case "resume":
        return run(must(api.POST("/api/contacts/{contact_id}/resume", path)));
      case "end":
        return run(must(api.POST("/api/contacts/{contact_id}/end", path)));
    }
  }
  async function setMyState(to: string) {
    const body = to === "away" ? { state: "away", away_reason: awayChoice } : { state: to };
    await run(must(api.POST("/api/agents/me/state", { body })));
  }
  function accept(o: OfferRow) {
    void onContact(o.contact_id, "accept").then((done) => done && setSelected(o.contact_id));
  }

  // keyboard shortcuts (Alt + a letter: never in the way of typing). One listener, reading what is on the
  // screen now through a ref set at every render: an offer drawn a moment ago is accepted by the next key,
  // even before the render's effects have run.
  keys.current = (e: KeyboardEvent) => {
    {
      if (!e.altKey || e.ctrlKey || e.metaKey) return;
      const key = e.key.toLowerCase();
      const code = e.code;
      const digit = /^Digit([1-9])$/.exec(code);
      let handled = true;
      if (code === "KeyA" && offers[0]) accept(offers[0]);
      else if (code === "KeyR" && offers[0]) void onContact(offers[0].contact_id, "reject");
      else if (digit && contacts[Number(digit[1]) - 1]) setSelected(contacts[Number(digit[1]) - 1].contact_id);
      else if (code === "KeyM") document.getElementById("composer")?.focus();
      else if (code === "KeyH" && current) void onContact(current.contact_id, current.status === "held" ? "resume" : "hold");
      else if (code === "KeyT" && current) setTransferring(true);
      else if (code === "KeyE" && current && current.status !== "acw") void onContact(current.contact_id, "end");
      else if (code === "KeyW") document.getElementById("wu-reason")?.focus();
      else if (code === "KeyK") document.getElementById("kb-q")?.focus();
      else if (code === "KeyS") void setMyState(mine?.state === "available" ? "away" : "available");
      else if (key === "?" || code === "Slash") setHelp((h) => !h);
      else handled = false;
      if (handled) e.preventDefault();
    }
  };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => keys.current(e);
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  if (agentId === null) {
    return (
      <main>
        <p class="alert" role="alert">
          {t("This user is not an agent: the desktop is for agents.")}
        </p>
      </main>
    );
  }
  const pop = current ? pops[current.contact_id] ?? null : null;
  const inState = mine ? since(mine.state_since, now) : null;
  return (
    <main class="desktop">
      <aside class="left" aria-label={t("My work")}>
        <section class="card" aria-labelledby="me-title">
          <h2 id="me-title">{t("My state")}</h2>
          <p>
            <span class={`badge ${mine?.activity ?? "offline"}`} data-testid="my-activity">
              {activityLabel(mine?.activity ?? "offline")}
            </span>{" "}
            <span class="muted small">{seconds(inState)}</span>{" "}
            <span class={online ? "ok-text small" : "bad-text small"}>{online ? t("connected") : t("reconnecting…")}</span>
          </p>
          <div class="row">
            <button class={mine?.state === "available" ? "primary" : ""} onClick={() => void setMyState("available")}>
              {t("Available")}
            </button>
            <label for="away-reason" class="sr-only">
              {t("Away reason")}
            </label>
            <select id="away-reason" value={awayChoice} onChange={(e) => setAwayChoice(e.currentTarget.value)}>
              {away.map((r) => (
                <option value={r.code}>{named(r)}</option>
              ))}
            </select>
            <button onClick={() => void setMyState("away")} disabled={!awayChoice}>
              {t("Away")}
            </button>
            <button onClick={() => void setMyState("offline")}>{t("Offline")}</button>
          </div>
        </section>
        <section class="card" aria-labelledby="offers-title">
          <h2 id="offers-title">{t("Offers")}</h2>
          {offers.length === 0 ? <p class="muted small">{t("No offer.")}</p> : null}
          {offers.map((o) => {
            const left = Math.max(0, Math.round((Date.parse(o.timeout_at) - now) / 1000));
            return (
              <div class="offer" role="alert" data-testid="offer">
                <strong>{(o.contact.customer_name as string) ?? t("Unknown customer")}</strong>
                <div class="small">
                  {channelLabel(o.contact.channel)} · {o.queue} · {o.contact.segment ?? ""} {o.contact.value_tier ?? ""}
                </div>
                <div class="small muted" aria-live="off">
                  {t("{n} s left", { n: left })}
                </div>
                <div class="row">
                  <button class="primary" onClick={() => accept(o)}>
                    {t("Accept")} <kbd>Alt+A</kbd>
                  </button>
                  <button onClick={() => void onContact(o.contact_id, "reject")}>{t("Reject")}</button>
                </div>
              </div>
            );
          })}
        </section>
        <nav class="card" aria-labelledby="inhand-title">
          <h2 id="inhand-title">{t("In hand")}</h2>
          {contacts.length === 0 ? <p class="muted small">{t("No contact.")}</p> : null}
          <ul class="tabs" role="list">
            {contacts.map((c, i) => {
              const typingNow = (typing[c.contact_id] ?? 0) > now;
              return (
                <li>
                  <button
                    class={`tab ${c.contact_id === selected ? "selected" : ""}`}
                    aria-current={c.contact_id === selected ? "true" : undefined}
                    onClick={() => setSelected(c.contact_id)}
                  >
                    <span>
                      {i + 1}. {(c.contact.customer_name as string) ?? t("Unknown customer")}
                    </span>
                    <span class="small muted">
                      {channelLabel(c.contact.channel)} · {statusLabel(c.status)}
                      {typingNow ? ` · ${t("typing…")}` : ""}
                    </span>
                  </button>
                </li>
              );
            })}
          </ul>
        </nav>
        <button class="link small" onClick={() => setHelp(!help)} aria-expanded={help}>
          {t("Keyboard shortcuts")}
        </button>
        {help ? (
          <dl class="facts small">
            {shortcuts().map(([k, what]) => (
              <>
                <dt>
                  <kbd>{k}</kbd>
                </dt>
                <dd>{what}</dd>
              </>
            ))}
          </dl>
        ) : null}
      </aside>
      <section class="center" aria-label={t("Contact")}>
        {error ? (
          <p class="alert" role="alert">
            {error}
          </p>
        ) : null}
        {current ? (
          <>
            <div class="card row contact-head">
              <h1 style="margin:0;flex:1">
                {(current.contact.customer_name as string) ?? t("Unknown customer")}{" "}
                <span class="badge">{channelLabel(current.contact.channel)}</span> <span class="badge">{statusLabel(current.status)}</span>
              </h1>
              {current.status !== "acw" ? (
                <>
                  <button onClick={() => void onContact(current.contact_id, current.status === "held" ? "resume" : "hold")}>
                    {current.status === "held" ? t("Resume") : t("Hold")}
                  </button>
                  <button onClick={() => setTransferring(true)}>{t("Transfer")}</button>
                  <button class="danger" onClick={() => void onContact(current.contact_id, "end")}>
                    {t("End")}
                  </button>
                </>
              ) : null}
            </div>
            {transferring ? (
              <TransferForm contactId={current.contact_id} onClose={() => setTransferring(false)} />
            ) : null}
            <ConversationView
              contactId={current.contact_id}
              messages={messages[current.contact_id] ?? []}
              customerTyping={(typing[current.contact_id] ?? 0) > now}
              canWrite={current.status === "connected" && current.contact.channel !== "voice"}
            />
            {current.status === "acw" ? (
              <WrapUpForm
                contactId={current.contact_id}
                reasons={reasons}
                initialReason={pop?.reason ?? null}
                onDone={() => setSelected(null)}
              />
            ) : null}
            <CasePanel
              contactId={current.contact_id}
              customerId={(pop?.customer?.customer.id ?? (current.contact.customer_id as number | null)) ?? null}
              cases={pop?.customer?.open_cases ?? []}
              linkedRef={collectedOf(pop?.contact).case?.reference ?? null}
              onChanged={() => void loadPop(current.contact_id)}
            />
          </>
        ) : offers[0] ? (
          <ScreenPopView summary={offers[0].contact} pop={pops[offers[0].contact_id] ?? null} />
        ) : (
          <div class="card">
            <p class="muted">{mine?.state === "available" ? t("Waiting for contacts…") : t("Set yourself available to receive contacts.")}</p>
          </div>
        )}
      </section>
      <aside class="right" aria-label={t("Customer and help")}>
        {current ? <ScreenPopView summary={current.contact} pop={pop} /> : null}
        {current ? <ScriptView contactId={current.contact_id} /> : null}
        <KnowledgeBase contactId={current?.contact_id ?? null} />
      </aside>
    </main>
  );
}
