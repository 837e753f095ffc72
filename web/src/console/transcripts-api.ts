// The transcripts view's calls to the desk (docs/protocol.md section 2): search, open (with
// an audited reveal), tags, erasure, the audit log and typical cases. Exports are plain links.
import { call } from "./api";
import {
  type AuditEntry,
  type AuditFilters,
  auditQuery,
  type CaseEdit,
  type CaseFilters,
  casesQuery,
  type SearchFilters,
  searchQuery,
  type TranscriptDetail,
  type TranscriptSummary,
  type TypicalCase,
} from "./transcripts";

export const PAGE = 50;

export async function searchTranscripts(
  f: SearchFilters,
  before?: number,
): Promise<{ results: TranscriptSummary[]; more: boolean }> {
  return call("GET", `/api/transcripts?${searchQuery(f, { before, limit: PAGE })}`);
}

/** Opening is audited (`open`); with a reason, the personal data is shown (`reveal`). */
export async function openTranscript(id: number, reveal?: { reason: string }): Promise<TranscriptDetail> {
  const q = reveal ? `?${new URLSearchParams({ reveal: "1", reason: reveal.reason })}` : "";
  const r = await call<{ transcript: TranscriptDetail }>("GET", `/api/transcripts/${id}${q}`);
  return r.transcript;
}

export async function putTags(id: number, tags: string[]): Promise<string[]> {
  const r = await call<{ tags: string[] }>("PUT", `/api/transcripts/${id}/tags`, { tags });
  return r.tags;
}

export async function eraseReader(id: number, reason: string): Promise<number> {
  const r = await call<{ consultations: number }>("POST", `/api/transcripts/${id}/erase-reader`, { reason });
  return r.consultations;
}

export async function auditLog(f: AuditFilters, before?: number): Promise<{ entries: AuditEntry[]; more: boolean }> {
  return call("GET", `/api/audit?${auditQuery(f, before)}`);
}

export async function listCases(f: CaseFilters): Promise<{ cases: TypicalCase[]; categories: string[] }> {
  return call("GET", `/api/cases?${casesQuery(f)}`);
}

export interface NewCase {
  consultation_id: number;
  category: string;
  tags: string[];
  summary: string;
  title?: string;
}

export async function createCase(c: NewCase): Promise<TypicalCase> {
  const r = await call<{ case: TypicalCase }>("POST", "/api/cases", c);
  return r.case;
}

export async function getCase(id: number): Promise<{ case: TypicalCase; can_edit: boolean }> {
  return call("GET", `/api/cases/${id}`);
}

export async function editCase(id: number, change: CaseEdit): Promise<TypicalCase> {
  const r = await call<{ case: TypicalCase }>("PATCH", `/api/cases/${id}`, change);
  return r.case;
}

export async function publishCase(id: number): Promise<{ case: TypicalCase; can_edit: boolean }> {
  return call("POST", `/api/cases/${id}/publish`);
}

export async function withdrawCase(id: number): Promise<{ case: TypicalCase; can_edit: boolean }> {
  return call("POST", `/api/cases/${id}/withdraw`);
}
