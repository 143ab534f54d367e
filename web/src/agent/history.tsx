// One past contact opened from the screen pop: its timeline (every event) and its transcript.
import { useEffect, useState } from "preact/hooks";
import { call } from "../lib/api";
import { t } from "../lib/i18n";
import { senderLabel } from "../lib/labels";
import type { Conversation } from "./types";

interface Detail {
  id: number;
  timeline: { seq: number; type: string; ts: string; data?: Record<string, unknown> }[];
}

export function PastContact({ id }: { id: number }) {
  const [detail, setDetail] = useState<Detail | null>(null);
  const [conv, setConv] = useState<Conversation | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    call<Detail>("GET", `/api/contacts/${id}`).then(setDetail, (e: Error) => setError(e.message));
    call<Conversation>("GET", `/api/contacts/${id}/messages`).then(setConv, () => setConv(null));
  }, [id]);
  if (error) return <p class="small muted">{error}</p>;
  if (!detail) return <p class="small muted">…</p>;
  return (
    <div class="past small" data-testid="past-contact">
      <h4>{t("Timeline")}</h4>
      <ol>
        {detail.timeline.map((e) => (
          <li>
            <time dateTime={e.ts}>{new Date(e.ts).toLocaleTimeString()}</time> {e.type}
          </li>
        ))}
      </ol>
      {conv?.messages.length ? (
        <>
          <h4>{t("Transcript")}</h4>
          <ol class="transcript">
            {conv.messages.map((m) => (
              <li>
                <strong>{m.sender === "agent" && m.author ? m.author : senderLabel(m.sender)}:</strong> {m.text}
              </li>
            ))}
          </ol>
        </>
      ) : null}
    </div>
  );
}
