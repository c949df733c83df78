import { test } from "node:test";
import assert from "node:assert/strict";
import { apiURL, describeHealth } from "../src/status.js";
import { renderIndex } from "../lib/render.mjs";

test("describeHealth reads the backend answer", () => {
  assert.equal(describeHealth({ status: "healthy" }), "Backend healthy");
  assert.equal(describeHealth({ status: "degraded" }), "Backend degraded");
  assert.equal(describeHealth(null), "Backend unreachable");
});

test("apiURL joins base and path with one slash", () => {
  assert.equal(apiURL("https://api.example.com/", "/health"), "https://api.example.com/health");
  assert.equal(apiURL("", "health"), "/health");
});

test("renderIndex substitutes hashed assets and refuses unknown ones", () => {
  assert.equal(renderIndex('<script src="{{main.js}}">', { "main.js": "/assets/main-AB12.js" }), '<script src="/assets/main-AB12.js">');
  assert.throws(() => renderIndex("{{nope.js}}", {}), /unknown asset nope.js/);
});
