// @vitest-environment happy-dom
import { h, render } from "preact";
import { describe, expect, it } from "vitest";
import { Linkified, linkParts, safeUrl } from "./linkify";

/** The parts with links written as [text](href), to compare at a glance. */
function show(text: string): string {
  return linkParts(text)
    .map((p) => (typeof p === "string" ? p : `[${p.text}](${p.href})`))
    .join("");
}

function joined(text: string): string {
  return linkParts(text)
    .map((p) => (typeof p === "string" ? p : p.text))
    .join("");
}

describe("linkParts", () => {
  it("leaves text without addresses as one plain part", () => {
    expect(linkParts("您好，请问有什么可以帮您？")).toEqual(["您好，请问有什么可以帮您？"]);
    expect(linkParts("")).toEqual([]);
  });

  it("turns http and https addresses into links", () => {
    expect(show("see https://lib.example/a?b=1#c and http://x.example")).toBe(
      "see [https://lib.example/a?b=1#c](https://lib.example/a?b=1#c) and [http://x.example](http://x.example/)",
    );
  });

  it("leaves sentence punctuation after an address out of the link", () => {
    expect(show("Try https://lib.example/page.")).toBe("Try [https://lib.example/page](https://lib.example/page).");
    expect(show("(https://lib.example/x), ok")).toBe("([https://lib.example/x](https://lib.example/x)), ok");
  });

  it("ends an address at CJK and full-width punctuation", () => {
    expect(show("网址：https://lib.example/opac，请查看。")).toBe(
      "网址：[https://lib.example/opac](https://lib.example/opac)，请查看。",
    );
    expect(show("「https://lib.example/a」")).toBe("「[https://lib.example/a](https://lib.example/a)」");
  });

  it("never links other schemes or broken addresses", () => {
    for (const text of ["javascript:alert(1)", "ftp://files.example/x", "data:text/html,<b>x</b>", "http://", "https://:80"]) {
      expect(linkParts(text).every((p) => typeof p === "string")).toBe(true);
      expect(joined(text)).toBe(text);
    }
  });

  it("keeps markup in the text as text", () => {
    const text = 'x <img src=x onerror="alert(1)"> https://lib.example/<script>';
    expect(show(text)).toBe('x <img src=x onerror="alert(1)"> [https://lib.example/](https://lib.example/)<script>');
  });

  it("gives back the text when the parts are joined", () => {
    for (const text of ["a https://a.example/x. b http://b.example c", "https://a.example", "末尾 https://a.example/)"]) {
      expect(joined(text)).toBe(text);
    }
  });

  it("is the same on every call (the global pattern's position is reset)", () => {
    const text = "https://a.example/1 https://a.example/2";
    expect(linkParts(text)).toEqual(linkParts(text));
    expect(linkParts(text).filter((p) => typeof p !== "string")).toHaveLength(2);
  });
});

describe("safeUrl", () => {
  it("accepts only http(s) and returns the normalised address", () => {
    expect(safeUrl("HTTPS://Lib.Example")).toBe("https://lib.example/");
    expect(safeUrl("mailto:a@b.example")).toBeNull();
    expect(safeUrl("not a url")).toBeNull();
  });
});

describe("Linkified", () => {
  it("renders text nodes and safe links, never markup from the text", () => {
    const root = document.createElement("div");
    render(h(Linkified, { text: "<b>bold</b> at https://lib.example/a, and <i>more</i>" }), root);
    expect(root.querySelector("b")).toBeNull();
    expect(root.querySelector("i")).toBeNull();
    const links = root.querySelectorAll("a");
    expect(links).toHaveLength(1);
    expect(links[0].getAttribute("href")).toBe("https://lib.example/a");
    expect(links[0].getAttribute("target")).toBe("_blank");
    expect(links[0].getAttribute("rel")).toBe("noopener noreferrer");
    expect(links[0].textContent).toBe("https://lib.example/a");
    expect(root.textContent).toBe("<b>bold</b> at https://lib.example/a, and <i>more</i>");
  });
});
