// The wrap-up form (reason required, outcome, resolved, notes, an optional follow-up) and the transfer form.
import { useEffect, useState } from "preact/hooks";
import { api, must, named } from "../lib/api";
import { t } from "../lib/i18n";
import { dispositionLabel } from "../lib/labels";
import type { components } from "../api/schema";
import type { Reason } from "./types";
import { ErrorText } from "../lib/feedback";

export const DISPOSITIONS = ["resolved", "information", "follow_up", "escalated", "sale", "complaint", "no_answer"];

export function WrapUpForm({
  contactId,
  reasons,
  initialReason,
  onDone,
}: {
  contactId: number;
  reasons: Reason[];
  initialReason: string | null;
  onDone: () => void;
}) {
  const parents = reasons.filter((r) => r.active && !r.parent);
  const [reason, setReason] = useState(initialReason && parents.some((r) => r.code === initialReason) ? initialReason : "");
  const [sub, setSub] = useState("");
  const [disposition, setDisposition] = useState("resolved");
  const [resolved, setResolved] = useState<boolean | null>(true);
  const [notes, setNotes] = useState("");
  const [follow, setFollow] = useState("none");
  const [due, setDue] = useState("");
  const [followNote, setFollowNote] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const subs = reasons.filter((r) => r.active && r.parent === reason);
  async function submit(e: Event) {
    e.preventDefault();
    if (!reason) {
      setError(t("Choose the contact reason."));
      return;
    }
    setBusy(true);
    setError("");
    const body: WrapUpBody = { disposition, reason, resolved, notes: notes || null, sub_reason: sub || null };
    if (follow !== "none")
      body.follow_up = { kind: follow, due_at: due ? new Date(due).toISOString() : null, note: followNote || null };
    try {
      await must(api.POST("/api/contacts/{contact_id}/wrap-up", { params: { path: { contact_id: contactId } }, body }));
      onDone();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }
  return (
    <form class="card wrapup" onSubmit={submit} aria-labelledby="wrapup-title" data-testid="wrap-up">
      <h2 id="wrapup-title">{t("Wrap-up")}</h2>
      <div class="grid two">
        <div>
          <label for="wu-reason">{t("Contact reason")} *</label>
          <select id="wu-reason" required value={reason} onChange={(e) => (setReason(e.currentTarget.value), setSub(""))}>
            <option value="">{t("Choose…")}</option>
            {parents.map((r) => (
              <option value={r.code}>{named(r)}</option>
            ))}
          </select>
        </div>
        <div>
          <label for="wu-sub">{t("Sub-reason")}</label>
          <select id="wu-sub" value={sub} disabled={!subs.length} onChange={(e) => setSub(e.currentTarget.value)}>
            <option value="">—</option>
            {subs.map((r) => (
              <option value={r.code}>{named(r)}</option>
            ))}
          </select>
        </div>
        <div>
          <label for="wu-disposition">{t("Outcome")}</label>
          <select id="wu-disposition" value={disposition} onChange={(e) => setDisposition(e.currentTarget.value)}>
            {DISPOSITIONS.map((d) => (
              <option value={d}>{dispositionLabel(d)}</option>
            ))}
          </select>
        </div>
        <fieldset class="plain">
          <legend>{t("Resolved?")}</legend>
          <label class="inline">
            <input type="radio" name="resolved" checked={resolved === true} onChange={() => setResolved(true)} /> {t("yes")}
          </label>{" "}
          <label class="inline">
            <input type="radio" name="resolved" checked={resolved === false} onChange={() => setResolved(false)} /> {t("no")}
          </label>
        </fieldset>
      </div>
      <label for="wu-notes">{t("Notes")}</label>
      <textarea id="wu-notes" rows={3} maxLength={4000} value={notes} onInput={(e) => setNotes(e.currentTarget.value)} />
      <div class="grid two">
        <div>
          <label for="wu-follow">{t("Follow-up")}</label>
          <select id="wu-follow" value={follow} onChange={(e) => setFollow(e.currentTarget.value)}>
            <option value="none">{t("None")}</option>
            <option value="task">{t("Task")}</option>
            <option value="callback">{t("Call the customer back")}</option>
          </select>
        </div>
        {follow !== "none" ? (
          <div>
            <label for="wu-due">{t("Due")}</label>
            <input id="wu-due" type="datetime-local" value={due} onInput={(e) => setDue(e.currentTarget.value)} />
          </div>
        ) : null}
      </div>
      {follow !== "none" ? (
        <>
          <label for="wu-follow-note">{t("What to do")}</label>
          <input id="wu-follow-note" maxLength={300} value={followNote} onInput={(e) => setFollowNote(e.currentTarget.value)} />
        </>
      ) : null}
      <div class="row" style="margin-top:0.6rem">
        <button class="primary" type="submit" disabled={busy}>
          {t("Finish wrap-up")}
        </button>
        <ErrorText text={error} />
      </div>
    </form>
  );
}

type WrapUpBody = components["schemas"]["WrapUp"];

interface Named {
  code: string;
  name: string;
  active: boolean;
}

export function TransferForm({ contactId, onClose }: { contactId: number; onClose: (done: boolean) => void }) {
  const [queues, setQueues] = useState<Named[]>([]);
  const [agents, setAgents] = useState<Named[]>([]);
  const [kind, setKind] = useState<"queue" | "agent">("queue");
  const [target, setTarget] = useState("");
  const [note, setNote] = useState("");
  const [error, setError] = useState("");
  useEffect(() => {
    must(api.GET("/api/queues")).then((q: Named[]) => setQueues(q.filter((x) => x.active)), () => setQueues([]));
    must(api.GET("/api/agents")).then((a: Named[]) => setAgents(a.filter((x) => x.active)), () => setAgents([]));
  }, []);
  const options = kind === "queue" ? queues : agents;
  async function submit(e: Event) {
    e.preventDefault();
    setError("");
    try {
      const body = kind === "queue" ? { queue: target, note: note || null } : { agent: target, note: note || null };
      await must(api.POST("/api/contacts/{contact_id}/transfer", { params: { path: { contact_id: contactId } }, body }));
      onClose(true);
    } catch (err) {
      setError((err as Error).message);
    }
  }
  return (
    <form class="card" onSubmit={submit} aria-labelledby="transfer-title" data-testid="transfer">
      <h2 id="transfer-title">{t("Transfer")}</h2>
      <fieldset class="plain row">
        <legend class="sr-only">{t("Transfer to")}</legend>
        <label class="inline">
          <input type="radio" name="kind" checked={kind === "queue"} onChange={() => (setKind("queue"), setTarget(""))} />
          {t("a queue")}
        </label>
        <label class="inline">
          <input type="radio" name="kind" checked={kind === "agent"} onChange={() => (setKind("agent"), setTarget(""))} />
          {t("an agent")}
        </label>
      </fieldset>
      <label for="tr-target">{kind === "queue" ? t("Queue") : t("Agent")}</label>
      <select id="tr-target" required value={target} onChange={(e) => setTarget(e.currentTarget.value)}>
        <option value="">{t("Choose…")}</option>
        {options.map((o) => (
          <option value={o.code}>{o.name}</option>
        ))}
      </select>
      <label for="tr-note">{t("Note for the next agent")}</label>
      <textarea id="tr-note" rows={2} maxLength={1000} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
      <div class="row" style="margin-top:0.6rem">
        <button class="primary" type="submit" disabled={!target}>
          {t("Transfer")}
        </button>
        <button type="button" onClick={() => onClose(false)}>
          {t("Cancel")}
        </button>
        <ErrorText text={error} />
      </div>
    </form>
  );
}
