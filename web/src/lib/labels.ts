// Words for codes the API returns (statuses, channels, activities, outcomes), each a literal t() call so the
// Spanish check sees them; an unknown code shows as it is.
import { t } from "./i18n";

function pick(table: Record<string, string>, code: string | null | undefined): string {
  return code ? (table[code] ?? code) : "";
}

export function statusLabel(code: string | null | undefined): string {
  return pick(
    {
      arrived: t("in the flow"),
      queued: t("queued"),
      offered: t("offered"),
      connected: t("connected"),
      held: t("on hold"),
      acw: t("wrap-up"),
      closed: t("closed"),
      open: t("open"),
      pending: t("pending"),
      resolved: t("resolved"),
    },
    code,
  );
}

export function channelLabel(code: string | null | undefined): string {
  return pick({ voice: t("call"), chat: t("chat"), email: t("e-mail"), sms: t("SMS"), social: t("social") }, code);
}

export function activityLabel(code: string | null | undefined): string {
  return pick(
    {
      offline: t("offline"),
      available: t("available"),
      away: t("away"),
      busy: t("busy"),
      wrap_up: t("wrap-up"),
      ringing: t("ringing"),
      missed: t("missed"),
    },
    code,
  );
}

export function dispositionLabel(code: string): string {
  return pick(
    {
      resolved: t("Resolved"),
      information: t("Information given"),
      follow_up: t("Follow-up needed"),
      escalated: t("Escalated"),
      sale: t("Sale"),
      complaint: t("Complaint"),
      no_answer: t("No answer"),
    },
    code,
  );
}

export function senderLabel(code: string): string {
  return pick({ bot: t("Bot"), customer: t("Customer"), agent: t("Agent"), system: t("System") }, code);
}
