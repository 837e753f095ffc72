// The desk's HTTP API for the console: same origin, cookie session, JSON bodies (the desk's
// CSRF rules: a cross-site form cannot send application/json without a preflight).

import type {
  AnswerKind,
  BotConfig,
  BotSettings,
  DeskError,
  Library,
  Me,
  Phrase,
  TicketDetail,
  TicketSummary,
} from "./types";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: DeskError,
  ) {
    super(error.message);
  }
}

/** A JSON call; with `contentType`, `body` is sent as it is (a file to import). */
export async function call<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
  const init: RequestInit = {
    method,
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  };
  if (body !== undefined) {
    init.headers = { ...init.headers, "Content-Type": contentType ?? "application/json" };
    init.body = contentType ? (body as BodyInit) : JSON.stringify(body);
  }
  let resp: Response;
  try {
    resp = await fetch(path, init);
  } catch {
    throw new ApiError(0, { code: "network", message: "network error" });
  }
  let data: unknown = null;
  try {
    data = await resp.json();
  } catch {
    // A proxy error page or an empty reply: described by the status below.
  }
  const obj = data as { ok?: boolean; error?: DeskError } | null;
  if (!resp.ok || !obj || obj.ok !== true) {
    const error = obj?.error ?? { code: `http_${resp.status}`, message: resp.statusText || "error" };
    throw new ApiError(resp.status, error);
  }
  return data as T;
}

export async function me(): Promise<Me | null> {
  try {
    const r = await call<{ consultant: Me }>("GET", "/api/me");
    return r.consultant;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

export async function login(username: string, password: string): Promise<void> {
  await call("POST", "/api/login", { username, password });
}

export async function logout(): Promise<void> {
  await call("POST", "/api/logout");
}

export async function libraries(): Promise<Library[]> {
  const r = await call<{ libraries: Library[] }>("GET", "/api/libraries");
  return r.libraries;
}

export interface PhraseList {
  phrases: Phrase[];
  can_edit_library: boolean;
}

export async function listPhrases(): Promise<PhraseList> {
  return call<PhraseList>("GET", "/api/phrases");
}

export type PhraseFields = Pick<Phrase, "shortcut" | "title" | "body" | "language">;

export async function createPhrase(scope: Phrase["scope"], f: PhraseFields): Promise<Phrase> {
  const r = await call<{ phrase: Phrase }>("POST", "/api/phrases", { scope, ...f });
  return r.phrase;
}

export async function updatePhrase(id: number, f: Partial<PhraseFields>): Promise<Phrase> {
  const r = await call<{ phrase: Phrase }>("PATCH", `/api/phrases/${id}`, f);
  return r.phrase;
}

export async function deletePhrase(id: number): Promise<void> {
  await call("DELETE", `/api/phrases/${id}`);
}

// ---- backlog (表单咨询) -------------------------------------------------------------------

export type BacklogList = "open" | "mine" | "answered";

export async function backlog(list: BacklogList): Promise<TicketSummary[]> {
  const query = list === "mine" ? "state=claimed&mine=1" : `state=${list}`;
  const r = await call<{ tickets: TicketSummary[] }>("GET", `/api/backlog?${query}`);
  return r.tickets;
}

export async function ticket(id: number): Promise<TicketDetail> {
  const r = await call<{ ticket: TicketDetail }>("GET", `/api/backlog/${id}`);
  return r.ticket;
}

export async function claimTicket(id: number): Promise<void> {
  await call("POST", `/api/backlog/${id}/claim`);
}

export async function returnTicket(id: number, note: string): Promise<void> {
  await call("POST", `/api/backlog/${id}/return`, { note });
}

export async function replyTicket(id: number, answer: string, answerKind: AnswerKind): Promise<string> {
  const r = await call<{ answer: string }>("POST", `/api/backlog/${id}/reply`, {
    answer,
    answer_kind: answerKind,
  });
  return r.answer;
}

// ---- bots (自动回复) ---------------------------------------------------------------------

export async function bots(): Promise<BotConfig> {
  return call<BotConfig>("GET", "/api/bots");
}

export async function saveBotSettings(change: BotSettings): Promise<BotSettings> {
  const r = await call<{ settings: BotSettings }>("PUT", "/api/bots/settings", change);
  return r.settings;
}

function textPath(key: string, language: string): string {
  return `/api/bots/texts/${encodeURIComponent(key)}/${encodeURIComponent(language)}`;
}

export async function saveBotText(key: string, language: string, body: string): Promise<string> {
  const r = await call<{ body: string }>("PUT", textPath(key, language), { body });
  return r.body;
}

export async function resetBotText(key: string, language: string): Promise<string> {
  const r = await call<{ body: string }>("DELETE", textPath(key, language));
  return r.body;
}
