// @vitest-environment happy-dom
import { describe, expect, it, vi } from "vitest";
import { dayTime, h, hhmm, link, linkify, safeUrl, text, trimUrl } from "./dom";

function filled(body: string): HTMLElement {
  const el = document.createElement("div");
  linkify(el, body);
  return el;
}

describe("linkify", () => {
  it("places text from the network as text, never as markup", () => {
    const body = '<img src=x onerror="alert(1)"><script>alert(2)</script><b>hi</b> &amp;';
    const el = filled(body);
    expect(el.querySelector("img, script, b")).toBeNull();
    expect(el.children).toHaveLength(0);
    expect(el.textContent).toBe(body);
  });

  it("makes http(s) addresses links that open in a new tab without a handle on this page", () => {
    const el = filled("目录：https://lib.example/opac?q=a&b=1 或 http://x.example/p");
    const links = [...el.querySelectorAll("a")];
    expect(links.map((a) => a.getAttribute("href"))).toEqual(["https://lib.example/opac?q=a&b=1", "http://x.example/p"]);
    for (const a of links) {
      expect(a.getAttribute("target")).toBe("_blank");
      expect(a.getAttribute("rel")).toBe("noopener noreferrer");
    }
    expect(el.textContent).toBe("目录：https://lib.example/opac?q=a&b=1 或 http://x.example/p");
  });

  it("leaves trailing sentence punctuation and CJK punctuation out of the link", () => {
    const el = filled("See https://lib.example/a). 请看https://lib.example/b。谢谢");
    expect([...el.querySelectorAll("a")].map((a) => a.textContent)).toEqual(["https://lib.example/a", "https://lib.example/b"]);
    expect(el.textContent).toBe("See https://lib.example/a). 请看https://lib.example/b。谢谢");
  });

  it("stops an address at a quote or an angle bracket, so no attribute can be injected", () => {
    const el = filled('https://lib.example/x"onmouseover="alert(1) <https://lib.example/y>');
    const links = [...el.querySelectorAll("a")];
    expect(links.map((a) => a.getAttribute("href"))).toEqual(["https://lib.example/x", "https://lib.example/y"]);
    expect(links[0].getAttribute("onmouseover")).toBeNull();
  });

  it("never links other schemes", () => {
    const el = filled("javascript:alert(1) data:text/html,x ftp://f.example");
    expect(el.querySelector("a")).toBeNull();
  });

  it("links the scheme in any letter case, to the parsed address", () => {
    const el = filled("见 HTTPS://Lib.Example/Opac?q=A 和 Http://x.example");
    const links = [...el.querySelectorAll("a")];
    expect(links.map((a) => a.getAttribute("href"))).toEqual(["https://lib.example/Opac?q=A", "http://x.example/"]);
    // The reader sees what was written.
    expect(links.map((a) => a.textContent)).toEqual(["HTTPS://Lib.Example/Opac?q=A", "Http://x.example"]);
    expect(el.textContent).toBe("见 HTTPS://Lib.Example/Opac?q=A 和 Http://x.example");
  });

  it("keeps a closing parenthesis the address opened, and drops one it did not", () => {
    const el = filled(
      "See https://en.wikipedia.org/wiki/Foo_(bar) and (https://lib.example/a) or https://en.wikipedia.org/wiki/Foo_(bar)).",
    );
    expect([...el.querySelectorAll("a")].map((a) => a.textContent)).toEqual([
      "https://en.wikipedia.org/wiki/Foo_(bar)",
      "https://lib.example/a",
      "https://en.wikipedia.org/wiki/Foo_(bar)",
    ]);
    expect(el.querySelector("a")?.getAttribute("href")).toBe("https://en.wikipedia.org/wiki/Foo_(bar)");
    expect(el.textContent).toBe(
      "See https://en.wikipedia.org/wiki/Foo_(bar) and (https://lib.example/a) or https://en.wikipedia.org/wiki/Foo_(bar)).",
    );
    expect(trimUrl("https://x.example/a_(b)_(c))];")).toBe("https://x.example/a_(b)_(c)");
    expect(trimUrl("https://x.example/(a")).toBe("https://x.example/(a");
  });

  it("leaves an address that does not parse as text", () => {
    for (const body of ["http://[oops/x", "https://exa mple", "http://:80/x", "https://a.example:99999/"]) {
      const el = filled(body);
      expect(el.textContent).toBe(body);
    }
    expect(filled("http://[oops/x").querySelector("a")).toBeNull();
    expect(filled("http://:80/x").querySelector("a")).toBeNull();
    expect(filled("https://a.example:99999/").querySelector("a")).toBeNull();
    // "https://exa" parses (a host name without dots), the rest is text.
    expect(filled("https://exa mple").querySelector("a")?.textContent).toBe("https://exa");
  });

  it("checks addresses with the URL parser", () => {
    expect(safeUrl("https://lib.example/a")).toBe("https://lib.example/a");
    expect(safeUrl("HTTP://LIB.EXAMPLE")).toBe("http://lib.example/");
    expect(safeUrl("javascript:alert(1)")).toBeNull();
    expect(safeUrl("ftp://f.example/")).toBeNull();
    expect(safeUrl("http://[::1")).toBeNull();
  });
});

describe("link", () => {
  it("gives no href to anything but an http(s) URL", () => {
    const a = link("javascript:alert(1)", "click");
    expect(a.hasAttribute("href")).toBe(false);
    expect(a.textContent).toBe("click");
    expect(link("https://desk.example/tickets/t1").getAttribute("href")).toBe("https://desk.example/tickets/t1");
  });

  it("sets the label as text", () => {
    expect(link("https://x.example", "<b>x</b>").querySelector("b")).toBeNull();
  });
});

describe("h", () => {
  it("sets attributes, skips false, listens to on* functions and appends text as text", () => {
    const click = vi.fn();
    const el = h("button", { type: "button", hidden: true, disabled: false, onclick: click }, "<i>x</i>", h("span", {}, "y"));
    expect(el.getAttribute("type")).toBe("button");
    expect(el.getAttribute("hidden")).toBe("");
    expect(el.hasAttribute("disabled")).toBe(false);
    expect(el.hasAttribute("onclick")).toBe(false);
    expect(el.querySelector("i")).toBeNull();
    expect(el.textContent).toBe("<i>x</i>y");
    el.click();
    expect(click).toHaveBeenCalledTimes(1);
  });
});

describe("text", () => {
  it("assigns only when the words change, so a live region is not told the same thing again", () => {
    const el = document.createElement("div");
    text(el, "排队中");
    const node = el.firstChild;
    text(el, "排队中");
    expect(el.firstChild).toBe(node);
    text(el, "<b>next</b>");
    expect(el.firstChild).not.toBe(node);
    expect(el.querySelector("b")).toBeNull();
    expect(el.textContent).toBe("<b>next</b>");
  });
});

describe("times", () => {
  it("shows local hours and minutes, and nothing for a missing or bad time", () => {
    const d = new Date(2026, 2, 1, 9, 5);
    expect(hhmm(d.toISOString())).toBe("09:05");
    expect(hhmm(d.getTime())).toBe("09:05");
    expect(hhmm(null)).toBe("");
    expect(hhmm(undefined)).toBe("");
    expect(hhmm("not a time")).toBe("");
    expect(dayTime(d.getTime())).toBe("03-01 09:05");
    expect(dayTime(NaN)).toBe("");
  });
});
