// @vitest-environment happy-dom
// A reader's file on its way (Chat.sendFile) against a stand-in socket and XMLHttpRequest:
// checked before a byte is sent; a dropped connection sent again with the same client_msg_id,
// by itself and after a reconnect; a refusal kept with its reason until dismissed; a cancel.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { answerWith, type FakeSocket, settle, sockets } from "../testing/socket";
import { useStorage } from "../testing/storage";
import { Chat, type Consultation, type Message } from "./chat";

vi.mock("socket.io-client", async () => (await import("../testing/socket")).socketModule);

const DESK = "https://desk.example";
const LIB = "demo-pl";
const P = `deskwidget:${DESK}:`;
const CID = 21;
const FILES = { max_bytes: 1024 * 1024, types: ["pdf", "image"], accept: [".jpg", ".pdf", ".png"] };

class FakeXhr {
  static all: FakeXhr[] = [];
  url = "";
  headers: Record<string, string> = {};
  status = 0;
  response: Blob | null = null;
  responseType = "";
  form: FormData | null = null;
  aborted = false;
  upload: { onprogress?: (e: unknown) => void } = {};
  onprogress?: (e: unknown) => void;
  onload?: () => void;
  onerror?: () => void;
  onabort?: () => void;
  constructor() {
    FakeXhr.all.push(this);
  }
  open(_method: string, url: string) {
    this.url = url;
  }
  setRequestHeader(k: string, v: string) {
    this.headers[k] = v;
  }
  getResponseHeader() {
    return null;
  }
  send(body: FormData) {
    this.form = body;
  }
  abort() {
    this.aborted = true;
    this.onabort?.();
  }
  get cmid(): string {
    return JSON.parse(String(this.form?.get("meta"))).client_msg_id as string;
  }
  answer(status: number, body: unknown) {
    this.status = status;
    this.response = new Blob([JSON.stringify(body)]);
    this.onload?.();
  }
}

function stored(seq: number, cmid: string): Message {
  return {
    consultation_id: CID,
    seq,
    client_msg_id: cmid,
    author_kind: "reader",
    author_id: 1,
    body: "shot.png",
    attachment: {
      kind: "file",
      direction: "from_reader",
      title: "shot.png",
      name: "shot.png",
      size: 4,
      content_type: "image/png",
      url: "",
      authors: "",
      source: "",
      year: null,
      doc_type: "",
    },
    created_at: "2026-03-01T10:05:00Z",
  };
}

const png = (size = 4, name = "shot.png") => new File([new Uint8Array(size)], name, { type: "image/png" });
const flush = async () => {
  for (let i = 0; i < 5; i++) {
    await settle();
    await new Promise((r) => setTimeout(r, 0));
  }
};

async function chatUnderWay(): Promise<{ chat: Chat; socket: FakeSocket }> {
  const storage = useStorage();
  storage.setItem(`${P}token`, "tok");
  storage.setItem(`${P}lib:${LIB}`, JSON.stringify({ cid: CID, lastSeq: 0, version: 3 }));
  const c: Consultation = { id: CID, library: LIB, language: "zh-CN", state: "assigned", consultant: null, version: 3, ended_by: null };
  answerWith((event) => {
    if (event === "resume") return { ok: true, consultations: [{ consultation_id: CID, consultation: c, messages: [], more: false }] };
    if (event === "history") return { ok: true, messages: [], more: false };
    return { ok: true };
  });
  const chat = new Chat(DESK, LIB, "zh-CN");
  chat.info = { code: LIB, name: "示例馆", name_en: null, languages: ["zh-CN"], phone: null, files: FILES };
  await chat.start();
  await settle(200);
  return { chat, socket: sockets[sockets.length - 1] };
}

beforeEach(() => {
  sockets.length = 0;
  FakeXhr.all = [];
  vi.stubGlobal("XMLHttpRequest", FakeXhr);
});

afterEach(() => {
  vi.useRealTimers();
});

describe("a reader's file", () => {
  it("is checked before a byte is sent, and only while the chat is under way", async () => {
    const { chat } = await chatUnderWay();
    expect(chat.canAttach).toBe(true);
    expect(chat.sendFile(png(FILES.max_bytes + 1))).toEqual({ code: "file_too_large", details: { limit: FILES.max_bytes } });
    expect(chat.sendFile(new File(["x"], "a.docx"))).toEqual({ code: "file_type_not_allowed", details: { ext: ".docx" } });
    expect(FakeXhr.all).toHaveLength(0);
    chat.info = { ...chat.info!, files: undefined }; // an older desk
    expect(chat.canAttach).toBe(false);
  });

  it("goes with the token and its client_msg_id, and becomes the stored message", async () => {
    const { chat } = await chatUnderWay();
    expect(chat.sendFile(png())).toBeNull();
    const [x] = FakeXhr.all;
    expect(x.url).toBe(`${DESK}/api/readers/consultations/${CID}/files`);
    expect(x.headers.Authorization).toBe("Bearer tok");
    expect((x.form?.get("file") as File).name).toBe("shot.png");
    x.upload.onprogress?.({ loaded: 2, total: 4, lengthComputable: true });
    expect(chat.uploads[0]).toMatchObject({ state: "up", loaded: 2 });
    x.answer(200, { ok: true, message: stored(5, x.cmid), duplicate: false });
    await flush();
    expect(chat.uploads).toEqual([]);
    expect(chat.sorted().map((m) => [m.seq, m.attachment?.name])).toEqual([[5, "shot.png"]]);
  });

  it("is sent again with the same client_msg_id after a dropped connection, and after a reconnect", async () => {
    const { chat, socket } = await chatUnderWay();
    vi.useFakeTimers();
    chat.sendFile(png());
    const cmid = FakeXhr.all[0].cmid;
    // Three retries by itself (2, 4, 8 s), then it waits for the socket or the reader.
    for (const wait of [2000, 4000, 8000]) {
      FakeXhr.all[FakeXhr.all.length - 1].onerror?.();
      await vi.advanceTimersByTimeAsync(0);
      expect(chat.uploads[0].state).toBe("wait");
      await vi.advanceTimersByTimeAsync(wait);
    }
    expect(FakeXhr.all).toHaveLength(4);
    FakeXhr.all[3].onerror?.();
    await vi.advanceTimersByTimeAsync(60000);
    expect(chat.uploads[0].state).toBe("lost");
    expect(FakeXhr.all).toHaveLength(4);
    socket.drop();
    socket.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeXhr.all).toHaveLength(5);
    expect(FakeXhr.all.map((x) => x.cmid)).toEqual(Array(5).fill(cmid));
    // The desk had stored it the first time: it answers with that message.
    FakeXhr.all[4].answer(200, { ok: true, message: stored(7, cmid), duplicate: true });
    vi.useRealTimers();
    await flush();
    expect(chat.uploads).toEqual([]);
    expect(chat.sorted().map((m) => m.seq)).toEqual([7]);
  });

  it("is linked by the prev in the desk's answer; a duplicate's answer (none) is asked for again", async () => {
    const { chat, socket } = await chatUnderWay();
    vi.useFakeTimers();
    chat.sendFile(png());
    FakeXhr.all[0].answer(200, { ok: true, message: { ...stored(5, FakeXhr.all[0].cmid), prev: 0 }, duplicate: false });
    await vi.advanceTimersByTimeAsync(3000);
    expect(chat.contiguousSeq()).toBe(5);
    expect(socket.sent("history")).toEqual([]);
    chat.sendFile(png());
    FakeXhr.all[1].answer(200, { ok: true, message: stored(8, FakeXhr.all[1].cmid), duplicate: true });
    await vi.advanceTimersByTimeAsync(1500);
    expect(socket.sent("history")).toEqual([{ consultation_id: CID, after_seq: 5 }]);
  });

  it("keeps a refusal with its reason until the reader dismisses it", async () => {
    const { chat } = await chatUnderWay();
    chat.sendFile(png());
    FakeXhr.all[0].answer(400, { ok: false, error: { code: "file_content_mismatch", message: "x" } });
    await flush();
    expect(chat.uploads[0]).toMatchObject({ state: "refused", error: { code: "file_content_mismatch" } });
    chat.dropUpload(chat.uploads[0].cmid);
    expect(chat.uploads).toEqual([]);
    expect(FakeXhr.all).toHaveLength(1);
  });

  it("can be cancelled on its way; a late answer changes nothing", async () => {
    const { chat } = await chatUnderWay();
    chat.sendFile(png());
    const [x] = FakeXhr.all;
    chat.dropUpload(chat.uploads[0].cmid);
    expect(x.aborted).toBe(true);
    expect(chat.uploads).toEqual([]);
    await flush();
    expect(FakeXhr.all).toHaveLength(1);
    expect(chat.sorted()).toEqual([]);
  });
});
