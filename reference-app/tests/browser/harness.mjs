// The browser tests' harness: the reference app (memory store, demo catalog) on a free port,
// Debian's Chromium through playwright-core, and the checks every page gets — no console
// error, no request to another origin, no serious or critical axe-core violation.
//
// Run by scripts/browser-test, which installs Chromium and the npm packages into
// target/browser-tests and sets BIN and SHOTS.

import { spawn } from "node:child_process";
import { readFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../../..");
const require = createRequire(path.join(repo, "target/browser-tests/package.json"));
const { chromium } = require("playwright-core");
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export const ADMIN_EMAIL = "admin@shop.local";
export const ADMIN_PASSWORD = "browser test admin passphrase";
export const SHOTS = process.env.SHOTS || path.join(repo, "target/browser-screenshots");

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

/** Starts the app; `{ base, root, stop }`. `root` is its ROOT_PATH ("" or "/shop"). */
export async function startApp({ root = "" } = {}) {
  const port = await freePort();
  const opsPort = await freePort();
  const bin = process.env.BIN || path.join(repo, "target/debug/reference-app");
  const child = spawn(bin, [], {
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      SHOP_OPS_PORT: String(opsPort),
      ROOT_PATH: root,
      SHOP_ADMIN_PASSWORD: ADMIN_PASSWORD,
      JWT_SECRET_KEY: "browser tests only, thirty-two bytes or more",
      RUST_LOG: "warn",
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const origin = `http://127.0.0.1:${port}`;
  const base = origin + root;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const r = await fetch(`${base}/ready`);
      if (r.ok) break;
    } catch {
      // not yet listening
    }
    if (Date.now() > deadline) throw new Error(`the app never became ready: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    origin,
    base,
    root,
    stop: () => new Promise((resolve) => {
      child.once("exit", resolve);
      child.kill("SIGTERM");
    }),
  };
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
  });
}

/**
 * A page that records what the checks look at: console errors, uncaught exceptions and
 * requests to any origin but `origin`. `check()` runs axe-core on the page as it is now.
 */
export async function watchedPage(browser, origin, { viewport = { width: 1100, height: 800 } } = {}) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems = { console: [], foreign: [], axe: [] };
  // Refusals a test provokes on purpose. Chromium logs every 4xx answer to fetch() as a
  // console error; only these are let through, each matched by method, path and status.
  const expected = [];
  const refusals = new Map(); // URL -> method and status of its last 4xx/5xx answer
  page.on("response", (r) => {
    if (r.status() >= 400) refusals.set(r.url(), { method: r.request().method(), status: r.status() });
  });
  page.expectRefusal = (method, apiPath, status) => expected.push({ method, apiPath, status });
  const wasExpected = (m) => {
    const failed = /^Failed to load resource: the server responded with a status of (\d+)/.exec(m.text());
    const url = m.location()?.url;
    const seen = url && refusals.get(url);
    if (!failed || !seen || seen.status !== Number(failed[1])) return false;
    const { pathname } = new URL(url);
    return expected.some((e) => e.method === seen.method && e.status === seen.status && pathname.endsWith(e.apiPath));
  };
  page.on("console", (m) => {
    if (m.type() === "error" && !wasExpected(m)) problems.console.push(`${page.url()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.console.push(`${page.url()}: uncaught ${e.message}`));
  page.on("request", (r) => {
    const url = r.url();
    if (url.startsWith("data:")) return;
    if (new URL(url).origin !== origin) problems.foreign.push(url);
  });
  page.check = async () => {
    await page.waitForLoadState("networkidle");
    // Through the debugging protocol: the page's own CSP (no inline script) stays in force.
    await page.evaluate(axeSource);
    const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
    for (const v of result.violations) {
      if (v.impact === "serious" || v.impact === "critical") {
        problems.axe.push(`${page.url()}: ${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
      }
    }
  };
  page.problems = problems;
  page.shot = async (name) => {
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
  };
  return page;
}

/** Fails with everything the watched pages recorded. */
export function assertClean(assert, page) {
  assert.deepEqual(page.problems.console, [], "console errors");
  assert.deepEqual(page.problems.foreign, [], "requests to other origins");
  assert.deepEqual(page.problems.axe, [], "serious or critical accessibility violations");
}

/** Calls the API directly (to check what the pages did). */
export async function apiCall(app, method, apiPath, { token, body, headers = {} } = {}) {
  const res = await fetch(app.base + apiPath, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body ? { "Content-Type": "application/json" } : {}),
      ...headers,
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json().catch(() => null);
  return { status: res.status, data };
}

export async function tokenFor(app, email, password) {
  const r = await apiCall(app, "POST", "/api/auth/login", { body: { email, password } });
  if (r.status !== 200) throw new Error(`login of ${email}: ${r.status} ${JSON.stringify(r.data)}`);
  return r.data.access_token;
}
