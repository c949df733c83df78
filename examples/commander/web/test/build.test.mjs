import { test } from "node:test";
import assert from "node:assert/strict";
import { render } from "../build.mjs";

test("render puts the API URL in the page", () => {
  assert.equal(render("<code>__API_URL__</code>", "https://api.example.com"), "<code>https://api.example.com</code>");
});
