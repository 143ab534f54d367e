// The conversation with the customer: what the bot and the customer said before, then the chat with the
// agent (sent with Enter), the customer's typing indicator, and the agent's own typing sent as it types.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, must } from "../lib/api";
import { t } from "../lib/i18n";
import { senderLabel } from "../lib/labels";
import type { Message } from "./types";
import { ErrorText } from "../lib/feedback";

const TYPING_EVERY_MS = 3000;

export function ConversationView({
  contactId,
  messages,
  customerTyping,
  canWrite,
}: {
  contactId: number;
  messages: Message[];
  customerTyping: boolean;
  canWrite: boolean;
}) {
  const [text, setText] = useState("");
  const [error, setError] = useState("");
  const list = useRef<HTMLDivElement>(null);
  const lastTyping = useRef(0);
  useEffect(() => {
    list.current?.scrollTo({ top: list.current.scrollHeight });
  }, [messages.length, contactId]);
  async function send() {
    const body = text.trim();
    if (!body) return;
    setError("");
    try {
      await must(api.POST("/api/contacts/{contact_id}/messages", { params: { path: { contact_id: contactId } }, body: { text: body } }));
      setText("");
      lastTyping.current = 0; // a message ends the typing the customer sees: the next keystroke says it again
    } catch (err) {
      setError((err as Error).message);
    }
  }
  function typed(value: string) {
    setText(value);
    const now = Date.now();
    if (value && now - lastTyping.current > TYPING_EVERY_MS) {
      lastTyping.current = now;
      void must(api.POST("/api/contacts/{contact_id}/typing", { params: { path: { contact_id: contactId } } })).catch(() => undefined);
    }
  }
  return (
    <section class="card conversation" aria-labelledby="conv-title">
      <h2 id="conv-title">{t("Conversation")}</h2>
      <div class="messages" ref={list} role="log" aria-live="polite" aria-label={t("Messages")} tabIndex={0}>
        {messages.map((m) => (
          <div class={`msg ${m.sender}`} data-sender={m.sender}>
            <span class="who">
              {m.sender === "agent" && m.author ? m.author : senderLabel(m.sender)}
            </span>
            <span class="text">{m.text}</span>
            {m.options?.length ? <span class="small muted"> [{m.options.map((o) => o.label).join(" | ")}]</span> : null}
          </div>
        ))}
        {!messages.length ? <p class="muted small">{t("No message yet.")}</p> : null}
      </div>
      <p class="small muted typing" aria-live="polite">
        {customerTyping ? t("The customer is typing…") : "\u00a0"}
      </p>
      {canWrite ? (
        <form
          class="composer"
          onSubmit={(e) => {
            e.preventDefault();
            void send();
          }}
        >
          <label for="composer" class="sr-only">
            {t("Message to the customer")}
          </label>
          <textarea
            id="composer"
            rows={2}
            maxLength={2000}
            placeholder={t("Write to the customer (Enter sends, Shift+Enter breaks the line)")}
            value={text}
            onInput={(e) => typed(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter" && !e.shiftKey) {
                e.preventDefault();
                void send();
              }
            }}
          />
          <button class="primary" type="submit">
            {t("Send")}
          </button>
        </form>
      ) : null}
      <ErrorText text={error} block />
    </section>
  );
}
