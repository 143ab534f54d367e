import { start } from "../lib/ui";
import { t } from "../lib/i18n";

void start("agent", "/agent", () => <main><h1>{t("agent")}</h1></main>);
