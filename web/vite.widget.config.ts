// The web chat widget: one script a company's site embeds (`<script src=".../widget.js" data-site-key=...>`),
// built as a single file beside the pages; its name is stable, so it is served with a short cache.
import { resolve } from "node:path";
import { defineConfig } from "vite";

export default defineConfig({
  build: {
    outDir: resolve(import.meta.dirname, "../src/centralita/webui/dist"),
    emptyOutDir: false,
    sourcemap: false,
    lib: {
      entry: resolve(import.meta.dirname, "src/widget/main.ts"),
      name: "CentralitaChat",
      formats: ["iife"],
      fileName: () => "widget.js",
    },
  },
});
