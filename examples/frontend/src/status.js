// Pure helpers, unit-tested with node --test.

/** Turn the backend's /health answer into the text the page shows. */
export function describeHealth(body) {
  if (body && body.status === "healthy") return "Backend healthy";
  if (body && typeof body.status === "string") return `Backend ${body.status}`;
  return "Backend unreachable";
}

/** Join the API base URL (configured at build time) and a path. */
export function apiURL(base, path) {
  const b = (base || "").replace(/\/+$/, "");
  const p = path.startsWith("/") ? path : `/${path}`;
  return `${b}${p}`;
}
