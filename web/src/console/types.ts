// Shapes of the desk protocol as the console uses them (docs/protocol.md).

export type Status = "online" | "busy" | "away";
export type State = "waiting" | "offered" | "assigned" | "closed" | "abandoned" | "handed_off";

export const ACTIVE_STATES: ReadonlySet<string> = new Set(["waiting", "offered", "assigned"]);

export interface Me {
  id: number;
  name: string;
  username: string;
  role: string;
  library_id: number;
  languages: string[];
  max_chats: number;
}

/** Consultation, staff view. */
export interface Consultation {
  id: number;
  library: string;
  language: string;
  state: State;
  consultant: { id: number; name: string | null } | null;
  version: number;
  created_at: string;
  ended_at: string | null;
  ended_by: string | null;
  read?: { reader: number; staff: number };
  last_seq: number;
  reader_id: number;
  subject: string;
  assignee_id: number | null;
  queued_at: string;
  offer_expires_at: string | null;
  serving_library_id: number | null;
}

export interface Message {
  consultation_id: number;
  seq: number;
  client_msg_id: string | null;
  author_kind: "reader" | "consultant" | "system" | "bot";
  author_id: number | null;
  visibility: "all" | "staff";
  body: string;
  created_at: string;
  /** A file or link sent with the message (document delivery); null or absent otherwise. */
  attachment?: Attachment | null;
  /** Live events and new messages' acknowledgements: the seq of the message staff were shown
   * just before this one (0: none). Never in lists, which are complete for their range. */
  prev?: number;
}

/** What a chat message carries when a file or link was sent with it (docs/delivery.md). */
export interface Attachment {
  kind: "file" | "link";
  direction: "to_reader" | "from_reader";
  title: string;
  /** The stored file's cleaned name, its size and the type the desk serves it as (files). */
  name: string;
  size: number;
  content_type: string;
  /** The delivered address (links). */
  url: string;
  authors: string;
  source: string;
  year: number | null;
  doc_type: string;
}

/** What a library's chats take (GET /api/libraries/{code} → `files`). */
export interface FileLimits {
  max_bytes: number;
  /** Families: pdf, image, office, text, ebook, archive. */
  types: string[];
  /** Their extensions, with the dot (".pdf"). */
  accept: string[];
}

export interface QueueItem {
  consultation_id: number;
  library: string;
  route_library: string;
  language: string;
  waiting_seconds: number;
  position: number;
  preview: string;
}

export interface Colleague {
  id: number;
  name: string;
  library_id: number;
  languages: string[];
  status: Status;
  load: number;
  capacity: number;
}

export interface Library {
  id?: number;
  code: string;
  name: string;
  name_en: string;
  languages?: string[];
}

export interface Phrase {
  id: number;
  scope: "library" | "personal";
  shortcut: string;
  title: string;
  body: string;
  language: string;
}

export interface DeskError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export type Ack<T = object> = ({ ok: true } & T) | { ok: false; error: DeskError };

export interface ResumeEntry {
  consultation_id: number;
  lost?: boolean;
  error?: DeskError;
  consultation?: Consultation;
  messages?: Message[];
  more?: boolean;
}

export interface Load {
  status: Status;
  load: number;
  capacity: number;
}

export type TicketKind = "form" | "document";
export type AnswerKind = "answer" | "found" | "same_topic" | "not_found";
export type TicketState = "open" | "claimed" | "answered";

/** A backlog ticket as the lists show it (GET /api/backlog). */
export interface TicketSummary {
  id: number;
  library: string;
  language: string;
  kind: TicketKind;
  state: TicketState;
  question: string;
  submitted_at: string;
  window_ends_at: string;
  overdue: boolean;
  claimed_by: number | null;
  handed_off_by: string | null;
  version: number;
}

export interface TranscriptLine {
  author_kind: string;
  body: string;
  created_at: string;
}

export interface TicketEvent {
  at: string;
  action: string;
  by: string | null;
  note: string;
}

/** One ticket in full (GET /api/backlog/{id}). */
export interface TicketDetail extends TicketSummary {
  transcript: TranscriptLine[];
  answer: string | null;
  answer_kind: AnswerKind | null;
  answered_at: string | null;
  has_contact: boolean;
  answer_kinds: AnswerKind[];
  templates: { same_topic: string; not_found: string };
  events: TicketEvent[];
  /** The documents delivered with the answer (absent on older desks). */
  documents?: TicketDocument[];
}

/** A document delivered with a backlog answer (its delivery-ledger row). */
export interface TicketDocument {
  id: number;
  kind: "file" | "link";
  title: string;
  authors: string;
  source: string;
  year: number | null;
  doc_type: string;
  name: string;
  size: number;
  content_type: string;
  url: string;
  purged: boolean;
  /** Where staff download the file; null for a link or a purged file. */
  download: string | null;
}

export interface BotSettings {
  greeting?: boolean;
  waiting?: boolean;
  long_wait_minutes?: number;
  update_seconds?: number;
  faq?: boolean;
  [key: string]: unknown;
}

export interface BotText {
  key: string;
  language: string;
  body: string;
  default: string;
  custom: boolean;
  placeholders: string[];
}

export interface BotConfig {
  library: string;
  settings: BotSettings;
  texts: BotText[];
  can_edit: boolean;
}
