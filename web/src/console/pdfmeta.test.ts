import { describe, expect, it } from "vitest";
import { cleanTitle, decodePdfString, parsePdfMeta, readPdfMeta, yearOf } from "./pdfmeta";

// Small PDFs built here, as producers write them: objects, a cross-reference table with the
// real offsets, a trailer naming /Root and /Info.

type Part = string | Uint8Array;

function bytesOf(parts: Part[]): Uint8Array {
  const chunks = parts.map((p) => (typeof p === "string" ? Uint8Array.from(p, (c) => c.charCodeAt(0) & 0xff) : p));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

const utf8 = (s: string) => new TextEncoder().encode(s);

/** UTF-16BE with its byte-order mark, as a hex string. */
function hex16(s: string): string {
  let out = "FEFF";
  for (let i = 0; i < s.length; i++) out += s.charCodeAt(i).toString(16).padStart(4, "0").toUpperCase();
  return `<${out}>`;
}

/** `objects[i]` is object i+1 (each a list of parts); `trailer` is the trailer's extra keys. */
function makePdf(objects: Part[][], trailer: string, opts: { version?: string } = {}): Uint8Array {
  const parts: Part[] = [`%PDF-${opts.version ?? "1.7"}\n%\xe2\xe3\xcf\xd3\n`];
  const offsets: number[] = [];
  let size = bytesOf(parts).length;
  objects.forEach((body, i) => {
    offsets.push(size);
    const obj = bytesOf([`${i + 1} 0 obj\n`, ...body, "\nendobj\n"]);
    parts.push(obj);
    size += obj.length;
  });
  const xref =
    `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n` +
    offsets.map((o) => `${String(o).padStart(10, "0")} 00000 n \n`).join("");
  parts.push(xref, `trailer\n<< /Size ${objects.length + 1} ${trailer} >>\nstartxref\n${size}\n%%EOF\n`);
  return bytesOf(parts);
}

const CATALOG: Part[] = ["<< /Type /Catalog /Pages 2 0 R >>"];
const PAGES: Part[] = ["<< /Type /Pages /Kids [] /Count 0 >>"];

function xmpStream(xml: string): Part[] {
  const body = utf8(xml);
  return [`<< /Type /Metadata /Subtype /XML /Length ${body.length} >>\nstream\n`, body, "\nendstream"];
}

const XMP = `<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
    xmp:CreateDate="2021-03-04T10:00:00+08:00" pdf:Producer="TeX">
   <dc:title><rdf:Alt>
     <rdf:li xml:lang="en">Library Alliances &amp; Document Delivery</rdf:li>
     <rdf:li xml:lang="x-default">图书馆联盟与文献传递 &lt;研究&gt;</rdf:li>
   </rdf:Alt></dc:title>
   <dc:creator><rdf:Seq><rdf:li>王小明</rdf:li><rdf:li>Li &#x6D77;</rdf:li></rdf:Seq></dc:creator>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>`;

describe("parsePdfMeta", () => {
  it("reads a plain information dictionary: literal strings with escapes, the year", () => {
    const pdf = makePdf(
      [
        CATALOG,
        PAGES,
        [
          "<< /Producer (Test) /Title (Union Catalogues \\(1990\\\\2000\\): a \\\nstudy\\056) /Author (J. Smith and A. Jones)" +
            " /CreationDate (D:20190501120000+08'00') >>",
        ],
      ],
      "/Root 1 0 R /Info 3 0 R",
    );
    expect(parsePdfMeta(pdf)).toEqual({
      title: "Union Catalogues (1990\\2000): a study.",
      authors: "J. Smith and A. Jones",
      year: 2019,
    });
  });

  it("reads hex strings in UTF-16BE with a byte-order mark", () => {
    const pdf = makePdf(
      [CATALOG, PAGES, [`<< /Title ${hex16("图书馆联盟研究")} /Author ${hex16("张三; 李四")} /CreationDate <443A32303135> >>`]],
      "/Root 1 0 R /Info 3 0 R /ID [<0123> <4567>]",
    );
    expect(parsePdfMeta(pdf)).toEqual({ title: "图书馆联盟研究", authors: "张三; 李四", year: 2015 });
  });

  it("reads a UTF-16BE literal string whose bytes are escaped, and a title held in another object", () => {
    // "文(" in UTF-16BE is 0x65 0x87 0x00 0x28: the parenthesis byte must be escaped.
    const title = bytesOf(["(\xfe\xff\x65\x87\x00\\(\x00\\)\x4e\x66\\\\)"]);
    const pdf = makePdf([CATALOG, PAGES, ["<< /Title 4 0 R /Author 5 0 R >>"], [title], ["(Ann)"]], "/Root 1 0 R /Info 3 0 R");
    expect(decodePdfString([0xfe, 0xff, 0x65, 0x87, 0x00, 0x28])).toBe("文(");
    expect(parsePdfMeta(pdf)).toEqual({ title: "文()书", authors: "Ann" });
  });

  it("prefers the catalog's XMP packet: dc:title x-default, dc:creator in order, xmp:CreateDate", () => {
    const pdf = makePdf(
      [
        ["<< /Type /Catalog /Pages 2 0 R /Metadata 4 0 R >>"],
        PAGES,
        ["<< /Title (Microsoft Word - draft.docx) /Author (admin) /CreationDate (D:20200101) >>"],
        xmpStream(XMP),
      ],
      "/Root 1 0 R /Info 3 0 R",
    );
    expect(parsePdfMeta(pdf)).toEqual({
      title: "图书馆联盟与文献传递 <研究>",
      authors: "王小明; Li 海",
      year: 2021,
    });
  });

  it("skips an image's XMP packet for the document's, and falls back to the Info title", () => {
    const image = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description xmlns:dc="x">
      <dc:title><rdf:Alt><rdf:li xml:lang="x-default">Figure 3</rdf:li></rdf:Alt></dc:title>
      </rdf:Description></rdf:RDF></x:xmpmeta>`;
    const doc = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description xmlns:pdf="p" pdf:Producer="x">
      <dc:creator><rdf:Seq><rdf:li>Zhou</rdf:li></rdf:Seq></dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>`;
    const pdf = makePdf(
      [CATALOG, PAGES, ["<< /Title (Real title) >>"], xmpStream(doc), xmpStream(image)],
      "/Root 1 0 R /Info 3 0 R",
    );
    expect(parsePdfMeta(pdf)).toEqual({ title: "Real title", authors: "Zhou" });
  });

  it("takes the newest information dictionary after an incremental update", () => {
    const first = makePdf([CATALOG, PAGES, ["<< /Title (Old title) >>"]], "/Root 1 0 R /Info 3 0 R");
    const update = bytesOf([
      first,
      "3 0 obj\n<< /Title (New title) /Author (Editor) >>\nendobj\n",
      "xref\n3 1\n0000000999 00000 n \ntrailer\n<< /Size 4 /Root 1 0 R /Info 3 0 R /Prev 9 >>\nstartxref\n1\n%%EOF\n",
    ]);
    expect(parsePdfMeta(update)).toEqual({ title: "New title", authors: "Editor" });
  });

  it("finds /Info in a cross-reference stream's dictionary", () => {
    const pdf = bytesOf([
      "%PDF-1.5\n",
      "1 0 obj\n<< /Type /Catalog >>\nendobj\n",
      "3 0 obj\n<</Title(XRef stream PDF)/CreationDate(D:2010)>>\nendobj\n",
      "9 0 obj\n<< /Type /XRef /Size 10 /W [1 2 1] /Root 1 0 R /Info 3 0 R /Filter /FlateDecode /Length 3 >>\nstream\nxyz\nendstream\nendobj\n",
      "startxref\n40\n%%EOF\n",
    ]);
    expect(parsePdfMeta(pdf)).toEqual({ title: "XRef stream PDF", year: 2010 });
  });

  it("reads Chinese stored without a byte-order mark (GBK or UTF-8), as some tools write it", () => {
    // 论文 in GBK is C2 DB CE C4.
    const gbk = bytesOf(["(\xc2\xdb\xce\xc4)"]);
    const pdf = makePdf([CATALOG, PAGES, [bytesOf(["<< /Title ", gbk, " >>"])]], "/Root 1 0 R /Info 3 0 R");
    expect(parsePdfMeta(pdf).title).toBe("论文");
    expect(decodePdfString(Array.from(utf8("期刊")))).toBe("期刊");
    // Latin-1 with one accented letter stays PDFDocEncoding, not a Chinese character.
    expect(decodePdfString(Array.from(bytesOf(["Caf\xe9s \x93le"])))).toBe("Cafés ﬁle");
  });

  it("finds nothing rather than something wrong", () => {
    expect(parsePdfMeta(utf8("<html><title>x</title></html>"))).toEqual({});
    expect(parsePdfMeta(makePdf([CATALOG, PAGES], "/Root 1 0 R"))).toEqual({});
    // Encrypted: the strings are ciphertext.
    const enc = makePdf([CATALOG, PAGES, ["<< /Title <8a7f3c> >>"], ["<< /Filter /Standard >>"]], "/Root 1 0 R /Info 3 0 R /Encrypt 4 0 R");
    expect(parsePdfMeta(enc)).toEqual({});
    // Placeholders and file names are no titles; a year outside the plausible is dropped.
    const junk = makePdf([CATALOG, PAGES, ["<< /Title (untitled) /CreationDate (D:0001) >>"]], "/Root 1 0 R /Info 3 0 R");
    expect(parsePdfMeta(junk)).toEqual({});
    // Truncated and broken files do not throw.
    const whole = makePdf([CATALOG, PAGES, ["<< /Title (Cut"]], "/Root 1 0 R /Info 3 0 R");
    expect(() => parsePdfMeta(whole.subarray(0, whole.length - 40))).not.toThrow();
    expect(parsePdfMeta(bytesOf(["%PDF-1.4\n3 0 obj << /Title (((( >> /Info 3 0 R"]))).toEqual({});
    expect(() => parsePdfMeta(bytesOf(["%PDF-1.4\n/Info 3 0 R 3 0 obj [[[[[[[[[[[[[[[[[[[[[[[[[[<<<<<<"]))).not.toThrow();
  });

  it("reads both ends of a big file", async () => {
    const pdf = makePdf([CATALOG, PAGES, ["<< /Title (Big one) >>"]], "/Root 1 0 R /Info 3 0 R");
    const head = pdf.subarray(0, 9);
    const rest = pdf.subarray(9);
    const blob = new Blob([head as BlobPart, new Uint8Array(5 * 1024 * 1024) as BlobPart, rest as BlobPart]);
    expect(await readPdfMeta(blob)).toEqual({ title: "Big one" });
    expect(await readPdfMeta(new Blob([pdf as BlobPart]))).toEqual({ title: "Big one" });
  });
});

describe("cleaning", () => {
  it("tidies titles and drops file names and placeholders", () => {
    expect(cleanTitle("  A\u0000 title\n\twith  breaks ")).toBe("A title with breaks");
    expect(cleanTitle("Microsoft Word - 文献传递的统计方法")).toBe("文献传递的统计方法");
    expect(cleanTitle("Microsoft Word - 论文终稿.docx")).toBeUndefined();
    expect(cleanTitle("无标题")).toBeUndefined();
    expect(cleanTitle("x".repeat(600))).toHaveLength(500);
  });

  it("takes a year from PDF and XMP dates", () => {
    const now = new Date("2026-06-01T00:00:00Z");
    expect(yearOf("D:20190501", now)).toBe(2019);
    expect(yearOf("2024-12-31T23:59:59Z", now)).toBe(2024);
    expect(yearOf("D:2031", now)).toBeUndefined();
    expect(yearOf("yesterday", now)).toBeUndefined();
  });
});
