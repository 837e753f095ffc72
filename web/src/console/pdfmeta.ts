// A PDF's own bibliographic metadata, read in the browser before a consultant sends it: the
// document information dictionary (/Title, /Author, /CreationDate) and the XMP packet
// (dc:title, dc:creator, xmp:CreateDate), so the send dialog can offer the real title instead
// of a file name such as "CNKI_3f2a9.pdf". The consultant confirms or edits what is found.
//
// Pure and small: no PDF library. It reads what is stored as plain PDF syntax, which is where
// producers put these (the trailer names the information dictionary; XMP packets are kept
// uncompressed so that tools can find them by scanning). An information dictionary inside a
// compressed object stream, or an encrypted file's strings, are not read: nothing is found
// rather than something wrong.

export interface PdfMeta {
  title?: string;
  authors?: string;
  year?: number;
}

/** Read whole up to this size; bigger files are read at both ends (the trailer is at the end;
 * most producers write the information dictionary and the XMP packet near one end). */
export const WHOLE_BYTES = 4 * 1024 * 1024;
export const END_BYTES = 1024 * 1024;
/** The desk stores at most this much of a title, authors or source. */
export const MAX_FIELD = 500;

export function isPdf(head: Uint8Array): boolean {
  return latin1(head.subarray(0, 1024)).includes("%PDF-");
}

/** The metadata of a PDF file (a File or Blob), or {} when it has none we can read. */
export async function readPdfMeta(file: Blob): Promise<PdfMeta> {
  let bytes: Uint8Array;
  if (file.size <= WHOLE_BYTES) {
    bytes = new Uint8Array(await file.arrayBuffer());
  } else {
    const head = new Uint8Array(await file.slice(0, END_BYTES).arrayBuffer());
    const tail = new Uint8Array(await file.slice(file.size - END_BYTES).arrayBuffer());
    bytes = new Uint8Array(head.length + 1 + tail.length);
    bytes.set(head, 0);
    bytes[head.length] = 0x0a; // the two ends never run into one token
    bytes.set(tail, head.length + 1);
  }
  return parsePdfMeta(bytes);
}

/** Title, authors and a year from a PDF's bytes (the whole file, or its two ends). */
export function parsePdfMeta(bytes: Uint8Array): PdfMeta {
  if (!isPdf(bytes)) return {};
  const s = latin1(bytes);
  const info = infoDict(s);
  const xmp = xmpPacket(s, bytes);
  const out: PdfMeta = {};
  const title = cleanTitle(xmp.title) ?? cleanTitle(info.title);
  if (title) out.title = title;
  const authors = cleanText(xmp.authors) ?? cleanText(info.author);
  if (authors) out.authors = authors;
  const year = yearOf(xmp.created) ?? yearOf(info.created);
  if (year !== undefined) out.year = year;
  return out;
}

// ---- bytes and strings ------------------------------------------------------------------

/** One character per byte (code = byte), so string positions are byte offsets. */
export function latin1(bytes: Uint8Array): string {
  let s = "";
  const STEP = 0x8000;
  for (let i = 0; i < bytes.length; i += STEP) {
    s += String.fromCharCode.apply(null, Array.from(bytes.subarray(i, i + STEP)));
  }
  return s;
}

/** PDFDocEncoding where it differs from Latin-1 (PDF 32000-1, annex D). */
const PDF_DOC: Record<number, number> = {
  0x18: 0x02d8, 0x19: 0x02c7, 0x1a: 0x02c6, 0x1b: 0x02d9, 0x1c: 0x02dd, 0x1d: 0x02db, 0x1e: 0x02da, 0x1f: 0x02dc,
  0x80: 0x2022, 0x81: 0x2020, 0x82: 0x2021, 0x83: 0x2026, 0x84: 0x2014, 0x85: 0x2013, 0x86: 0x0192, 0x87: 0x2044,
  0x88: 0x2039, 0x89: 0x203a, 0x8a: 0x2212, 0x8b: 0x2030, 0x8c: 0x201e, 0x8d: 0x201c, 0x8e: 0x201d, 0x8f: 0x2018,
  0x90: 0x2019, 0x91: 0x201a, 0x92: 0x2122, 0x93: 0xfb01, 0x94: 0xfb02, 0x95: 0x0141, 0x96: 0x0152, 0x97: 0x0160,
  0x98: 0x0178, 0x99: 0x017d, 0x9a: 0x0131, 0x9b: 0x0142, 0x9c: 0x0153, 0x9d: 0x0161, 0x9e: 0x017e, 0xa0: 0x20ac,
};

const HAN = /[\p{Script=Han}]/u;

function tryDecode(encoding: string, bytes: Uint8Array): string | null {
  try {
    return new TextDecoder(encoding, { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/**
 * A PDF text string's bytes as text: UTF-16BE with its byte-order mark (what the standard
 * asks for anything beyond Latin), UTF-8 with its mark (PDF 2.0), otherwise PDFDocEncoding.
 * Files made by Chinese tools sometimes store UTF-8 or GBK without a mark; such bytes are
 * taken as that when they decode cleanly (GBK only when they give Chinese characters).
 */
export function decodePdfString(raw: ArrayLike<number>): string {
  const b = Uint8Array.from(raw as ArrayLike<number>);
  let text: string | null = null;
  if (b[0] === 0xfe && b[1] === 0xff) {
    text = utf16(b.subarray(2), false);
  } else if (b[0] === 0xff && b[1] === 0xfe) {
    text = utf16(b.subarray(2), true); // not the standard, but written by some tools
  } else if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) {
    text = new TextDecoder("utf-8").decode(b.subarray(3));
  } else {
    const high = b.reduce((n, x) => n + (x >= 0x80 ? 1 : 0), 0);
    if (high > 0) {
      const u8 = tryDecode("utf-8", b);
      if (u8 !== null) text = u8;
      else if (gb2312Pairs(b)) {
        const gbk = tryDecode("gb18030", b);
        if (gbk !== null && HAN.test(gbk)) text = gbk;
      }
    }
    if (text === null) text = String.fromCharCode(...Array.from(b, (x) => PDF_DOC[x] ?? x));
  }
  // A language tag inside a Unicode string sits between two ESC characters.
  return text.replace(/\u001b[^\u001b]*\u001b/g, "");
}

/** Every byte above ASCII is in a GB2312 pair (both bytes 0xA1–0xFE): Chinese text in GBK,
 * not Latin-1 with an accent (whose single high bytes GBK would also take). */
function gb2312Pairs(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) {
    if (b[i] < 0x80) continue;
    if (b[i] < 0xa1 || b[i] > 0xf7 || !(b[i + 1] >= 0xa1 && b[i + 1] <= 0xfe)) return false;
    i++;
  }
  return true;
}

function utf16(b: Uint8Array, little: boolean): string {
  const units: number[] = [];
  for (let i = 0; i + 1 < b.length; i += 2) units.push(little ? b[i] | (b[i + 1] << 8) : (b[i] << 8) | b[i + 1]);
  let s = "";
  for (let i = 0; i < units.length; i += 0x4000) s += String.fromCharCode(...units.slice(i, i + 0x4000));
  return s;
}

// ---- PDF objects ------------------------------------------------------------------------

export type PdfValue =
  | { t: "str"; bytes: number[] }
  | { t: "name"; v: string }
  | { t: "num"; v: number }
  | { t: "ref"; n: number; g: number }
  | { t: "dict"; v: Map<string, PdfValue> }
  | { t: "arr"; v: PdfValue[] }
  | { t: "word"; v: string };

const WS = new Set([0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20]);
const DELIM = new Set("()<>[]{}/%".split("").map((c) => c.charCodeAt(0)));
const MAX_DEPTH = 16;
/** A dictionary or array longer than this is not what we are looking for. */
const MAX_ITEMS = 4096;
/** Bytes kept of one string (a title is far shorter; a broken file may leave one unclosed). */
const MAX_STRING = 16 * 1024;

/** Reads one PDF object at a time from `s` (one character per byte). */
export class PdfReader {
  pos: number;
  constructor(
    readonly s: string,
    pos = 0,
  ) {
    this.pos = pos;
  }

  private code(i = this.pos): number {
    return i < this.s.length ? this.s.charCodeAt(i) : -1;
  }

  skip(): void {
    for (;;) {
      const c = this.code();
      if (c === -1) return;
      if (WS.has(c)) this.pos++;
      else if (c === 0x25) {
        // a comment, to the end of the line
        while (this.pos < this.s.length && this.code() !== 0x0a && this.code() !== 0x0d) this.pos++;
      } else return;
    }
  }

  value(depth = 0): PdfValue | null {
    this.skip();
    const s = this.s;
    const c = this.code();
    if (c === -1 || depth > MAX_DEPTH) return null;
    if (s.startsWith("<<", this.pos)) return this.dict(depth);
    if (c === 0x3c) return this.hex();
    if (c === 0x28) return this.literal();
    if (c === 0x5b) return this.array(depth);
    if (c === 0x2f) return { t: "name", v: this.name() };
    const num = /^[+-]?(?:\d+\.?\d*|\.\d+)/.exec(s.slice(this.pos, this.pos + 32));
    if (num) {
      this.pos += num[0].length;
      const ref = /^\s+(\d+)\s+R(?![^\s()<>[\]{}/%])/.exec(s.slice(this.pos, this.pos + 24));
      if (ref && /^\d+$/.test(num[0])) {
        this.pos += ref[0].length;
        return { t: "ref", n: Number(num[0]), g: Number(ref[1]) };
      }
      return { t: "num", v: Number(num[0]) };
    }
    let end = this.pos;
    while (end < s.length && !WS.has(s.charCodeAt(end)) && !DELIM.has(s.charCodeAt(end))) end++;
    if (end === this.pos) end++; // a stray delimiter: step over it
    const word = s.slice(this.pos, end);
    this.pos = end;
    return { t: "word", v: word };
  }

  private dict(depth: number): PdfValue {
    this.pos += 2;
    const v = new Map<string, PdfValue>();
    for (let i = 0; i < MAX_ITEMS; i++) {
      this.skip();
      if (this.pos >= this.s.length) break;
      if (this.s.startsWith(">>", this.pos)) {
        this.pos += 2;
        break;
      }
      if (this.code() !== 0x2f) {
        // Not a key: skip a value and go on.
        const before = this.pos;
        this.value(depth + 1);
        if (this.pos === before) this.pos++;
        continue;
      }
      const key = this.name();
      const val = this.value(depth + 1);
      if (val === null) break;
      v.set(key, val);
    }
    return { t: "dict", v };
  }

  private array(depth: number): PdfValue {
    this.pos++;
    const v: PdfValue[] = [];
    for (let i = 0; i < MAX_ITEMS; i++) {
      this.skip();
      if (this.pos >= this.s.length) break;
      if (this.code() === 0x5d) {
        this.pos++;
        break;
      }
      const before = this.pos;
      const item = this.value(depth + 1);
      if (item === null) break;
      if (this.pos === before) this.pos++;
      v.push(item);
    }
    return { t: "arr", v };
  }

  private name(): string {
    this.pos++; // the slash
    let out = "";
    while (this.pos < this.s.length) {
      const c = this.code();
      if (WS.has(c) || DELIM.has(c)) break;
      if (c === 0x23 && /^[0-9A-Fa-f]{2}$/.test(this.s.slice(this.pos + 1, this.pos + 3))) {
        out += String.fromCharCode(Number.parseInt(this.s.slice(this.pos + 1, this.pos + 3), 16));
        this.pos += 3;
      } else {
        out += this.s[this.pos];
        this.pos++;
      }
    }
    return out;
  }

  private hex(): PdfValue {
    const end = this.s.indexOf(">", this.pos + 1);
    const body = this.s.slice(this.pos + 1, end === -1 ? this.s.length : end).replace(/[^0-9A-Fa-f]/g, "");
    this.pos = end === -1 ? this.s.length : end + 1;
    const digits = body.length % 2 ? body + "0" : body;
    const bytes: number[] = [];
    for (let i = 0; i < Math.min(digits.length, 2 * MAX_STRING); i += 2) bytes.push(Number.parseInt(digits.slice(i, i + 2), 16));
    return { t: "str", bytes };
  }

  private literal(): PdfValue {
    const s = this.s;
    const bytes: number[] = [];
    let depth = 1;
    let closed = false;
    let i = this.pos + 1;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c === 0x5c) {
        const n = s.charCodeAt(i + 1);
        const esc: Record<number, number> = { 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09, 0x62: 0x08, 0x66: 0x0c };
        if (n in esc) {
          bytes.push(esc[n]);
          i += 2;
        } else if (n >= 0x30 && n <= 0x37) {
          const oct = /^[0-7]{1,3}/.exec(s.slice(i + 1, i + 4))?.[0] ?? "0";
          bytes.push(Number.parseInt(oct, 8) & 0xff);
          i += 1 + oct.length;
        } else if (n === 0x0d || n === 0x0a) {
          // A backslash at the end of a line continues the string on the next one.
          i += n === 0x0d && s.charCodeAt(i + 2) === 0x0a ? 3 : 2;
        } else if (Number.isNaN(n)) {
          i++;
        } else {
          bytes.push(n); // \( \) \\ and any other character as itself
          i += 2;
        }
        continue;
      }
      if (c === 0x28) depth++;
      if (c === 0x29 && --depth === 0) {
        i++;
        closed = true;
        break;
      }
      if (c === 0x0d) {
        // An end of line inside a string is a line feed, whatever it was written as.
        bytes.push(0x0a);
        i += s.charCodeAt(i + 1) === 0x0a ? 2 : 1;
        continue;
      }
      if (bytes.length < MAX_STRING) bytes.push(c);
      i++;
    }
    this.pos = i;
    // A string never closed is a broken file, not a title.
    if (!closed) return { t: "word", v: "" };
    bytes.length = Math.min(bytes.length, MAX_STRING);
    return { t: "str", bytes };
  }
}

/** The object `n g obj` (the newest definition: later ones are incremental updates). */
export function findObject(s: string, n: number, g: number): PdfValue | null {
  const at = objectAt(s, n, g);
  return at === -1 ? null : new PdfReader(s, at).value();
}

function resolve(s: string, v: PdfValue | undefined, hops = 0): PdfValue | undefined {
  if (v?.t === "ref" && hops < 4) return resolve(s, findObject(s, v.n, v.g) ?? undefined, hops + 1);
  return v;
}

function text(s: string, v: PdfValue | undefined): string | undefined {
  const r = resolve(s, v);
  return r?.t === "str" ? decodePdfString(r.bytes) : undefined;
}

/** The information dictionary the newest trailer (or cross-reference stream) names. */
function infoDict(s: string): { title?: string; author?: string; created?: string } {
  // An encrypted file's strings are ciphertext.
  if (/\/Encrypt\s*(?:\d+\s+\d+\s+R|<<)/.test(s)) return {};
  let dict: PdfValue | null = null;
  const refs = [...s.matchAll(/\/Info\s*(\d+)\s+(\d+)\s+R/g)];
  const last = refs[refs.length - 1];
  if (last) dict = findObject(s, Number(last[1]), Number(last[2]));
  if (dict?.t !== "dict") {
    const inline = s.lastIndexOf("/Info");
    if (inline !== -1 && /^\/Info\s*<</.test(s.slice(inline, inline + 16))) {
      const r = new PdfReader(s, inline + 5);
      dict = r.value();
    }
  }
  if (dict?.t !== "dict") return {};
  return {
    title: text(s, dict.v.get("Title")),
    author: text(s, dict.v.get("Author")),
    created: text(s, dict.v.get("CreationDate")),
  };
}

// ---- XMP --------------------------------------------------------------------------------

function xmlText(raw: string): string {
  return raw
    .replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, (_, x: string) => x.replace(/&/g, "&amp;").replace(/</g, "&lt;"))
    .replace(/<[^>]*>/g, "")
    .replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, e: string) => {
      if (e[0] === "#") {
        const cp = e[1] === "x" || e[1] === "X" ? Number.parseInt(e.slice(2), 16) : Number.parseInt(e.slice(1), 10);
        return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : "";
      }
      return { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" }[e] ?? "";
    });
}

/** The `rdf:li` items of an element (`dc:title`'s alternatives, `dc:creator`'s list). */
function items(xml: string, element: string): { lang: string; text: string }[] {
  const m = new RegExp(`<${element}(?:\\s[^>]*)?>([\\s\\S]*?)</${element}>`).exec(xml);
  if (!m) {
    const attr = new RegExp(`\\s${element}\\s*=\\s*"([^"]*)"`).exec(xml);
    return attr ? [{ lang: "", text: xmlText(attr[1]) }] : [];
  }
  const out: { lang: string; text: string }[] = [];
  const li = /<rdf:li(\s[^>]*)?>([\s\S]*?)<\/rdf:li>/g;
  for (let x = li.exec(m[1]); x !== null; x = li.exec(m[1])) {
    const lang = /xml:lang\s*=\s*"([^"]*)"/.exec(x[1] ?? "")?.[1] ?? "";
    out.push({ lang, text: xmlText(x[2]) });
  }
  if (out.length === 0) out.push({ lang: "", text: xmlText(m[1]) });
  return out;
}

/** Where the body of object `n g` starts (after `obj`), the newest definition; or -1. */
export function objectAt(s: string, n: number, g: number): number {
  const re = new RegExp(`(?:^|[^0-9])${n}\\s+${g}\\s+obj(?![^\\s()<>\\[\\]{}/%])`, "g");
  let last = -1;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) last = m.index + m[0].length;
  return last;
}

const PACKET_START = "<x:xmpmeta";
const PACKET_END = "</x:xmpmeta>";

/** The document's XMP packet: the stream the catalog's /Metadata names when it can be found
 * (a compressed one is not read), else the last packet that describes a PDF (images carry
 * packets of their own). As [start, end) positions, or null. */
function packetSpan(s: string): [number, number] | null {
  const roots = [...s.matchAll(/\/Root\s*(\d+)\s+(\d+)\s+R/g)];
  const root = roots[roots.length - 1];
  const catalog = root ? findObject(s, Number(root[1]), Number(root[2])) : null;
  const meta = catalog?.t === "dict" ? catalog.v.get("Metadata") : undefined;
  if (meta?.t === "ref") {
    const at = objectAt(s, meta.n, meta.g);
    if (at !== -1) {
      const stop = s.indexOf("endstream", at);
      const start = s.indexOf(PACKET_START, at);
      if (start === -1 || (stop !== -1 && start > stop)) return null;
      const end = s.indexOf(PACKET_END, start);
      return end === -1 ? null : [start, end + PACKET_END.length];
    }
  }
  let best: [number, number] | null = null;
  let bestDescribesPdf = false;
  for (let start = s.indexOf(PACKET_START); start !== -1; start = s.indexOf(PACKET_START, start + 1)) {
    const end = s.indexOf(PACKET_END, start);
    if (end === -1) break;
    const body = s.slice(start, end);
    const pdfish = /xmlns:pdf=|pdf:Producer|xmp:CreatorTool|xap:CreatorTool/.test(body);
    if (pdfish || !bestDescribesPdf) {
      best = [start, end + PACKET_END.length];
      bestDescribesPdf = bestDescribesPdf || pdfish;
    }
  }
  return best;
}

/** dc:title (x-default first), dc:creator (in order) and xmp:CreateDate of the packet. */
function xmpPacket(s: string, bytes: Uint8Array): { title?: string; authors?: string; created?: string } {
  const span = packetSpan(s);
  if (!span) return {};
  const xml = new TextDecoder("utf-8").decode(bytes.subarray(span[0], span[1]));
  const titles = items(xml, "dc:title");
  const title = (titles.find((x) => x.lang === "x-default") ?? titles[0])?.text;
  const creators = items(xml, "dc:creator")
    .map((x) => x.text.trim())
    .filter(Boolean);
  const created =
    /<(?:xmp|xap):CreateDate>([^<]*)<\/(?:xmp|xap):CreateDate>/.exec(xml)?.[1] ??
    /\s(?:xmp|xap):CreateDate\s*=\s*"([^"]*)"/.exec(xml)?.[1];
  return { title, authors: creators.length ? creators.join("; ") : undefined, created };
}

// ---- cleaning ---------------------------------------------------------------------------

/** Text as a form field shows it: no control characters, single spaces, at most 500 chars. */
export function cleanText(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const t = raw
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return t ? [...t].slice(0, MAX_FIELD).join("") : undefined;
}

/** A title worth offering: not empty, not a placeholder, not the name of the source file
 * ("Microsoft Word - 论文.docx"). */
export function cleanTitle(raw: string | undefined): string | undefined {
  let t = cleanText(raw);
  if (!t) return undefined;
  t = t.replace(/^Microsoft (?:Word|PowerPoint|Excel) - /i, "").trim();
  if (/^(?:untitled|无标题|未命名|title|document\d*|文档\d*)$/i.test(t)) return undefined;
  if (/\.(?:docx?|pdf|tex|dvi|ps|rtf|wps|txt|indd|qxd|pptx?|xlsx?|caj)$/i.test(t)) return undefined;
  return t || undefined;
}

/** The year of a PDF date (`D:20190501...`) or an XMP date (`2019-05-01T...`). */
export function yearOf(raw: string | undefined, now = new Date()): number | undefined {
  const m = /^\s*(?:D:)?(\d{4})/.exec(raw ?? "");
  if (!m) return undefined;
  const y = Number(m[1]);
  return y >= 1900 && y <= now.getFullYear() + 1 ? y : undefined;
}
