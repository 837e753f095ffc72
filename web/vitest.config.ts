// Front-end unit tests (`npm test`): *.test.ts next to the code they test. Node by default; a
// test file that needs window, DOM or localStorage says `// @vitest-environment happy-dom`.
// The production builds never see these files: they start from the entry points only.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
    restoreMocks: true,
    unstubGlobals: true,
  },
});
