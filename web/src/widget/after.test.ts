// @vitest-environment happy-dom
// The end of a served chat: which chats may be rated and copied, what a rating sends, the
// words for the desk's refusals, and Chat.rate / mailTranscript against a stand-in fetch (the
// reader's token, the JSON body, the rating remembered on this device and forgotten by
// "clear").
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type TestStorage, useStorage } from "../testing/storage";
import { afterError, MAX_COMMENT, mailOk, ratingBody, served } from "./after";
import { Chat, type Consultation, type Message } from "./chat";
import { Store } from "./store";

vi.mock("socket.io-client", async () => (await import("../testing/socket")).socketModule);

const DESK = "https://desk.example";
const LIB = "demo-pl";
const P = `deskwidget:${DESK}:`;
const CID = 21;

function consultation(state: string): Consultation {
  return { id: CID, library: LIB, language: "zh-CN", state, consultant: null, version: 3, ended_by: "consultant" };
}

function msg(author_kind: string): Message {
  return { consultation_id: CID, seq: 1, client_msg_id: null, author_kind, author_id: null, body: "x", created_at: "2026-03-01T10:00:00Z" };
}

describe("served", () => {
  it("is a closed or handed-off chat a consultant took or wrote in", () => {
    expect(served(consultation("closed"), [msg("consultant")], false)).toBe(true);
    expect(served(consultation("handed_off"), [], true)).toBe(true);
    expect(served(consultation("closed"), [], true)).toBe(true);
  });

  it("is not a chat only the bot answered, one left in the queue, or one under way", () => {
    expect(served(consultation("closed"), [msg("reader"), msg("bot"), msg("system")], false)).toBe(false);
    expect(served(consultation("abandoned"), [msg("consultant")], true)).toBe(false);
    expect(served(consultation("assigned"), [msg("consultant")], true)).toBe(false);
    expect(served(null, [msg("consultant")], true)).toBe(false);
  });
});

describe("ratingBody and mailOk", () => {
  it("trims the comment to the desk's limit", () => {
    expect(ratingBody(false, "  太慢了 \n")).toEqual({ satisfied: false, comment: "太慢了" });
    expect(ratingBody(true, "")).toEqual({ satisfied: true, comment: "" });
    expect(ratingBody(true, "字".repeat(600)).comment).toHaveLength(MAX_COMMENT);
  });

  it("takes the addresses the desk takes", () => {
    expect(mailOk("reader@lib.example")).toBe(true);
    expect(mailOk("reader@lib")).toBe(false);
    expect(mailOk("a b@lib.example")).toBe(false);
    expect(mailOk(`${"a".repeat(250)}@x.cn`)).toBe(false);
  });
});

describe("afterError", () => {
  it("says the desk's refusals in words, in both languages", () => {
    expect(afterError("zh-CN", { code: "not_rateable" })).toBe("这次咨询不能评价。");
    expect(afterError("en", { code: "not_rateable" })).toBe("This chat cannot be rated.");
    expect(afterError("zh-CN", { code: "mail_unavailable" }, true)).toContain("不能发送邮件");
    expect(afterError("en", { code: "mail_failed" }, true)).toBe("The mail could not be sent. Please try again later.");
    expect(afterError("zh-CN", { code: "network" })).toBe("暂时连不上咨询台，请稍后再试。");
    expect(afterError("zh-CN", { code: "invalid_payload" }, true)).toBe("邮箱地址格式不正确，请检查。");
    expect(afterError("en", { code: "internal" })).toBe("The rating was not sent (internal). Please try again.");
    expect(afterError("zh-CN", { code: "internal" }, true)).toBe("邮件没有发出（internal），请稍后再试。");
  });
});

describe("Chat.rate and mailTranscript", () => {
  let storage: TestStorage;
  let calls: { url: string; init: RequestInit }[];
  let answer: () => Promise<Response>;

  beforeEach(() => {
    storage = useStorage();
    storage.setItem(`${P}token`, "tok");
    calls = [];
    answer = async () => new Response(JSON.stringify({ ok: true, satisfied: false }), { status: 200 });
    vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return answer();
    });
  });

  afterEach(() => {
    vi.unstubAllGlobals();
  });

  function endedChat(): Chat {
    const chat = new Chat(DESK, LIB, "zh-CN");
    chat.cid = CID;
    return chat;
  }

  it("posts the rating with the reader's token and remembers it on this device", async () => {
    const chat = endedChat();
    expect(chat.rated).toBe(false);
    expect(await chat.rate(ratingBody(false, " 回复太慢 "))).toBeNull();
    expect(calls).toHaveLength(1);
    expect(calls[0].url).toBe(`${DESK}/api/readers/consultations/${CID}/rating`);
    expect(calls[0].init.method).toBe("POST");
    expect(calls[0].init.headers).toMatchObject({ Authorization: "Bearer tok", "Content-Type": "application/json" });
    expect(JSON.parse(String(calls[0].init.body))).toEqual({ satisfied: false, comment: "回复太慢" });
    expect(chat.rated).toBe(true);
    // A reload still knows (the thank-you stays); "clear this device" forgets it.
    expect(new Store(DESK, LIB).rated()).toEqual([CID]);
    expect(endedChat().rated).toBe(true);
    new Store(DESK, LIB).clear();
    expect(endedChat().rated).toBe(false);
  });

  it("keeps the desk's refusal and does not remember a rating it refused", async () => {
    answer = async () => new Response(JSON.stringify({ ok: false, error: { code: "not_rateable", message: "no" } }), { status: 409 });
    const chat = endedChat();
    expect(await chat.rate(ratingBody(true, ""))).toEqual({ code: "not_rateable", message: "no" });
    expect(chat.rated).toBe(false);
    // A page that is not the desk's answer (a proxy's, a route not there yet).
    answer = async () => new Response("<html>502</html>", { status: 502 });
    expect(await chat.rate(ratingBody(true, ""))).toEqual({ code: "unavailable" });
    answer = async () => {
      throw new TypeError("Failed to fetch");
    };
    expect(await chat.rate(ratingBody(true, ""))).toEqual({ code: "network" });
    expect(chat.rated).toBe(false);
  });

  it("mails the copy to the address given", async () => {
    answer = async () => new Response(JSON.stringify({ ok: true }), { status: 200 });
    const chat = endedChat();
    expect(await chat.mailTranscript("reader@lib.example")).toBeNull();
    expect(calls[0].url).toBe(`${DESK}/api/readers/consultations/${CID}/transcript/email`);
    expect(JSON.parse(String(calls[0].init.body))).toEqual({ email: "reader@lib.example" });
  });
});
