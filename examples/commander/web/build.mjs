// Writes the static export to out/: index.html with the API URL of the
// build environment (NEXT_PUBLIC_API_URL), plus a 404 page for the SPA fallback.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";

export function render(template, apiURL) {
  return template.replaceAll("__API_URL__", apiURL);
}

if (process.argv[1] && process.argv[1].endsWith("build.mjs")) {
  const api = process.env.NEXT_PUBLIC_API_URL || "/api";
  mkdirSync("out", { recursive: true });
  const page = render(readFileSync("src/index.html", "utf8"), api);
  writeFileSync("out/index.html", page);
  writeFileSync("out/404.html", page);
  console.log("wrote out/index.html and out/404.html");
}
