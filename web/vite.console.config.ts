// The consultant console: a Preact single-page app the desk serves under /console/.
import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

export default defineConfig({
  root: "console",
  base: "/console/",
  plugins: [preact()],
  build: {
    outDir: "../dist/console",
    emptyOutDir: true,
    target: "es2020",
    sourcemap: true,
  },
});
