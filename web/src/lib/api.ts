// The typed API client (openapi-fetch over the types generated from the server's OpenAPI document), with
// the session's CSRF token on writes and the user's language on every request.
import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "../api/schema";
import { lang, t } from "./i18n";

function cookie(name: string): string {
  const found = document.cookie.split("; ").find((c) => c.startsWith(`${name}=`));
  return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
}

const headers: Middleware = {
  onRequest({ request }) {
    request.headers.set("Accept-Language", lang());
    if (request.method !== "GET") request.headers.set("X-CSRF-Token", cookie("centralita_csrf"));
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: location.origin, credentials: "same-origin" });
api.use(headers);

export interface Problem {
  status?: number;
  title?: string;
  detail?: string;
  errors?: { field?: string; message?: string }[];
}

/** A problem document as one line a person reads. */
export function describe(problem: unknown): string {
  const p = (problem ?? {}) as Problem;
  return p.detail ?? p.title ?? t("Something went wrong");
}

/** The data of an answer (undefined for a 204), or an Error carrying the problem's words. */
export function ok<T>(answer: { data?: T; error?: unknown; response: Response }): T {
  if (!answer.response.ok) {
    if (answer.response.status === 401) {
      location.assign(`/?next=${encodeURIComponent(location.pathname)}`);
    }
    throw Object.assign(new Error(describe(answer.error)), { status: answer.response.status });
  }
  return answer.data as T;
}

/** `ok` of a request in flight: `const x = await must(api.GET(...))`. */
export async function must<T>(request: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  return ok(await request);
}

export type Me = paths["/api/auth/me"]["get"]["responses"]["200"]["content"]["application/json"];

/** Who is logged in, or null. */
export async function whoAmI(): Promise<Me | null> {
  const answer = await api.GET("/api/auth/me");
  return answer.data ?? null;
}

export async function logout(): Promise<void> {
  await api.POST("/api/auth/logout");
  location.assign("/");
}

/** The name in the user's language of a catalogue row with name_es / name_en. */
export function named(row: { name_es?: string; name_en?: string; code?: string }): string {
  return (lang() === "es" ? row.name_es : row.name_en) ?? row.code ?? "";
}
