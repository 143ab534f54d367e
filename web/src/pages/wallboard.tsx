import { start } from "../lib/ui";
import { t } from "../lib/i18n";

void start("supervisor", "/wallboard", () => <main><h1>{t("wallboard")}</h1></main>);
