// The customer's case for this contact: link an open one (and move its status, add a note) or open a new one.
import { useState } from "preact/hooks";
import { api, must } from "../lib/api";
import { t } from "../lib/i18n";
import { statusLabel } from "../lib/labels";
import type { CaseRow } from "./types";
import { ErrorText, StatusText } from "../lib/feedback";

export function CasePanel({
  contactId,
  customerId,
  cases,
  linkedRef,
  onChanged,
}: {
  contactId: number;
  customerId: number | null;
  cases: CaseRow[];
  linkedRef: string | null;
  onChanged: () => void;
}) {
  const [subject, setSubject] = useState("");
  const [chosen, setChosen] = useState(linkedRef ?? "");
  const [note, setNote] = useState("");
  const [status, setStatus] = useState("");
  const [message, setMessage] = useState("");
  const [error, setError] = useState("");
  async function run(action: () => Promise<unknown>, done: string) {
    setError("");
    setMessage("");
    try {
      await action();
      setMessage(done);
      onChanged();
    } catch (err) {
      setError((err as Error).message);
    }
  }
  function create(e: Event) {
    e.preventDefault();
    void run(async () => {
      const made = await must(api.POST("/api/cases", { body: { subject, customer_id: customerId, contact_id: contactId } }));
      setChosen(made.reference);
      setSubject("");
    }, t("Case opened."));
  }
  function update(e: Event) {
    e.preventDefault();
    if (!chosen) return;
    void run(async () => {
      const path = { path: { case_ref: chosen } };
      await must(api.POST("/api/cases/{case_ref}/contacts", { params: path, body: { contact_id: contactId } }));
      if (status) await must(api.PATCH("/api/cases/{case_ref}", { params: path, body: { status } }));
      if (note) await must(api.POST("/api/cases/{case_ref}/notes", { params: path, body: { text: note } }));
      setNote("");
    }, t("Case updated."));
  }
  return (
    <section class="card" aria-labelledby="case-title">
      <h2 id="case-title">{t("Case")}</h2>
      {cases.length ? (
        <form onSubmit={update}>
          <label for="case-ref">{t("Existing case")}</label>
          <select id="case-ref" value={chosen} onChange={(e) => setChosen(e.currentTarget.value)}>
            <option value="">{t("Choose…")}</option>
            {cases.map((c) => (
              <option value={c.reference}>
                {c.reference} — {c.subject}
              </option>
            ))}
          </select>
          <label for="case-status">{t("Status")}</label>
          <select id="case-status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="">{t("unchanged")}</option>
            {["open", "pending", "resolved", "closed"].map((s) => (
              <option value={s}>{statusLabel(s)}</option>
            ))}
          </select>
          <label for="case-note">{t("Note")}</label>
          <input id="case-note" value={note} maxLength={10000} onInput={(e) => setNote(e.currentTarget.value)} />
          <div class="row" style="margin-top:0.4rem">
            <button type="submit" disabled={!chosen}>
              {t("Link and update")}
            </button>
          </div>
        </form>
      ) : null}
      <form onSubmit={create}>
        <label for="case-subject">{t("New case")}</label>
        <div class="row">
          <input
            id="case-subject"
            required
            maxLength={300}
            placeholder={t("Subject")}
            value={subject}
            onInput={(e) => setSubject(e.currentTarget.value)}
            style="flex:1"
          />
          <button type="submit">{t("Open case")}</button>
        </div>
      </form>
      <StatusText text={message} />
      <ErrorText text={error} block />
    </section>
  );
}
