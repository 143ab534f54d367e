// The web chat widget a company embeds with one tag:
//   <script src="https://centralita.example/widget.js" data-site-key="KEY" async></script>
// (optional: data-lang="es|en", data-title="…"). It opens a conversation at the entry point the site key
// names (its chat-bot flow, then an agent), shows the flow's buttons, the agent's typing, and at the end
// asks three optional questions in one form (CSAT 1–5, effort 1–7, NPS 0–10). It reads what came after the last message it has (a cursor kept
// in sessionStorage), so a reload or a lost connection neither loses nor repeats a message.
// Plain TypeScript inside a shadow root: nothing of the host page's styles leaks in or out.
import { translate, type Lang } from "../lib/i18n";
import { WIDGET_CSS } from "./style";

interface Message {
  id: number;
  sender: string;
  text: string;
  options?: { value: string; label: string }[];
  author?: string | null;
}
interface Conversation {
  contact_id: number;
  status: string;
  flow_status?: string | null;
  messages: Message[];
  token?: string;
  agent?: { name: string } | null;
  agent_typing?: boolean;
  survey?: Survey | null;
}
interface Survey {
  offered: boolean;
  answered?: boolean;
  csat: number | null;
  ces: number | null;
  nps?: number | null;
}
interface Saved {
  id: number;
  token: string;
}

const script = document.currentScript as HTMLScriptElement | null;
const base = script ? new URL(script.src, location.href).origin : location.origin;
const siteKey = script?.dataset.siteKey ?? "";
const language: Lang = (script?.dataset.lang ?? navigator.language ?? "es").toLowerCase().startsWith("en") ? "en" : "es";
const t = (text: string, values: Record<string, string | number> = {}) => translate(language, text, values);
const STORE = `centralita.chat.${siteKey}`;
const POLL_MS = 1500;
const ENDED = new Set(["acw", "closed"]);

class ChatWidget {
  private root: ShadowRoot;
  private panel!: HTMLElement;
  private list!: HTMLElement;
  private input!: HTMLTextAreaElement;
  private status!: HTMLElement;
  private footer!: HTMLElement;
  private launcher!: HTMLButtonElement;
  private saved: Saved | null = null;
  private messages = new Map<number, Message>();
  private last = 0;
  private timer: number | undefined;
  private failures = 0;
  private ended = false;
  private surveyShown = false;
  private lastTyping = 0;
  private withAgent = false;
  private heldUntil = 0;

  constructor() {
    const host = document.createElement("div");
    host.id = "centralita-chat";
    document.body.appendChild(host);
    this.root = host.attachShadow({ mode: "open" });
    this.build();
    try {
      this.saved = JSON.parse(sessionStorage.getItem(STORE) ?? "null") as Saved | null;
    } catch {
      this.saved = null;
    }
    if (this.saved) this.open(); // a reload mid-conversation: carry on where it was
  }

  private el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  private build(): void {
    const style = this.el("style");
    style.textContent = WIDGET_CSS;
    this.launcher = this.el("button", { class: "launcher", "aria-haspopup": "dialog", "aria-expanded": "false" }, t("Chat with us"));
    this.launcher.addEventListener("click", () => (this.panel.hidden ? this.open() : this.close()));
    this.panel = this.el("section", { class: "panel", role: "dialog", "aria-label": t("Chat with us") });
    this.panel.hidden = true;
    const head = this.el("header");
    head.append(this.el("strong", {}, script?.dataset.title ?? t("Customer service")));
    const close = this.el("button", { class: "icon", "aria-label": t("Minimise the chat") }, "–");
    close.addEventListener("click", () => this.close());
    const end = this.el("button", { class: "end" }, t("End chat"));
    end.addEventListener("click", () => void this.end());
    head.append(end, close);
    this.list = this.el("div", { class: "messages", role: "log", "aria-live": "polite", tabindex: "0", "aria-label": t("Messages") });
    this.status = this.el("p", { class: "status", "aria-live": "polite" });
    this.footer = this.el("form", { class: "composer" });
    const label = this.el("label", { for: "cc-input", class: "sr-only" }, t("Your message"));
    this.input = this.el("textarea", { id: "cc-input", rows: "2", maxlength: "2000", placeholder: t("Write your message…") });
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey) {
        e.preventDefault();
        void this.send(this.input.value);
      }
    });
    this.input.addEventListener("input", () => this.typing());
    const send = this.el("button", { type: "submit", class: "send" }, t("Send"));
    this.footer.append(label, this.input, send);
    this.footer.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.send(this.input.value);
    });
    this.panel.append(head, this.list, this.status, this.footer);
    this.root.append(style, this.panel, this.launcher);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { "Accept-Language": language };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (this.saved) headers["X-Chat-Token"] = this.saved.token;
    const response = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    const data = text ? JSON.parse(text) : {};
    if (!response.ok) throw Object.assign(new Error(data.detail ?? data.title ?? response.statusText), { status: response.status });
    return data as T;
  }

  private async open(): Promise<void> {
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    this.launcher.hidden = true;
    if (!this.saved) {
      try {
        this.say(t("Connecting…"));
        const started = await this.request<Conversation>("POST", `/api/chat/${encodeURIComponent(siteKey)}/conversations`, {
          language,
        });
        this.saved = { id: started.contact_id, token: started.token ?? "" };
        sessionStorage.setItem(STORE, JSON.stringify(this.saved));
        this.say("");
        this.apply(started);
      } catch (err) {
        this.say((err as Error).message);
        return;
      }
    }
    this.input.focus();
    this.poll();
  }

  private close(): void {
    this.panel.hidden = true;
    this.launcher.hidden = false;
    this.launcher.setAttribute("aria-expanded", "false");
    this.launcher.focus();
  }

  private say(text: string, holdMs = 0): void {
    // a notice held (too many messages) is not cleared by an answer to an earlier message arriving late
    if (!text && Date.now() < this.heldUntil) return;
    this.heldUntil = holdMs ? Date.now() + holdMs : this.heldUntil;
    this.status.textContent = text;
  }

  private poll(): void {
    window.clearTimeout(this.timer);
    if (!this.saved) return;
    this.timer = window.setTimeout(async () => {
      try {
        this.apply(await this.request<Conversation>("GET", `/api/chat/conversations/${this.saved!.id}/messages?after=${this.last}`));
        if (this.failures) this.say("");
        this.failures = 0;
      } catch (err) {
        const status = (err as { status?: number }).status;
        if (status === 404) return this.forget(); // the conversation is gone (expired token): start afresh next time
        this.failures += 1;
        this.say(t("Reconnecting…"));
      }
      if (!this.ended || !this.surveyDone()) this.poll();
    }, this.failures ? Math.min(POLL_MS * 2 ** this.failures, 15000) : POLL_MS);
  }

  private surveyDone(): boolean {
    return this.surveyShown && !this.root.querySelector(".survey form");
  }

  private forget(): void {
    sessionStorage.removeItem(STORE);
    this.saved = null;
  }

  private apply(c: Conversation): void {
    for (const m of c.messages) {
      if (this.messages.has(m.id)) continue; // never twice
      this.messages.set(m.id, m);
      this.last = Math.max(this.last, m.id);
      this.render(m);
    }
    this.withAgent = c.status === "connected" || c.status === "held";
    if (c.agent_typing) this.say(t("{name} is typing…", { name: c.agent?.name ?? t("The agent") }));
    else if (this.status.textContent && !this.failures && this.status.dataset.kind === "typing") this.say("");
    if (c.agent_typing) this.status.dataset.kind = "typing";
    else delete this.status.dataset.kind;
    if (ENDED.has(c.status) && !this.ended) {
      this.ended = true;
      this.footer.hidden = true;
      this.note(t("The conversation has ended."));
    }
    if (c.survey?.offered && !this.surveyShown) {
      if (c.survey.answered) this.surveyAnswered(); // answered already (another tab of this conversation)
      else this.survey();
    }
  }

  private render(m: Message): void {
    const row = this.el("div", { class: `msg ${m.sender}` });
    if (m.sender === "agent" && m.author) row.append(this.el("span", { class: "who" }, m.author));
    row.append(this.el("span", { class: "text" }, m.text));
    this.list.append(row);
    if (m.options?.length) {
      const buttons = this.el("div", { class: "options", role: "group", "aria-label": t("Options") });
      for (const o of m.options) {
        const b = this.el("button", { type: "button" }, o.label);
        b.addEventListener("click", () => {
          for (const other of buttons.querySelectorAll("button")) other.disabled = true;
          void this.send(o.value);
        });
        buttons.append(b);
      }
      this.list.append(buttons);
    }
    this.list.scrollTop = this.list.scrollHeight;
  }

  private note(text: string): void {
    this.list.append(this.el("p", { class: "note" }, text));
    this.list.scrollTop = this.list.scrollHeight;
  }

  private async send(text: string): Promise<void> {
    const body = text.trim();
    if (!body || !this.saved) return;
    const typed = this.input.value === text;
    if (typed) this.input.value = ""; // at once: the next message may be typed while this one travels
    try {
      const answer = await this.request<Conversation>("POST", `/api/chat/conversations/${this.saved.id}/messages`, { text: body });
      this.say("");
      this.apply(answer);
    } catch (err) {
      if (typed && !this.input.value) this.input.value = text; // not sent: give it back
      const status = (err as { status?: number }).status;
      if (status === 429) this.say(t("Too many messages: wait a moment."), 5000);
      else this.say((err as Error).message);
    }
  }

  private typing(): void {
    const now = Date.now();
    if (!this.saved || !this.withAgent || now - this.lastTyping < 3000) return;
    this.lastTyping = now;
    void this.request("POST", `/api/chat/conversations/${this.saved.id}/typing`).catch(() => undefined);
  }

  private async end(): Promise<void> {
    if (!this.saved || this.ended) return this.close();
    try {
      this.apply(await this.request<Conversation>("POST", `/api/chat/conversations/${this.saved.id}/end`));
    } catch (err) {
      this.say((err as Error).message);
    }
  }

  /** One question: a radio group (arrow keys move, Tab leaves), its ends described, optional. */
  private scale(name: string, legend: string, low: number, high: number, lowText: string, highText: string): HTMLFieldSetElement {
    const ends = `cc-${name}-ends`;
    const set = this.el("fieldset", { "aria-describedby": ends });
    set.append(this.el("legend", {}, legend));
    const row = this.el("div", { class: "scale" });
    for (let i = low; i <= high; i++) {
      const id = `cc-${name}-${i}`;
      const input = this.el("input", { type: "radio", name, value: String(i), id });
      row.append(input, this.el("label", { for: id }, String(i)));
    }
    set.append(row, this.el("div", { class: "ends", id: ends }, `${lowText} · ${highText}`));
    return set;
  }

  private survey(): void {
    this.surveyShown = true;
    const box = this.el("section", { class: "survey", "aria-labelledby": "cc-survey-title" });
    box.append(this.el("h2", { id: "cc-survey-title" }, t("Tell us how it went")));
    box.append(this.el("p", { class: "hint" }, t("Each question is optional: answer the ones you like.")));
    const form = this.el("form", { novalidate: "" });
    form.append(
      this.scale("csat", t("How satisfied are you with this chat?"), 1, 5, t("1 = very unsatisfied"), t("5 = very satisfied")),
      this.scale(
        "ces",
        t("“The company made it easy for me to handle my request.” How much do you agree?"),
        1,
        7,
        t("1 = strongly disagree"),
        t("7 = strongly agree"),
      ),
      this.scale(
        "nps",
        t("How likely are you to recommend us to a friend or colleague?"),
        0,
        10,
        t("0 = not at all likely"),
        t("10 = extremely likely"),
      ),
    );
    const problem = this.el("p", { class: "problem", role: "alert" });
    const submit = this.el("button", { type: "submit", class: "send" }, t("Send answers"));
    form.append(problem, submit);
    form.addEventListener("change", () => (problem.textContent = "")); // an answer chosen: the reminder goes
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (submit.disabled || !this.saved) return;
      const data = new FormData(form);
      const body: Record<string, number> = {};
      for (const name of ["csat", "ces", "nps"]) {
        const value = data.get(name);
        if (value !== null) body[name] = Number(value);
      }
      if (!Object.keys(body).length) {
        problem.textContent = t("Choose an answer to at least one question.");
        return;
      }
      problem.textContent = "";
      submit.disabled = true;
      try {
        await this.request("POST", `/api/chat/conversations/${this.saved.id}/survey`, body);
        this.surveyClosed(box, t("Thank you for your answers."));
      } catch (err) {
        const status = (err as { status?: number }).status;
        if (status === 409) this.surveyClosed(box, t("This survey was answered already: it takes one answer. Thank you."));
        else {
          problem.textContent = (err as Error).message;
          submit.disabled = false;
        }
      }
    });
    box.append(form);
    this.list.append(box);
    this.list.scrollTop = this.list.scrollHeight;
  }

  /** The survey was answered before this page showed it: say so instead of asking again. */
  private surveyAnswered(): void {
    this.surveyShown = true;
    const box = this.el("section", { class: "survey" });
    this.list.append(box);
    this.surveyClosed(box, t("This survey was answered already: it takes one answer. Thank you."));
  }

  /** The survey is over (answered here or elsewhere): `text` in its place, read out, and the conversation forgotten. */
  private surveyClosed(box: HTMLElement, text: string): void {
    const said = this.el("p", { class: "note", role: "status", tabindex: "-1" }, text);
    box.replaceChildren(said);
    said.focus();
    this.list.scrollTop = this.list.scrollHeight;
    this.forget();
  }
}

if (siteKey) new ChatWidget();
else console.error("centralita widget: the <script> tag needs data-site-key");
