// Build the static site into dist/: bundle and minify with esbuild, give every
// asset a content-hashed name (so it can be cached forever) and write an
// index.html that points at them (served with no-cache).
import { build } from "esbuild";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { renderIndex } from "./lib/render.mjs";

const out = "dist";
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });

const result = await build({
  entryPoints: ["src/main.js", "src/style.css"],
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2020",
  outdir: path.join(out, "assets"),
  entryNames: "[name]-[hash]",
  metafile: true,
  define: { API_BASE: JSON.stringify(process.env.API_BASE || "") },
  logLevel: "warning",
});

// Map "main.js" / "style.css" to their hashed output paths.
const assets = {};
for (const [file, meta] of Object.entries(result.metafile.outputs)) {
  if (!meta.entryPoint) continue;
  const ext = path.extname(file);
  assets[path.basename(meta.entryPoint, path.extname(meta.entryPoint)) + ext] = "/" + path.relative(out, file);
}

const template = await readFile("src/index.html", "utf8");
await writeFile(path.join(out, "index.html"), renderIndex(template, assets));
console.log(`built ${Object.keys(assets).length} assets into ${out}/`);
