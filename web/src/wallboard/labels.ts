// Words for an agent's state or activity (the server's codes), in the user's language.
import { t } from "../lib/i18n";

export function activityLabel(a: string): string {
  const labels: Record<string, string> = {
    available: t("available"), busy: t("busy"), wrap_up: t("wrap-up"), ringing: t("ringing"), away: t("away"),
    offline: t("offline"),
  };
  return labels[a] ?? a;
}
