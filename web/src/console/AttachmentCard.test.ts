// @vitest-environment happy-dom
import { h, render } from "preact";
import { act } from "preact/test-utils";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AttachmentCard } from "./AttachmentCard";
import type { Attachment } from "./types";

const BASE: Attachment = {
  kind: "file",
  direction: "to_reader",
  title: "图书馆联盟研究",
  name: "论文.pdf",
  size: 2048,
  content_type: "application/pdf",
  url: "",
  authors: "张三",
  source: "图书馆杂志",
  year: 2019,
  doc_type: "thesis",
};

let root: HTMLElement;

async function show(a: Attachment, status = 200): Promise<{ el: HTMLElement; heads: string[] }> {
  const heads: string[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      heads.push(`${init?.method} ${url}`);
      return new Response(null, { status });
    }),
  );
  root = document.createElement("div");
  document.body.append(root);
  await act(async () => {
    render(h(AttachmentCard, { consultationId: 5, seq: 9 + status, a }), root);
  });
  await act(async () => {
    await new Promise((r) => setTimeout(r, 0));
  });
  return { el: root, heads };
}

afterEach(() => {
  render(null, root);
  root.remove();
});

describe("AttachmentCard", () => {
  it("shows a delivered file with its details and a plain download link", async () => {
    const { el, heads } = await show(BASE);
    expect(el.querySelector(".att-title")?.textContent).toBe("图书馆联盟研究");
    expect(el.querySelector(".att-byline")?.textContent).toBe("张三 · 图书馆杂志 · 2019");
    expect(el.querySelector(".att-type")?.textContent).toBe("学位论文");
    expect(el.querySelector(".att-file")?.textContent).toBe("论文.pdf · 2 KB");
    const a = el.querySelector<HTMLAnchorElement>("a.att-download");
    expect(a?.getAttribute("href")).toBe("/api/consultations/5/files/209");
    expect(a?.getAttribute("download")).toBe("论文.pdf");
    expect(heads).toEqual(["HEAD /api/consultations/5/files/209"]);
    expect(el.querySelector("img")).toBeNull();
  });

  it("renders the desk's fields as text, never as markup", async () => {
    const evil = '<img src=x onerror="alert(1)"><script>alert(2)</script>';
    const { el } = await show({ ...BASE, title: evil, authors: evil, name: `${evil}.pdf` });
    expect(el.querySelector("script")).toBeNull();
    expect(el.querySelector("img")).toBeNull();
    expect(el.querySelector(".att-title")?.textContent).toBe(evil);
  });

  it("says when the file passed its retention period, and offers no download", async () => {
    const { el } = await show(BASE, 410);
    expect(el.querySelector('[role="note"]')?.textContent).toContain("已超过保存期限");
    expect(el.querySelector("a.att-download")).toBeNull();
  });

  it("opens a link in a new tab without the opener or referrer; other schemes stay text", async () => {
    const link = { ...BASE, kind: "link" as const, name: "", size: 0, url: "https://doi.org/10.1/x" };
    const { el, heads } = await show(link);
    const a = el.querySelector<HTMLAnchorElement>(".att-link a");
    expect(a?.getAttribute("href")).toBe("https://doi.org/10.1/x");
    expect(a?.getAttribute("target")).toBe("_blank");
    expect(a?.getAttribute("rel")).toBe("noopener noreferrer");
    expect(heads).toEqual([]); // a link has no stored file
    render(null, root);
    await act(async () => {
      render(h(AttachmentCard, { consultationId: 5, seq: 1, a: { ...link, url: "javascript:alert(1)" } }), root);
    });
    expect(root.querySelector(".att-link a")).toBeNull();
    expect(root.querySelector(".att-link")?.textContent).toContain("javascript:alert(1)");
  });

  it("previews a reader's picture inline", async () => {
    const { el } = await show({ ...BASE, direction: "from_reader", content_type: "image/png", name: "shot.png", title: "shot.png" }, 201);
    const img = el.querySelector("img");
    expect(img?.getAttribute("src")).toBe("/api/consultations/5/files/210?inline=1");
    expect(img?.getAttribute("alt")).toBe("读者发送的图片：shot.png");
    expect(el.querySelector(".att-direction")?.textContent).toContain("读者发送的文件");
  });
});
