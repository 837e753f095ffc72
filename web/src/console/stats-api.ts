// The statistics routes the console calls (docs/protocol.md: /api/stats, /api/grading,
// /api/grades, /api/certificates) and the shapes they answer with.
import { call } from "./api";
import type { Checklist, GradeValue, Range } from "./stats";
import type { TicketDetail } from "./types";

export interface SubjectLibrary {
  id: number;
  code: string;
  name: string;
  name_en: string;
}

export interface SubjectPerson {
  id: number;
  name: string;
  username: string;
  library: string;
}

/** What the signed-in person may report on (GET /api/stats/subjects). */
export interface Subjects {
  today: string;
  timezone: string;
  tables: boolean;
  dashboard: boolean;
  inspector: boolean;
  libraries: SubjectLibrary[];
  consultants: SubjectPerson[];
}

export interface Column {
  key: string;
  "zh-CN": string;
  en: string;
}

export type Figures = Record<string, number | null>;

export interface ReportRow extends Record<string, string | number | null> {
  period: string;
  from: string;
  to: string;
}

export interface Report {
  scope: string;
  subject: Record<string, unknown>;
  from: string;
  to: string;
  grain: string;
  timezone: string;
  columns: Column[];
  rows: ReportRow[];
  total: Figures;
}

export interface TableRow extends Record<string, string | number | null> {
  id: number;
  name: string;
  code: string;
  library: string;
}

export interface Table {
  kind: "consultant" | "library";
  from: string;
  to: string;
  columns: Column[];
  rows: TableRow[];
}

export interface Candidate {
  target: "consultation" | "ticket";
  id: number;
  consultant_id: number;
  consultant: string;
  library_id: number | null;
  grade: GradeValue | null;
  preview: string;
  day?: string;
  outcome?: string;
  rating?: boolean | null;
  documents?: number;
  kind?: string;
  answer_kind?: string | null;
  submitted_at?: string;
  answered_at?: string | null;
  state?: string;
}

export interface Grade {
  id: number;
  target: "consultation" | "ticket";
  target_id: number;
  consultant_id: number | null;
  consultant: string;
  library_id: number | null;
  day: string;
  grade: GradeValue;
  criteria: string[];
  comment: string;
  inspector_id: number | null;
  inspector: string;
  created_at: string;
  revised_at: string | null;
  current: boolean;
}

export interface Certificate {
  id: number;
  code: string;
  subject: "consultant" | "library";
  subject_id: number;
  from: string;
  to: string;
  figures: Record<string, unknown> & { subject?: Record<string, string> };
  issued_at: string;
  revoked_at: string | null;
  url: string;
}

/** A ticket as the grading page reads it: GET /api/backlog/{id} with its grades. */
export type GradedTicket = TicketDetail & { grades?: Grade[] };

/** What `dashboard.watch` and the `dashboard` events carry. */
export interface Dashboard {
  at: string;
  scope: string;
  queue: { consultation_id: number; library: string; language: string; waiting_seconds: number }[];
  waiting: number;
  longest_wait_seconds: number;
  consultants: {
    id: number;
    name: string;
    library: string;
    status: "online" | "busy" | "away";
    load: number;
    capacity: number;
    at_capacity: boolean;
    languages: string[];
  }[];
  online: number;
  at_capacity: number;
  chats: number;
  free: number;
  libraries: {
    id: number;
    code: string;
    name: string;
    name_en: string;
    waiting: number;
    chats: number;
    online: number;
    free: number;
    today_served: number;
    today_consultations: number;
    today_documents: number;
  }[];
  today: Figures;
  alliance_today: Figures;
}

/** What `grade.given` carries. */
export interface GradeGiven {
  grade_id: number;
  target: "consultation" | "ticket";
  target_id: number;
  grade: GradeValue;
}

export async function subjects(): Promise<Subjects> {
  return call<Subjects>("GET", "/api/stats/subjects");
}

export async function report(q: string): Promise<Report> {
  return call<Report>("GET", `/api/stats/report?${q}`);
}

export async function table(q: string): Promise<Table> {
  return call<Table>("GET", `/api/stats/table?${q}`);
}

export async function checklist(): Promise<Checklist> {
  return call<Checklist>("GET", "/api/grading/checklist");
}

export async function candidates(q: string): Promise<Candidate[]> {
  const r = await call<{ candidates: Candidate[] }>("GET", `/api/grading/candidates?${q}`);
  return r.candidates;
}

export async function grades(q: string): Promise<{ grades: Grade[]; more: boolean }> {
  return call<{ grades: Grade[]; more: boolean }>("GET", `/api/grades?${q}`);
}

export async function consultationGrades(
  id: number,
): Promise<{ grades: Grade[]; rating: boolean | null; rating_comment: string }> {
  return call<{ grades: Grade[]; rating: boolean | null; rating_comment: string }>(
    "GET",
    `/api/consultations/${id}/grades`,
  );
}

export async function gradedTicket(id: number): Promise<GradedTicket> {
  const r = await call<{ ticket: GradedTicket }>("GET", `/api/backlog/${id}`);
  return r.ticket;
}

export async function giveGrade(body: {
  target: "consultation" | "ticket";
  target_id: number;
  grade: GradeValue;
  criteria: string[];
  comment: string;
}): Promise<{ grade: Grade; revision: boolean }> {
  return call<{ grade: Grade; revision: boolean }>("POST", "/api/grades", body);
}

export async function certificates(): Promise<Certificate[]> {
  const r = await call<{ certificates: Certificate[] }>("GET", "/api/certificates");
  return r.certificates;
}

export async function issueCertificate(
  body: { subject: "consultant" | "library"; id?: number } & Range,
): Promise<Certificate> {
  const r = await call<{ certificate: Certificate }>("POST", "/api/certificates", body);
  return r.certificate;
}

export async function revokeCertificate(id: number): Promise<Certificate> {
  const r = await call<{ certificate: Certificate }>("POST", `/api/certificates/${id}/revoke`);
  return r.certificate;
}
