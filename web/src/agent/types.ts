// Shapes the agent desktop reads, from the API's own OpenAPI document (web/src/api/schema.d.ts, generated).
import type { components } from "../api/schema";

type S = components["schemas"];
export type Message = S["Message"];
export type Conversation = S["Conversation"];
export type ScreenPop = S["ScreenPop"];
export type CaseRow = S["CasePublic"];
export type Reason = S["ReasonPublic"];
export type AwayReason = S["AwayReasonPublic"];
export type ContactScript = S["ContactScript"];
export type ArticleHit = S["ArticleHit"];
export type Article = S["ArticlePublic"];
export type ContactDetail = S["ContactDetail"];

/** What a flow collected (`contacts.collected`), as the screen pop reads it. */
export interface Collected {
  flow?: string;
  version?: number;
  reason?: string;
  customer_id?: number;
  self_service?: boolean;
  vars?: Record<string, unknown>;
  functions?: { node?: string; function?: string; outcome?: string }[];
  case?: { id?: number; reference?: string };
  transfer?: { from_agent?: string | null; note?: string | null };
}

export function collectedOf(contact: Record<string, unknown> | undefined): Collected {
  return ((contact?.collected ?? {}) as Collected) || {};
}
