// @vitest-environment happy-dom
// (setLang writes localStorage and the document's lang.)
import { afterEach, describe, expect, it } from "vitest";
import {
  type AnswerDoc,
  answerParts,
  cardText,
  checkFile,
  dayIn,
  docLines,
  extensionOf,
  familiesText,
  fileUrl,
  formatBytes,
  httpUrl,
  type LedgerFilters,
  ledgerQuery,
  parseYear,
  periodOf,
  refusalText,
  showsPreview,
  splitName,
  titleFromName,
  totals,
} from "./delivery";
import { setLang } from "./i18n";
import { filesChange } from "./settings-forms";
import type { Attachment, FileLimits } from "./types";

afterEach(() => setLang("zh-CN"));

const MB = 1024 * 1024;
const LIMITS: FileLimits = {
  max_bytes: 20 * MB,
  types: ["pdf", "image", "office", "text", "ebook"],
  accept: [".bib", ".caj", ".doc", ".docx", ".jpeg", ".jpg", ".pdf", ".png", ".txt"],
};

describe("the library's limits, checked before uploading", () => {
  it("takes a file of a listed type within the size", () => {
    expect(checkFile({ name: "论文.pdf", size: 3 * MB }, LIMITS)).toBeNull();
    expect(checkFile({ name: "SCAN.JPG", size: 1 }, LIMITS)).toBeNull(); // extensions in any case
    expect(checkFile({ name: "x.pdf", size: 20 * MB }, LIMITS)).toBeNull(); // the limit itself is fine
  });

  it("refuses other types, names without an extension, too large and empty files, and says why", () => {
    expect(checkFile({ name: "setup.exe", size: 10 }, LIMITS)).toEqual({ reason: "type", ext: ".exe", allowed: LIMITS.accept });
    expect(checkFile({ name: ".pdf", size: 10 }, LIMITS)).toMatchObject({ reason: "type", ext: "" });
    expect(checkFile({ name: "README", size: 10 }, LIMITS)).toMatchObject({ reason: "type", ext: "" });
    expect(checkFile({ name: "big.pdf", size: 20 * MB + 1 }, LIMITS)).toEqual({ reason: "size", size: 20 * MB + 1, limit: 20 * MB });
    expect(checkFile({ name: "empty.pdf", size: 0 }, LIMITS)).toEqual({ reason: "empty" });

    expect(refusalText({ reason: "type", ext: ".exe", allowed: [".pdf", ".png"] })).toBe(
      "不能发送：本馆不接收 .exe 文件。可以发送的类型：.pdf .png。",
    );
    expect(refusalText({ reason: "type", ext: "", allowed: [".pdf"] })).toContain("没有扩展名");
    expect(refusalText({ reason: "type", ext: ".pdf", allowed: [] })).toBe("不能发送：本馆目前不接收任何文件。");
    expect(refusalText({ reason: "size", size: 25.5 * MB, limit: 20 * MB })).toBe(
      "不能发送：这个文件有 25.5 MB，超过了本馆单个文件 20 MB 的上限。",
    );
    expect(refusalText({ reason: "size", size: 20 * MB + 1, limit: 20 * MB })).toContain("20,971,521 B");
    setLang("en");
    expect(refusalText({ reason: "size", size: 1.5 * MB, limit: MB })).toBe(
      "Cannot be sent: the file is 1.5 MB, more than the library's limit of 1 MB a file.",
    );
    expect(refusalText({ reason: "empty" })).toBe("Cannot be sent: the file is empty (0 bytes).");
  });

  it("names the families a library takes", () => {
    expect(familiesText(["image", "pdf", "archive"], "zh-CN")).toBe("PDF、图片、压缩包");
    expect(familiesText(["text", "pdf"], "en")).toBe("PDF, text and citation lists");
  });
});

describe("what the send dialog fills in", () => {
  it("splits names and makes a first title of them", () => {
    expect(extensionOf("A.Study.PDF ")).toBe(".pdf");
    expect(splitName("图书馆 联盟.研究.pdf")).toEqual(["图书馆 联盟.研究", ".pdf"]);
    expect(splitName("noext")).toEqual(["noext", ""]);
    expect(titleFromName("Library_alliances__2019.pdf")).toBe("Library alliances 2019");
    expect(titleFromName("论文.caj")).toBe("论文");
  });

  it("takes years and addresses as the desk does", () => {
    expect(parseYear("")).toBeNull();
    expect(parseYear(" 2019 ")).toBe(2019);
    expect(parseYear("19")).toBe("invalid");
    expect(parseYear("0999")).toBe("invalid");
    expect(parseYear("二〇一九")).toBe("invalid");
    expect(httpUrl(" https://doi.org/10.1000/xyz ")).toBe("https://doi.org/10.1000/xyz");
    expect(httpUrl("javascript:alert(1)")).toBeNull();
    expect(httpUrl("ftp://example.org/a")).toBeNull();
    expect(httpUrl("https://a b.example/")).toBeNull();
    expect(httpUrl("https://")).toBeNull();
    expect(httpUrl(`https://x.example/${"a".repeat(2000)}`)).toBeNull();
  });

  it("writes sizes in binary units", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1536)).toBe("1.5 KB");
    expect(formatBytes(20 * MB)).toBe("20 MB");
    expect(formatBytes(3 * MB + 200 * 1024)).toBe("3.2 MB");
    expect(formatBytes(20.4 * MB)).toBe("20.4 MB");
    expect(formatBytes(150.4 * MB)).toBe("150 MB");
    expect(formatBytes(2.5 * 1024 * MB)).toBe("2.5 GB");
  });
});

const FILE: Attachment = {
  kind: "file",
  direction: "to_reader",
  title: "图书馆联盟研究",
  name: "论文.pdf",
  size: 1536,
  content_type: "application/pdf",
  url: "",
  authors: "张三; 李四",
  source: "图书馆杂志",
  year: 2019,
  doc_type: "journal_article",
};

describe("the attachment card", () => {
  it("says a delivered file's details in order", () => {
    expect(cardText(FILE)).toEqual({
      title: "图书馆联盟研究",
      byline: "张三; 李四 · 图书馆杂志 · 2019",
      type: "期刊论文",
      file: "论文.pdf · 1.5 KB",
      direction: "咨询员传递的文献",
    });
    setLang("en");
    expect(cardText(FILE).type).toBe("Journal article");
    expect(cardText(FILE).direction).toBe("Document delivered by the consultant");
  });

  it("leaves out what is not there; a link shows its address; a reader's file its name", () => {
    const link: Attachment = { ...FILE, kind: "link", name: "", size: 0, url: "https://doi.org/10.1/x", authors: "", source: "", year: 2020, doc_type: "" };
    expect(cardText(link)).toMatchObject({ byline: "2020", type: "", file: "https://doi.org/10.1/x" });
    const shot: Attachment = { ...FILE, direction: "from_reader", title: "", name: "IMG_0001.PNG", content_type: "image/png", authors: "", source: "", year: null, doc_type: "" };
    expect(cardText(shot)).toMatchObject({ title: "IMG_0001.PNG", byline: "", direction: "读者发送的文件" });
    expect(cardText({ ...FILE, doc_type: "poem" }).type).toBe("poem");
  });

  it("previews only a reader's raster picture", () => {
    const shot: Attachment = { ...FILE, direction: "from_reader", content_type: "image/png" };
    expect(showsPreview(shot)).toBe(true);
    expect(showsPreview({ ...shot, content_type: "image/webp" })).toBe(true);
    expect(showsPreview({ ...shot, content_type: "image/heic" })).toBe(false); // browsers cannot show it
    expect(showsPreview({ ...shot, content_type: "image/svg+xml" })).toBe(false);
    expect(showsPreview({ ...shot, direction: "to_reader" })).toBe(false);
    expect(showsPreview({ ...FILE })).toBe(false);
    expect(fileUrl(12, 7)).toBe("/api/consultations/12/files/7");
    expect(fileUrl(12, 7, true)).toBe("/api/consultations/12/files/7?inline=1");
  });
});

describe("the ledger's filters", () => {
  const F: LedgerFilters = { preset: "month", from: "", to: "", direction: "to_reader", kind: "", group: "consultant" };
  // 2026-03-31 20:30 UTC is already 1 April in Beijing.
  const NOW = new Date("2026-03-31T20:30:00Z");

  it("counts days in Beijing time", () => {
    expect(dayIn(NOW)).toBe("2026-04-01");
    expect(periodOf({ ...F, preset: "today" }, NOW)).toEqual({ from: "2026-04-01", to: "2026-04-01" });
    expect(periodOf(F, NOW)).toEqual({ from: "2026-04-01", to: "2026-04-01" });
    expect(periodOf({ ...F, preset: "year" }, NOW)).toEqual({ from: "2026-01-01", to: "2026-04-01" });
    expect(periodOf({ ...F, preset: "month" }, new Date("2026-05-20T03:00:00Z"))).toEqual({ from: "2026-05-01", to: "2026-05-20" });
    expect(periodOf({ ...F, preset: "custom", from: "2025-09-01", to: "" }, NOW)).toEqual({ from: "2025-09-01", to: "" });
    expect(periodOf({ ...F, preset: "custom", from: "yesterday", to: "2025-12-31" }, NOW)).toEqual({ from: "", to: "2025-12-31" });
  });

  it("asks the desk with the filters", () => {
    expect(ledgerQuery(F, NOW)).toBe("from=2026-04-01&to=2026-04-01&direction=to_reader");
    expect(ledgerQuery({ ...F, preset: "custom", kind: "link", direction: "all", group: "day" }, NOW, { group: true })).toBe(
      "direction=all&kind=link&group=day",
    );
    expect(ledgerQuery(F, NOW, { before_id: 41, limit: 50 })).toBe(
      "from=2026-04-01&to=2026-04-01&direction=to_reader&before_id=41&limit=50",
    );
  });

  it("adds up the counts", () => {
    expect(
      totals([
        { key: "wang", name: "王老师", total: 3, files: 2, links: 1, bytes: 2048 },
        { key: "li", name: "李老师", total: 1, files: 1, links: 0, bytes: 10 },
      ]),
    ).toEqual({ total: 4, files: 3, links: 1, bytes: 2058 });
    expect(totals([])).toEqual({ total: 0, files: 0, links: 0, bytes: 0 });
  });
});

describe("the library's file limits on the settings page", () => {
  const stored = { max_mb: 20, types: ["pdf", "image"], families: {}, desk_max_mb: 100 };

  it("sends them only when changed, families in the desk's order", () => {
    expect(filesChange({ max: "20", types: ["image", "pdf"] }, stored)).toBeNull();
    expect(filesChange({ max: " 50 ", types: ["image", "pdf"] }, stored)).toEqual({ max_mb: 50, types: ["pdf", "image"] });
    expect(filesChange({ max: "20", types: ["archive", "pdf"] }, stored)).toEqual({ max_mb: 20, types: ["pdf", "archive"] });
    expect(filesChange({ max: "20", types: [] }, stored)).toEqual({ max_mb: 20, types: [] });
    expect(filesChange(null, stored)).toBeNull();
  });

  it("refuses sizes outside 1 … the desk's cap", () => {
    for (const max of ["0", "101", "1.5", "", "二十"]) expect(filesChange({ max, types: ["pdf"] }, stored)).toBe("invalid");
    expect(filesChange({ max: "100", types: ["pdf"] }, stored)).toEqual({ max_mb: 100, types: ["pdf"] });
  });
});

describe("a backlog answer's documents", () => {
  const pdf = new Blob([new Uint8Array(2048)], { type: "application/pdf" });
  const png = new Blob([new Uint8Array(10)], { type: "image/png" });
  const docs: AnswerDoc[] = [
    { kind: "link", details: { title: "开放获取版本", year: 2020 }, url: "https://oa.example.org/a" },
    { kind: "file", details: { title: "论文全文", authors: "张三", doc_type: "thesis" }, file: pdf, name: "论文.pdf" },
    { kind: "file", details: { title: "附图" }, file: png, name: "fig.png" },
  ];

  it("describes the file parts in meta in the order they are sent, links apart", () => {
    const { meta, files } = answerParts("答复正文", "found", docs);
    expect(meta).toEqual({
      answer: "答复正文",
      answer_kind: "found",
      files: [{ title: "论文全文", authors: "张三", doc_type: "thesis" }, { title: "附图" }],
      links: [{ title: "开放获取版本", year: 2020, url: "https://oa.example.org/a" }],
    });
    expect(files.map((f) => f.name)).toEqual(["论文.pdf", "fig.png"]);
    expect(files[0].file).toBe(pdf);
    // No client_msg_id or other field the desk's DocFields would refuse.
    for (const f of meta.files as Record<string, unknown>[]) expect(Object.keys(f).every((k) => ["title", "authors", "source", "year", "doc_type"].includes(k))).toBe(true);
  });

  it("sends links alone with no file part", () => {
    const { meta, files } = answerParts("见链接", "answer", [docs[0]]);
    expect(meta.files).toEqual([]);
    expect(files).toEqual([]);
  });

  it("says a pending or delivered document in lines of text", () => {
    const file = docLines({ kind: "file", title: "论文全文", authors: "张三", source: "某大学", year: 2019, doc_type: "thesis", name: "论文.pdf", size: 2048 });
    expect(file.title).toBe("论文全文");
    expect(file.byline).toBe("张三 · 某大学 · 2019");
    expect(file.type).toBe("学位论文");
    expect(file.file).toBe("论文.pdf · 2 KB");
    expect(docLines({ kind: "link", title: "", url: "https://oa.example.org/a", year: null }).title).toBe("https://oa.example.org/a");
  });
});
