// The screen pop: who the customer is and everything already collected, before the agent says a word.
import { t } from "../lib/i18n";
import { channelLabel, statusLabel } from "../lib/labels";
import type { ContactSummary } from "../lib/realtime";
import { useState } from "preact/hooks";
import { PastContact } from "./history";
import type { ScreenPop } from "./types";

const HIDDEN_VARS = new Set(["pin", "pin_ok"]);

function Field({ label, value }: { label: string; value: unknown }) {
  if (value === null || value === undefined || value === "") return null;
  return (
    <>
      <dt>{label}</dt>
      <dd>{String(value)}</dd>
    </>
  );
}

/** What the flow collected: identification, reason, variables, self-service steps, case, transfer note. */
export function Collected({ collected }: { collected: Record<string, any> }) {
  const vars = Object.entries((collected.vars ?? {}) as Record<string, unknown>).filter(([k]) => !HIDDEN_VARS.has(k));
  const functions = (collected.functions ?? []) as { name?: string; function?: string; outcome?: string }[];
  const transfer = collected.transfer as { from_agent?: string; note?: string } | undefined;
  const caseRef = collected.case?.reference ?? collected.case_reference ?? collected.vars?.case_ref;
  return (
    <section aria-labelledby="collected-title">
      <h3 id="collected-title">{t("Collected by the flow")}</h3>
      {transfer ? (
        <p class="alert" data-testid="transfer-note">
          {t("Transferred by {agent}", { agent: transfer.from_agent ?? "—" })}
          {transfer.note ? `: ${transfer.note}` : ""}
        </p>
      ) : null}
      <dl class="facts">
        <Field label={t("Flow")} value={collected.flow ? `${collected.flow} v${collected.version ?? ""}` : null} />
        <Field label={t("Reason")} value={collected.reason} />
        <Field label={t("Identified")} value={collected.customer_id ? t("yes") : null} />
        <Field label={t("Self-service")} value={collected.self_service ? t("yes") : null} />
        <Field label={t("Case")} value={caseRef} />
        {vars.map(([k, v]) => (
          <Field label={k} value={typeof v === "object" ? JSON.stringify(v) : v} />
        ))}
      </dl>
      {functions.length ? (
        <>
          <h3>{t("Steps served")}</h3>
          <ol class="small">
            {functions.map((f) => (
              <li>
                {f.function ?? f.name} — {f.outcome ?? ""}
              </li>
            ))}
          </ol>
        </>
      ) : null}
      {!vars.length && !functions.length && !collected.flow ? <p class="muted small">{t("Nothing collected.")}</p> : null}
    </section>
  );
}

export function ScreenPopView({ summary, pop }: { summary: ContactSummary; pop: ScreenPop | null }) {
  const [opened, setOpened] = useState<number | null>(null);
  const customer = pop?.customer?.customer;
  const name = customer?.name ?? (summary.customer_name as string | null) ?? t("Unknown customer");
  return (
    <section class="card" aria-labelledby="pop-title" data-testid="screen-pop">
      <h2 id="pop-title">{name}</h2>
      <dl class="facts">
        <Field label={t("Segment")} value={customer?.segment ?? summary.segment} />
        <Field label={t("Value tier")} value={customer?.value_tier ?? summary.value_tier} />
        <Field label={t("Lifecycle stage")} value={customer?.lifecycle_stage ?? summary.lifecycle_stage} />
        <Field label={t("Lifetime value")} value={customer?.lifetime_value} />
        <Field label={t("From")} value={summary.ani} />
        <Field label={t("Language")} value={customer?.language ?? summary.language} />
        <Field label={t("Contact reason")} value={pop?.reason} />
      </dl>
      {customer?.identities?.length ? (
        <p class="small muted">{customer.identities.map((i) => `${i.kind}: ${i.value}`).join(" · ")}</p>
      ) : null}
      {customer?.notes ? <p class="small">{customer.notes}</p> : null}
      <Collected collected={(pop?.contact.collected ?? summary.collected ?? {}) as Record<string, any>} />
      {pop?.customer ? (
        <>
          <h3>{t("Open cases")}</h3>
          {pop.customer.open_cases.length ? (
            <ul class="small" data-testid="open-cases">
              {pop.customer.open_cases.map((c) => (
                <li>
                  <strong>{c.reference}</strong> {c.subject} <span class="badge">{statusLabel(c.status)}</span>
                </li>
              ))}
            </ul>
          ) : (
            <p class="muted small">{t("No open case.")}</p>
          )}
          <h3>{t("Last contacts")}</h3>
          {pop.customer.last_contacts.length ? (
            <table class="small">
              <thead>
                <tr>
                  <th>{t("When")}</th>
                  <th>{t("Channel")}</th>
                  <th>{t("Outcome")}</th>
                </tr>
              </thead>
              <tbody>
                {pop.customer.last_contacts.map((c) => (
                  <tr>
                    <td>
                      <button class="link" aria-expanded={opened === c.id} onClick={() => setOpened(opened === c.id ? null : c.id)}>
                        {new Date(c.initiation_ts).toLocaleString()}
                      </button>
                    </td>
                    <td>{channelLabel(c.channel)}</td>
                    <td>
                      {c.disposition ?? statusLabel(c.status)}
                      {c.resolved === true ? " ✓" : ""}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p class="muted small">{t("No earlier contact.")}</p>
          )}
          {opened !== null ? <PastContact id={opened} /> : null}
        </>
      ) : null}
    </section>
  );
}
