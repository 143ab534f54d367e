// The pages (agent desktop, wallboard, reports, admin, login, API docs, the chat demo page), built into the Python
// package's webui/dist, which the Centralita process serves (hashed assets cached for a year).
import { resolve } from "node:path";
import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

const pages = ["index", "agent", "wallboard", "reports", "admin", "chat-demo", "docs"];

export default defineConfig({
  plugins: [preact()],
  build: {
    outDir: resolve(import.meta.dirname, "../src/centralita/webui/dist"),
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
      input: Object.fromEntries(pages.map((p) => [p, resolve(import.meta.dirname, `${p}.html`)])),
      checks: { pluginTimings: false },
    },
  },
});
