// Shapes the agent desktop reads from the API (loosely typed where the page only shows them).
export interface Message {
  id: number;
  sender: string; // bot | customer | agent | system
  text: string;
  options?: { value: string; label: string }[];
  author?: string | null;
  created_at?: string | null;
}

export interface Conversation {
  contact_id: number;
  status: string;
  messages: Message[];
}

export interface CaseRow {
  id: number;
  reference: string;
  subject: string;
  status: string;
  due_at: string | null;
  created_at: string;
}

export interface PastContact {
  id: number;
  channel: string;
  status: string;
  initiation_ts: string;
  disposition: string | null;
  resolved: boolean | null;
}

export interface Customer {
  id: number;
  name: string;
  segment: string | null;
  value_tier: string | null;
  lifecycle_stage: string | null;
  lifetime_value: number | null;
  language: string;
  notes: string | null;
  identities: { kind: string; value: string }[];
}

export interface ScreenPop {
  contact: Record<string, any>;
  customer: { customer: Customer; open_cases: CaseRow[]; last_contacts: PastContact[] } | null;
  reason: string | null;
}

export interface Reason {
  code: string;
  parent: string | null;
  name_es: string;
  name_en: string;
  active: boolean;
}
