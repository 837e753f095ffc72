import { describe, expect, it } from "vitest";
import {
  checkMessage,
  type EtiquetteLists,
  type Flag,
  hostReason,
  ipv4Reason,
  ipv6Reason,
  makeChecker,
  parseIPv6,
} from "./etiquette";

/** As GET /api/etiquette answers (a few of the alliance's defaults, and a library's lists). */
const LISTS: EtiquetteLists = {
  defaults: {
    terms: [
      { term: "OPAC", hint: "馆藏目录查询（书目检索系统）" },
      { term: "ILL", hint: "馆际互借" },
      { term: "DD", hint: "文献传递" },
      { term: "索书号", hint: "书在书架上的位置编号（索书号）" },
      { term: "IP控制", hint: "只能在图书馆或校园网内使用" },
      { term: "pls", hint: "please" },
    ],
  },
  library: {
    terms: [
      { term: "读秀", hint: "读秀学术搜索（一个图书检索网站）" },
      { term: "opac", hint: "" }, // the same term, without a hint: the alliance's hint stays
      { term: "IP", hint: "网络地址" },
    ],
    hosts: [
      { host: "lib.example.edu.cn", reason: "campus" },
      { host: ".cnki.example.com", reason: "paid" },
      { host: "Wiki.Example.ORG", reason: "intranet" },
    ],
  },
};

const checker = makeChecker(LISTS);

function terms(text: string): string[] {
  return checkMessage(text, checker)
    .filter((f): f is Extract<Flag, { kind: "term" }> => f.kind === "term")
    .map((f) => f.found);
}

function links(text: string): Array<[string, string]> {
  return checkMessage(text, checker)
    .filter((f): f is Extract<Flag, { kind: "link" }> => f.kind === "link")
    .map((f) => [f.host, f.reason]);
}

describe("terms", () => {
  it("finds Latin terms as whole words, in any case, also between Chinese characters", () => {
    expect(terms("请在OPAC里查")).toEqual(["OPAC"]);
    expect(terms("try the opac first")).toEqual(["opac"]);
    expect(terms("Pls wait")).toEqual(["Pls"]);
    expect(terms("ILL/DD 服务")).toEqual(["ILL", "DD"]);
    // Not inside longer words.
    expect(terms("OPACS and DDC numbers, a skillful thing, replsy")).toEqual([]);
    expect(terms("DD2 or 3DD")).toEqual([]);
  });

  it("finds CJK terms anywhere, and a longer term once (not also the shorter inside it)", () => {
    expect(terms("请记下索书号")).toEqual(["索书号"]);
    expect(terms("这个库是IP控制的")).toEqual(["IP控制"]);
    expect(terms("查IP地址")).toEqual(["IP"]);
    expect(terms("查读秀，然后查读秀")).toEqual(["读秀"]);
  });

  it("merges the library's terms with the alliance's, one flag per term with its hint", () => {
    const flags = checkMessage("OPAC 和 读秀", checker);
    expect(flags.map((f) => (f.kind === "term" ? [f.term, f.hint] : null))).toEqual([
      ["OPAC", "馆藏目录查询（书目检索系统）"],
      ["读秀", "读秀学术搜索（一个图书检索网站）"],
    ]);
    expect(flags.map((f) => f.key)).toEqual(["term:opac", "term:读秀"]);
  });

  it("does not flag terms inside a link (the link itself is checked)", () => {
    expect(terms("见 https://opac.example.org/ILL?DD=1")).toEqual([]);
  });

  it("takes terms with regular-expression characters literally", () => {
    const c = makeChecker({ library: { terms: [{ term: "C++", hint: "一种编程语言" }, { term: "a.b", hint: "" }] } });
    expect(checkMessage("学 C++ 吗", c).map((f) => f.kind === "term" && f.found)).toEqual(["C++"]);
    expect(checkMessage("axb", c)).toEqual([]);
  });

  it("works with no lists at all (an older desk): links are still checked", () => {
    const bare = makeChecker();
    expect(checkMessage("OPAC", bare)).toEqual([]);
    expect(checkMessage("http://10.0.0.1/", bare).map((f) => f.kind)).toEqual(["link"]);
  });
});

describe("addresses", () => {
  it("knows the private, loopback, link-local and shared IPv4 ranges", () => {
    expect(ipv4Reason("10.2.3.4")).toBe("private");
    expect(ipv4Reason("172.16.0.1")).toBe("private");
    expect(ipv4Reason("172.31.255.255")).toBe("private");
    expect(ipv4Reason("172.32.0.1")).toBeNull();
    expect(ipv4Reason("172.15.0.1")).toBeNull();
    expect(ipv4Reason("192.168.1.1")).toBe("private");
    expect(ipv4Reason("192.169.1.1")).toBeNull();
    expect(ipv4Reason("127.0.0.1")).toBe("loopback");
    expect(ipv4Reason("169.254.10.1")).toBe("link_local");
    expect(ipv4Reason("100.64.0.1")).toBe("shared");
    expect(ipv4Reason("100.127.255.1")).toBe("shared");
    expect(ipv4Reason("100.128.0.1")).toBeNull();
    expect(ipv4Reason("8.8.8.8")).toBeNull();
    expect(ipv4Reason("300.1.1.1")).toBeNull();
  });

  it("knows IPv6 loopback, unique-local, link-local and IPv4-mapped private addresses", () => {
    expect(parseIPv6("::1")).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(parseIPv6("[fe80::1:2]")).toEqual([0xfe80, 0, 0, 0, 0, 0, 1, 2]);
    expect(parseIPv6("::ffff:10.0.0.1")).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0a00, 1]);
    expect(parseIPv6("1:2:3:4:5:6:7:8:9")).toBeNull();
    expect(parseIPv6("1::2::3")).toBeNull();
    expect(parseIPv6("example.org")).toBeNull();
    expect(ipv6Reason("[::1]")).toBe("loopback");
    expect(ipv6Reason("fc00::1")).toBe("private");
    expect(ipv6Reason("fd12:3456::1")).toBe("private");
    expect(ipv6Reason("fe80::1")).toBe("link_local");
    expect(ipv6Reason("febf::1")).toBe("link_local");
    expect(ipv6Reason("fec0::1")).toBeNull();
    expect(ipv6Reason("[::ffff:a00:1]")).toBe("private");
    expect(ipv6Reason("2001:db8::1")).toBeNull();
  });

  it("flags single-label hosts, intranet suffixes and the library's hosts with their reason", () => {
    expect(hostReason("opac")).toEqual({ reason: "single_label" });
    expect(hostReason("opac.")).toEqual({ reason: "single_label" });
    expect(hostReason("localhost")).toEqual({ reason: "loopback" });
    expect(hostReason("printer.local")).toEqual({ reason: "local_suffix", matched: ".local" });
    for (const s of ["lan", "internal", "intranet", "corp", "home"]) {
      expect(hostReason(`x.${s}`)?.reason).toBe("local_suffix");
    }
    expect(hostReason("homepage.example.org")).toBeNull();
    expect(hostReason("www.example.org")).toBeNull();
    const hosts = checker.hosts;
    expect(hostReason("lib.example.edu.cn", hosts)).toEqual({ reason: "campus", matched: "lib.example.edu.cn" });
    // An exact name does not cover its subdomains; a ".suffix" covers the domain and below.
    expect(hostReason("www.lib.example.edu.cn", hosts)).toBeNull();
    expect(hostReason("kns.cnki.example.com", hosts)).toEqual({ reason: "paid", matched: ".cnki.example.com" });
    expect(hostReason("cnki.example.com", hosts)?.reason).toBe("paid");
    expect(hostReason("notcnki.example.com", hosts)).toBeNull();
    expect(hostReason("WIKI.example.org", hosts)?.reason).toBe("intranet");
  });

  it("checks the host of every http(s) link as the browser reads it", () => {
    expect(
      links(
        "见 http://10.1.2.3/a 、https://lib.example.edu.cn/db 和 http://opac/search，" +
          "还有 http://[::1]:8080/ 与 https://www.nlc.cn/ 。",
      ),
    ).toEqual([
      ["10.1.2.3", "private"],
      ["lib.example.edu.cn", "campus"],
      ["opac", "single_label"],
      ["[::1]", "loopback"],
    ]);
    // Other spellings of an address are read the way the browser would open them.
    expect(links("http://0x7f.0.0.1/ http://10.1/ http://user@192.168.0.9/")).toEqual([
      ["127.0.0.1", "loopback"],
      ["10.0.0.1", "private"],
      ["192.168.0.9", "private"],
    ]);
    // The same link twice is one flag; other schemes are not links.
    expect(links("http://opac/ http://opac/ ftp://10.0.0.1/")).toEqual([["opac", "single_label"]]);
  });

  it("gives flags in text order with stable keys", () => {
    const flags = checkMessage("用 OPAC 查 http://10.0.0.1/x", checker);
    expect(flags.map((f) => f.key)).toEqual(["term:opac", "link:http://10.0.0.1/x"]);
    expect(checkMessage("没有问题的回复。https://www.nlc.cn/", checker)).toEqual([]);
  });
});
