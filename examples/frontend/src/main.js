import { apiURL, describeHealth } from "./status.js";

// API_BASE is replaced at build time (esbuild --define); empty = same origin.
const base = typeof API_BASE === "string" ? API_BASE : "";

async function refresh() {
  const el = document.getElementById("health");
  try {
    const res = await fetch(apiURL(base, "/health"));
    el.textContent = describeHealth(await res.json());
  } catch {
    el.textContent = describeHealth(null);
  }
}

refresh();
