// The reader widget: one self-contained script a member library embeds with a single tag.
// Built as an IIFE so it never leaks globals or needs a module loader on the host page; its
// CSS is imported as a string and placed inside the widget's shadow root.
import { defineConfig } from "vite";

export default defineConfig({
  build: {
    outDir: "dist/widget",
    emptyOutDir: true,
    target: "es2020",
    sourcemap: true,
    lib: {
      entry: "src/widget/main.ts",
      name: "DeskWidget",
      formats: ["iife"],
      fileName: () => "widget.js",
    },
  },
});
