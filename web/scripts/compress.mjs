// Run after `vite build` (`npm run build`): writes NAME.gz and NAME.br next to every text file
// of the built front ends, so the desk sends them compressed without compressing on every
// request (desk/assets.py picks the variant the browser accepts). A variant is only written
// when it is smaller than the file itself; an older one is removed first, so a file is never
// served with a compressed copy of something else.
//
//   node scripts/compress.mjs [DIR ...]     (default: dist/widget dist/console)
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { extname, join, relative } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const TEXT = new Set([".js", ".mjs", ".css", ".html", ".map", ".json", ".svg", ".txt"]);

async function* files(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile() && TEXT.has(extname(entry.name))) yield path;
  }
}

function variants(data) {
  return {
    gz: gzipSync(data, { level: 9, memLevel: 9 }),
    br: brotliCompressSync(data, {
      params: {
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
      },
    }),
  };
}

const dirs = process.argv.slice(2);
for (const dir of dirs.length ? dirs : ["dist/widget", "dist/console"]) {
  for await (const path of files(dir)) {
    const data = await readFile(path);
    const line = [`${relative(".", path)} ${data.length}`];
    for (const [ext, packed] of Object.entries(variants(data))) {
      await rm(`${path}.${ext}`, { force: true });
      if (packed.length >= data.length) continue;
      await writeFile(`${path}.${ext}`, packed);
      line.push(`${ext} ${packed.length}`);
    }
    console.log(`compressed ${line.join(", ")}`);
  }
}
