// @vitest-environment happy-dom
// Files in the chat: the checks made before a byte is sent, the reasons in words, the card's
// lines, the name a download is saved under, and the request the widget makes.
import { afterEach, describe, expect, it, vi } from "vitest";
import { acceptOf, type Attachment, cardLines, checkFile, dispositionName, extOf, fileError, type FileLimits, kindsText, mb, sizeText, transfer } from "./files";

const MB = 1024 * 1024;
const LIMITS: FileLimits = {
  max_bytes: 20 * MB,
  types: ["pdf", "image", "text"],
  accept: [".bib", ".csv", ".enw", ".gif", ".heic", ".heif", ".jpeg", ".jpg", ".pdf", ".png", ".ris", ".txt", ".webp"],
};

const file = (name: string, size = 1000, type = "") => ({ name, size, type });

describe("checkFile", () => {
  it("takes a file of an accepted kind within the limit, under its own name", () => {
    expect(checkFile(file("截图.png", 20 * MB, "image/png"), LIMITS)).toBe("截图.png");
    expect(checkFile(file("Refs.RIS"), LIMITS)).toBe("Refs.RIS");
  });

  it("refuses a file over the limit, with the limit", () => {
    expect(checkFile(file("scan.pdf", 20 * MB + 1, "application/pdf"), LIMITS)).toEqual({ code: "file_too_large", details: { limit: 20 * MB } });
  });

  it("refuses a kind the library does not take, with the extension", () => {
    expect(checkFile(file("setup.exe", 10, "application/x-msdownload"), LIMITS)).toEqual({ code: "file_type_not_allowed", details: { ext: ".exe" } });
    expect(checkFile(file("thesis.docx"), LIMITS)).toEqual({ code: "file_type_not_allowed", details: { ext: ".docx" } });
    expect(checkFile(file("README"), LIMITS)).toEqual({ code: "file_type_not_allowed", details: { ext: "" } });
    // A leading dot is a hidden file's name, not an extension.
    expect(checkFile(file(".pdf"), LIMITS)).toEqual({ code: "file_type_not_allowed", details: { ext: "" } });
  });

  it("names a phone's photo without an extension by its type, if the library takes that", () => {
    expect(checkFile(file("1000012345", 5000, "image/jpeg"), LIMITS)).toBe("1000012345.jpg");
    expect(checkFile(file("IMG_1", 5000, "image/png"), { ...LIMITS, types: ["pdf"], accept: [".pdf"] })).toEqual({
      code: "file_type_not_allowed",
      details: { ext: "" },
    });
  });

  it("refuses an empty file (the type is checked first)", () => {
    expect(checkFile(file("a.pdf", 0), LIMITS)).toEqual({ code: "file_empty" });
    expect(checkFile(file("a.exe", 0), LIMITS)).toMatchObject({ code: "file_type_not_allowed" });
  });
});

describe("sizes and kinds in words", () => {
  it("says the limit in MB and sizes as people read them", () => {
    expect(mb(20 * MB)).toBe("20");
    expect(mb(MB / 2)).toBe("0.5");
    expect(mb(100 * MB)).toBe("100");
    expect(sizeText(812)).toBe("812 B");
    expect(sizeText(35 * 1024 + 100)).toBe("35 KB");
    expect(sizeText(2.4 * MB)).toBe("2.4 MB");
  });

  it("names the kinds the library takes, in the reader's language, in a fixed order", () => {
    expect(kindsText("zh-CN", ["text", "pdf", "image"])).toBe("PDF、图片、文本和引文列表");
    expect(kindsText("en", ["pdf", "ebook", "future"])).toBe("PDF, e-books (CAJ included)");
  });

  it("offers the camera roll only where images are taken", () => {
    expect(acceptOf(LIMITS).split(",")).toEqual([...LIMITS.accept, "image/*"]);
    expect(acceptOf({ ...LIMITS, types: ["pdf"], accept: [".pdf"] })).toBe(".pdf");
  });

  it("explains each refusal plainly", () => {
    const big = checkFile(file("scan.pdf", 21 * MB), LIMITS);
    expect(fileError("zh-CN", big as never, LIMITS)).toBe("文件太大，没有发出。本馆最大接收 20 MB 的文件。");
    expect(fileError("en", big as never, LIMITS)).toBe("The file is too large and was not sent. This library takes files up to 20 MB.");
    const exe = checkFile(file("setup.exe"), LIMITS);
    expect(fileError("zh-CN", exe as never, LIMITS)).toBe("本馆不接收这种文件（.exe），没有发出。可以发送：PDF、图片、文本和引文列表。");
    expect(fileError("en", exe as never, LIMITS)).toBe(
      "This library does not take this kind of file (.exe); it was not sent. You can send: PDF, images, text and citation lists.",
    );
    // The desk's own refusal: its limit, and its list when the widget has none.
    expect(fileError("zh-CN", { code: "file_too_large", details: { limit: 5 * MB } }, LIMITS)).toContain("5 MB");
    expect(fileError("zh-CN", { code: "file_type_not_allowed", details: { allowed: [".pdf", ".png"] } }, null)).toBe(
      "本馆不接收这种文件，没有发出。可以发送：.pdf .png。",
    );
    expect(fileError("zh-CN", { code: "file_content_mismatch" }, LIMITS)).toContain("文件内容与文件名不符");
    expect(fileError("zh-CN", { code: "consultation_ended" }, LIMITS)).toBe("本次咨询已结束，文件没有发出。");
    expect(fileError("zh-CN", { code: "network" }, LIMITS)).toBe("网络中断，文件没有发出。");
    expect(fileError("zh-CN", { code: "auth_invalid" }, LIMITS)).toBe("出了点问题，文件没有发出（auth_invalid）。");
  });

  it("explains a download that failed", () => {
    expect(fileError("zh-CN", { code: "file_purged" }, null, true)).toContain("已超过保存期限");
    expect(fileError("en", { code: "file_purged" }, null, true)).toContain("retention period");
    expect(fileError("zh-CN", { code: "file_not_found" }, null, true)).toBe("找不到这个文件。");
    expect(fileError("zh-CN", { code: "network" }, null, true)).toBe("网络中断，下载没有完成，请重试。");
    expect(fileError("en", { code: "unavailable" }, null, true)).toBe("The download did not finish (unavailable). Please try again.");
  });
});

describe("cardLines", () => {
  const base: Attachment = {
    kind: "file",
    direction: "to_reader",
    title: "图书馆联盟研究",
    name: "论文.pdf",
    size: 3 * 1024 * 1024 + 200000,
    content_type: "application/pdf",
    url: "",
    authors: "张三; 李四",
    source: "图书馆杂志",
    year: 2019,
    doc_type: "journal_article",
  };

  it("gives the title, authors · source · year, and the file's name and size", () => {
    expect(cardLines(base)).toEqual({ title: "图书馆联盟研究", meta: "张三; 李四 · 图书馆杂志 · 2019", file: "论文.pdf · 3.2 MB" });
  });

  it("leaves out what is missing", () => {
    expect(cardLines({ ...base, authors: "", source: "", year: null })).toMatchObject({ meta: "" });
    expect(cardLines({ ...base, authors: "", year: null }).meta).toBe("图书馆杂志");
    // A reader's screenshot: the title is its name, said once.
    expect(cardLines({ ...base, title: "", authors: "", source: "", year: null })).toEqual({ title: "论文.pdf", meta: "", file: "3.2 MB" });
    expect(cardLines({ ...base, title: "论文.pdf", size: 0 }).file).toBe("");
  });

  it("has no file line for a link, and falls back to the address for a title", () => {
    const linkAtt: Attachment = { ...base, kind: "link", name: "", size: 0, url: "https://lib.example/a", title: "" };
    expect(cardLines(linkAtt)).toEqual({ title: "https://lib.example/a", meta: "张三; 李四 · 图书馆杂志 · 2019", file: "" });
  });

  it("passes markup through as plain text (the view places it with text nodes)", () => {
    const evil = '<img src=x onerror="alert(1)">';
    expect(cardLines({ ...base, title: evil }).title).toBe(evil);
  });
});

describe("dispositionName", () => {
  it("prefers the UTF-8 filename*", () => {
    expect(dispositionName("attachment; filename=\"__.pdf\"; filename*=UTF-8''%E8%AE%BA%E6%96%87.pdf")).toBe("论文.pdf");
    // As the desk writes it for a name with spaces and quotes.
    expect(dispositionName("attachment; filename=\"a _b_ c.pdf\"; filename*=UTF-8''a%20%22b%22%20c.pdf")).toBe('a "b" c.pdf');
  });

  it("reads any letter case, the order of parameters, and a language tag", () => {
    expect(dispositionName("ATTACHMENT; FILENAME*=utf-8'zh'%E6%96%87.txt; filename=x.txt")).toBe("文.txt");
    expect(dispositionName("attachment;filename*=iso-8859-1'en'%A3%20rates.txt")).toBe("£ rates.txt");
  });

  it("falls back to filename when filename* is missing or broken", () => {
    expect(dispositionName('attachment; filename="plain name.pdf"')).toBe("plain name.pdf");
    expect(dispositionName("attachment; filename=bare.pdf")).toBe("bare.pdf");
    expect(dispositionName('attachment; filename="q\\"uote.pdf"')).toBe('q"uote.pdf');
    expect(dispositionName("attachment; filename=\"ok.pdf\"; filename*=UTF-8''%E8%AE")).toBe("ok.pdf");
    expect(dispositionName("attachment; filename=\"ok.pdf\"; filename*=KOI8-R''%E8")).toBe("ok.pdf");
  });

  it("drops directories, and gives null when there is no name", () => {
    expect(dispositionName("attachment; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd")).toBe("passwd");
    expect(dispositionName('attachment; filename="C:\\\\x\\\\y.pdf"')).toBe("y.pdf");
    expect(dispositionName("attachment")).toBeNull();
    expect(dispositionName(null)).toBeNull();
    expect(dispositionName('attachment; filename=""')).toBeNull();
  });
});

describe("transfer", () => {
  class FakeXhr {
    static last: FakeXhr;
    method = "";
    url = "";
    headers: Record<string, string> = {};
    status = 0;
    response: Blob | null = null;
    responseType = "";
    sent: unknown;
    upload: { onprogress?: (e: unknown) => void } = {};
    onprogress?: (e: unknown) => void;
    onload?: () => void;
    onerror?: () => void;
    onabort?: () => void;
    constructor() {
      FakeXhr.last = this;
    }
    open(method: string, url: string) {
      this.method = method;
      this.url = url;
    }
    setRequestHeader(k: string, v: string) {
      this.headers[k] = v;
    }
    getResponseHeader(k: string) {
      return k === "Content-Disposition" ? "attachment; filename*=UTF-8''a.pdf" : null;
    }
    send(body: unknown) {
      this.sent = body;
    }
    abort() {
      this.onabort?.();
    }
    answer(status: number, body: string) {
      this.status = status;
      this.response = new Blob([body]);
      this.onload?.();
    }
  }
  afterEach(() => vi.unstubAllGlobals());

  it("uploads with the token, reports the bytes sent, and gives the desk's answer", async () => {
    vi.stubGlobal("XMLHttpRequest", FakeXhr);
    const seen: number[] = [];
    const form = new FormData();
    const tr = transfer("https://desk.example/api/readers/consultations/5/files", "tok", form, (n) => seen.push(n));
    const x = FakeXhr.last;
    expect([x.method, x.url, x.headers.Authorization, x.sent]).toEqual(["POST", "https://desk.example/api/readers/consultations/5/files", "Bearer tok", form]);
    x.upload.onprogress?.({ loaded: 10, total: 20, lengthComputable: true });
    x.answer(200, JSON.stringify({ ok: true, message: { seq: 3 } }));
    expect(await tr.done).toEqual({ ok: true, json: { ok: true, message: { seq: 3 } } });
    expect(seen).toEqual([10]);
  });

  it("gives the desk's refusal, a dropped connection, a proxy's page and an abort", async () => {
    vi.stubGlobal("XMLHttpRequest", FakeXhr);
    let tr = transfer("u", "t", new FormData(), () => {});
    FakeXhr.last.answer(413, JSON.stringify({ ok: false, error: { code: "file_too_large", details: { limit: 5 } } }));
    expect(await tr.done).toEqual({ ok: false, error: { code: "file_too_large", details: { limit: 5 } } });
    tr = transfer("u", "t", new FormData(), () => {});
    FakeXhr.last.onerror?.();
    expect(await tr.done).toEqual({ ok: false, error: { code: "network" } });
    tr = transfer("u", "t", new FormData(), () => {});
    FakeXhr.last.answer(502, "<html>Bad gateway</html>");
    expect(await tr.done).toEqual({ ok: false, error: { code: "unavailable" } });
    tr = transfer("u", "t", new FormData(), () => {});
    FakeXhr.last.answer(413, "<html>413 Request Entity Too Large</html>");
    expect(await tr.done).toEqual({ ok: false, error: { code: "file_too_large" } });
    tr = transfer("u", "t", null, () => {});
    tr.abort();
    expect(await tr.done).toEqual({ ok: false, error: { code: "aborted" } });
  });

  it("downloads the file as a blob with its Content-Disposition", async () => {
    vi.stubGlobal("XMLHttpRequest", FakeXhr);
    const tr = transfer("https://desk.example/api/readers/consultations/5/files/3", "tok", null, () => {});
    expect(FakeXhr.last.method).toBe("GET");
    FakeXhr.last.answer(200, "%PDF-1.7");
    const got = await tr.done;
    expect(got.ok && (await got.blob?.text())).toBe("%PDF-1.7");
    expect(got.ok && got.disposition).toBe("attachment; filename*=UTF-8''a.pdf");
    // A refusal of a download is the desk's JSON, read from the blob.
    const gone = transfer("u", "t", null, () => {});
    FakeXhr.last.answer(410, JSON.stringify({ ok: false, error: { code: "file_purged" } }));
    expect(await gone.done).toEqual({ ok: false, error: { code: "file_purged" } });
  });
});

it("extOf", () => {
  expect([extOf("a.b.PDF"), extOf("noext"), extOf(".bashrc")]).toEqual([".pdf", "", ""]);
});
