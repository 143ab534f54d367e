import { start } from "../lib/ui";
import { t } from "../lib/i18n";

void start("admin", "/admin", () => <main><h1>{t("admin")}</h1></main>);
