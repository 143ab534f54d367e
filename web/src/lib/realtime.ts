// The realtime contract in the browser (server side: realtime/ws.py and realtime/state.py): the first
// `hello` carries a snapshot, each later event goes through apply(), which keeps the state what a fresh
// snapshot would give; a reconnect resumes after the last seq processed, so nothing is lost or repeated.

/** A contact as recognised at arrival (`contacts.live.contact_summary`): what a screen shows of it. */
export interface ContactSummary {
  id?: number;
  channel?: string;
  queue?: string | null;
  priority?: number;
  ani?: string | null;
  customer_id?: number | null;
  customer_name?: string | null;
  segment?: string | null;
  value_tier?: string | null;
  lifecycle_stage?: string | null;
  language?: string | null;
  self_service?: boolean | null;
  collected?: Record<string, unknown>;
  [key: string]: unknown;
}
export interface AgentRow {
  id: number;
  code: string;
  name: string;
  active: boolean;
  state: string;
  away_reason: string | null;
  state_since: string | null;
  activity?: string;
}
export interface OfferRow {
  contact_id: number;
  agent_id: number;
  queue: string | null;
  timeout_at: string;
  contact: ContactSummary;
}
export interface ContactRow {
  contact_id: number;
  agent_id: number;
  status: string;
  queue: string | null;
  contact: ContactSummary;
}
export interface QueueRow {
  id: number;
  code: string;
  name: string;
  active: boolean;
}
export interface State {
  me: { role: string; agent_id: number | null; user_id: number | null; sees_all: boolean };
  agents: Record<string, AgentRow>;
  offers: Record<string, OfferRow>;
  contacts: Record<string, ContactRow>;
  queues: Record<string, QueueRow>;
}
export interface EventRecord {
  seq: number;
  type: string;
  ts: string;
  agent_id?: number | null;
  contact_id?: number | null;
  queue_id?: number | null;
  data?: Record<string, any>;
}
export type QueueFigures = Record<string, any> & { queue: string; queue_id?: number };

export function activity(state: State, agentId: number): string {
  const agent = state.agents[String(agentId)];
  if (agent.state === "offline" || !agent.active) return "offline";
  const mine = Object.values(state.contacts).filter((c) => c.agent_id === agentId);
  if (mine.some((c) => c.status === "connected" || c.status === "held")) return "busy";
  if (mine.some((c) => c.status === "acw")) return "wrap_up";
  if (Object.values(state.offers).some((o) => o.agent_id === agentId)) return "ringing";
  return agent.state;
}

function mineAgent(state: State, agentId: number | null | undefined): boolean {
  return agentId != null && (state.me.sees_all || agentId === state.me.agent_id);
}

/** The state after one event (a new object; the argument is not changed). */
export function apply(previous: State, event: EventRecord): State {
  const out: State = structuredClone(previous);
  const data = event.data ?? {};
  const agentId = event.agent_id ?? null;
  const contactId = event.contact_id ?? null;
  const { agents, offers, contacts, queues } = out;
  const changes = (data.changes ?? {}) as Record<string, [unknown, unknown]>;
  switch (event.type) {
    case "agent.created":
      if (mineAgent(out, agentId) && agentId != null)
        agents[String(agentId)] = {
          id: agentId, code: data.code, name: data.name, active: true, state: "offline", away_reason: null,
          state_since: event.ts,
        };
      break;
    case "agent.updated": {
      const a = agents[String(agentId)];
      if (a) {
        if ("name" in changes) a.name = changes.name[1] as string;
        if ("active" in changes) a.active = changes.active[1] as boolean;
      }
      break;
    }
    case "agent.deleted":
      if (agents[String(agentId)]) agents[String(agentId)].active = false;
      break;
    case "agent.state_changed": {
      const a = agents[String(agentId)];
      if (a) Object.assign(a, { state: data.to, away_reason: data.away_reason, state_since: event.ts });
      break;
    }
    case "contact.offered":
      if (mineAgent(out, agentId) && agentId != null && contactId != null)
        offers[`${contactId}:${agentId}`] = {
          contact_id: contactId, agent_id: agentId, queue: data.queue, timeout_at: data.timeout_at,
          contact: data.contact,
        };
      break;
    case "contact.offer_ended":
      delete offers[`${contactId}:${agentId}`];
      break;
    case "contact.connected":
      if (mineAgent(out, agentId) && agentId != null && contactId != null)
        contacts[String(contactId)] = {
          contact_id: contactId, agent_id: agentId, status: "connected", queue: data.queue, contact: data.contact,
        };
      break;
    case "contact.held":
    case "contact.resumed":
      if (contacts[String(contactId)])
        contacts[String(contactId)].status = event.type === "contact.held" ? "held" : "connected";
      break;
    case "contact.ended":
      if (data.acw && contacts[String(contactId)]) contacts[String(contactId)].status = "acw";
      break;
    case "contact.wrapped_up":
      delete contacts[String(contactId)];
      break;
    case "queue.created":
      if (out.me.sees_all && event.queue_id != null)
        queues[String(event.queue_id)] = { id: event.queue_id, code: data.code, name: data.name, active: true };
      break;
    case "queue.updated": {
      const q = queues[String(event.queue_id)];
      if (q) {
        if ("name" in changes) q.name = changes.name[1] as string;
        if ("active" in changes) q.active = changes.active[1] as boolean;
      }
      break;
    }
    case "queue.deleted":
      if (queues[String(event.queue_id)]) queues[String(event.queue_id)].active = false;
      break;
  }
  for (const id of Object.keys(agents)) agents[id].activity = activity(out, Number(id));
  return out;
}

export interface Handlers {
  state(state: State, event: EventRecord | null): void;
  stats?(queues: QueueFigures[], at: number): void;
  frame?(frame: Record<string, any>): void;
  connection?(up: boolean): void;
}

/** A socket to /api/realtime that reconnects by itself (resuming after the last seq) until close(). */
export class Realtime {
  private socket: WebSocket | null = null;
  private state: State | null = null;
  private lastSeq: number | null = null;
  private closed = false;
  private retry = 500;

  constructor(private readonly handlers: Handlers, private readonly stats = false) {
    this.open();
  }

  close(): void {
    this.closed = true;
    this.socket?.close();
  }

  private url(): string {
    const params = new URLSearchParams();
    if (this.stats) params.set("stats", "1");
    if (this.lastSeq !== null && this.state !== null) params.set("after", String(this.lastSeq));
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    return `${scheme}://${location.host}/api/realtime?${params}`;
  }

  private open(): void {
    const socket = new WebSocket(this.url());
    this.socket = socket;
    socket.onopen = () => {
      this.retry = 500;
      this.handlers.connection?.(true);
    };
    socket.onmessage = (message) => this.receive(JSON.parse(message.data as string));
    socket.onclose = (close) => {
      this.handlers.connection?.(false);
      if (this.closed) return;
      if (close.code === 4401) {
        location.assign(`/?next=${encodeURIComponent(location.pathname)}`);
        return;
      }
      if (close.code === 4422) this.lastSeq = null; // the log cannot resume there: start afresh
      setTimeout(() => this.open(), this.retry);
      this.retry = Math.min(this.retry * 2, 10_000);
    };
  }

  private receive(frame: Record<string, any>): void {
    if (frame.type === "hello") {
      this.lastSeq = frame.last_seq;
      if (frame.snapshot) {
        this.state = frame.snapshot as State;
        for (const id of Object.keys(this.state.agents)) this.state.agents[id].activity = activity(this.state, Number(id));
        this.handlers.state(this.state, null);
      }
      if (frame.queue_stats) this.handlers.stats?.(frame.queue_stats, Date.now() / 1000);
    } else if (frame.type === "event") {
      const event = frame.event as EventRecord;
      if (this.lastSeq !== null && event.seq <= this.lastSeq) return;
      this.lastSeq = event.seq;
      if (this.state) {
        this.state = apply(this.state, event);
        this.handlers.state(this.state, event);
      }
    } else if (frame.type === "queue_stats") {
      this.handlers.stats?.(frame.queues, frame.at);
    } else {
      this.handlers.frame?.(frame);
    }
  }
}
