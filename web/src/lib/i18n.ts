// Every string the pages show goes through t(): the key is the English text, Spanish comes from
// locale/es.json (Spanish first; English when the user picks it). tests/webui/test_web_i18n.py checks that
// every t() call in the sources has its Spanish entry and that es.json holds no stale one.
import es from "../locale/es.json";

export type Lang = "es" | "en";
const KEY = "centralita.lang";
const spanish: Record<string, string> = es;

/** `text` in `language`, `{name}` placeholders filled from `values`. */
export function translate(language: Lang, text: string, values: Record<string, string | number> = {}): string {
  const template = language === "es" ? (spanish[text] ?? text) : text;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}

export function lang(): Lang {
  const stored = localStorage.getItem(KEY);
  if (stored === "es" || stored === "en") return stored;
  return "es";
}

export function setLang(value: Lang): void {
  localStorage.setItem(KEY, value);
  location.reload();
}

/** The text in the user's language. */
export function t(text: string, values: Record<string, string | number> = {}): string {
  return translate(lang(), text, values);
}
