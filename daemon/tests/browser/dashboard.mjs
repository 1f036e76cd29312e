// Drives the dashboard page (/dashboard) in headless Chromium against a daemon with
// auth on, and checks that what it shows is what /metrics/dashboard answers.
//
//   node dashboard.mjs --url http://127.0.0.1:PORT/ --admin-key KEY --user-key KEY --out DIR
//                      [--predict-text TEXT]
//
// Prints one JSON line with what the page showed and did; exits non-zero on any
// failure, a mismatch with the JSON, a console error, a CSP violation or a request to
// another origin.
import { chromium } from "playwright-core";
import { args, executablePath } from "./chromium.mjs";
import { join } from "node:path";
import { mkdirSync } from "node:fs";

function argument(name, fallback) {
  const at = process.argv.indexOf(name);
  if (at < 0 || at + 1 >= process.argv.length) {
    if (fallback !== undefined) return fallback;
    throw new Error(`missing ${name}`);
  }
  return process.argv[at + 1];
}

const base = new URL(argument("--url"));
const origin = base.origin;
const adminKey = argument("--admin-key");
const userKey = argument("--user-key");
const out = argument("--out");
const predictText = argument("--predict-text", "a live update arrives");
const dashboardUrl = new URL("/dashboard", base).href;
const TIMEOUT = 15_000;
const KEY_ITEM = "sentimentd.dashboard.key";

const consoleErrors = [];
const pageErrors = [];
const cspViolations = [];
const foreignRequests = [];
const mismatches = [];
const screenshots = [];

function fail(message) {
  throw new Error(message);
}

/** Every context reports CSP violations into window.__cspViolations (init scripts are not subject to the page's CSP). */
async function newContext(browser, options, key) {
  const context = await browser.newContext(options);
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} ${e.sample || ""}`.trim());
    });
  });
  if (key) {
    await context.addInitScript(([item, value]) => {
      try {
        if (location.protocol.startsWith("http") && !sessionStorage.getItem(item)) sessionStorage.setItem(item, value);
      } catch {
        // about:blank has no storage
      }
    }, [KEY_ITEM, key]);
  }
  return context;
}

/** Records the page's requests, console errors, page errors and CSP messages. `expect401` tolerates the 401 console line before a key is entered. */
function watch(page, label, state = { expect401: false }) {
  const requests = [];
  page.on("console", (message) => {
    const text = message.text();
    if (/Content Security Policy|Refused to/i.test(text)) cspViolations.push(`${label}: ${text}`);
    if (message.type() !== "error") return;
    if (state.expect401 && /status of 401/.test(text)) return;
    consoleErrors.push(`${label}: ${text}`);
  });
  page.on("pageerror", (error) => pageErrors.push(`${label}: ${error.message}`));
  page.on("request", (request) => {
    requests.push(request);
    const u = request.url();
    if (!u.startsWith(origin + "/") && !u.startsWith("data:")) foreignRequests.push(`${label}: ${u}`);
  });
  return { requests, state };
}

async function bytesOf(requests) {
  let total = 0;
  const byPath = {};
  for (const request of requests) {
    const response = await request.response();
    if (!response) continue;
    await response.finished().catch(() => {});
    const sizes = await request.sizes().catch(() => null);
    if (!sizes) continue;
    const n = sizes.responseBodySize + sizes.responseHeadersSize;
    total += n;
    const path = new URL(request.url()).pathname;
    byPath[path] = (byPath[path] || 0) + n;
  }
  return { total, byPath };
}

async function api(method, path, key, body) {
  const response = await fetch(new URL(path, base), {
    method,
    headers: { Authorization: `Bearer ${key}`, Accept: "application/json", ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (!response.ok) fail(`${method} ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text);
}

async function loaded(page) {
  await page.waitForSelector('body[data-loaded="1"]');
}

/** Waits until the page has finished `n` more refreshes than now. */
async function refreshes(page, n = 1) {
  const now = Number(await page.evaluate(() => document.body.dataset.updates || 0));
  await page.waitForFunction((want) => Number(document.body.dataset.updates || 0) >= want, now + n, { timeout: 10_000 });
}

/** What the page shows, read from its data attributes and tables. */
function shown(page) {
  return page.evaluate(() => {
    const tiles = {};
    for (const t of document.querySelectorAll("[data-metric]")) {
      tiles[t.dataset.metric] = { value: t.dataset.value, text: t.querySelector(".v").textContent.trim(), lower: t.dataset.lower, upper: t.dataset.upper };
    }
    const rows = (id) => [...document.querySelectorAll(`#${id} tbody tr`)].filter(() => !document.getElementById(id).hidden);
    return {
      view: document.getElementById("view-badge").dataset.view,
      modelVersion: document.getElementById("model-version").textContent,
      tiles,
      versions: [...document.querySelectorAll("#acc-plot .ver")].map((g) => ({
        version: g.dataset.version, status: g.dataset.status, current: g.dataset.current,
        focusable: g.getAttribute("tabindex") === "0", label: g.getAttribute("aria-label") || "",
      })),
      bins: [...document.querySelectorAll("#conf-plot [data-count]")].map((b) => Number(b.dataset.count)),
      buckets: Object.fromEntries([...document.querySelectorAll("#fb-plot [data-bucket-total]")].map((g) => [g.dataset.start, Number(g.dataset.bucketTotal)])),
      lowConfidence: rows("low-confidence").map((r) => ({ id: r.dataset.id, text: r.cells[0].textContent, label: r.cells[1].textContent, confidence: r.cells[2].dataset.value })),
      operatorsOnly: !document.getElementById("lc-operators").hidden ? document.getElementById("lc-operators").textContent.replace(/\s+/g, " ").trim() : null,
      alerts: rows("alerts").map((r) => ({ id: Number(r.dataset.alertId), acknowledged: r.dataset.acknowledged === "true", message: r.cells[2].textContent })),
    };
  });
}

const TILE_FIELDS = ["total_predictions", "total_feedback", "low_confidence_count", "queue_pending", "test_accuracy", "average_confidence", "alerts_unacknowledged"];

/** Every difference between the page and the JSON, in words. */
function compare(s, d) {
  const found = [];
  const same = (what, a, b) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) found.push(`${what}: page ${JSON.stringify(a)}, JSON ${JSON.stringify(b)}`);
  };
  const num = (v) => (v === "null" || v === undefined ? null : Number(v));
  same("view", s.view, d.view);
  same("model version", s.modelVersion, d.model.version);
  for (const f of TILE_FIELDS) same(`tile ${f}`, num(s.tiles[f] && s.tiles[f].value), d.metrics[f] ?? null);
  const live = d.metrics.live_accuracy;
  same("tile live_accuracy", num(s.tiles.live_accuracy.value), live ? live.accuracy : null);
  if (live) same("tile live_accuracy interval", [num(s.tiles.live_accuracy.lower), num(s.tiles.live_accuracy.upper)], [live.lower, live.upper]);
  for (const [f, shown] of [["total_predictions", s.tiles.total_predictions.text], ["test_accuracy", s.tiles.test_accuracy.text]]) {
    const v = d.metrics[f];
    const want = v === null ? null : f === "test_accuracy" ? `${(v * 100).toFixed(1)}%` : v.toLocaleString("en-US");
    if (want !== null) same(`tile ${f} text`, shown, want);
  }
  same("versions", s.versions.map((v) => [v.version, v.status, v.current]), d.versions.map((v) => [v.version, v.status, String(v.current)]));
  for (const v of s.versions) if (!v.focusable || !v.label) found.push(`version ${v.version} is not focusable or has no accessible name`);
  same("histogram bins", s.bins, d.confidence.bins.map((b) => b.count));
  for (const b of d.feedback_volume.buckets) {
    const total = b.corrections + b.confirmations + b.labels + b.operator_labels;
    same(`feedback bucket ${b.start_unix_ms}`, s.buckets[String(b.start_unix_ms)], total);
  }
  const filled = Object.values(s.buckets).reduce((a, b) => a + b, 0);
  const total = d.feedback_volume.buckets.reduce((a, b) => a + b.corrections + b.confirmations + b.labels + b.operator_labels, 0);
  same("feedback total over all bars", filled, total);
  if (d.low_confidence === null) {
    same("low-confidence rows (user view)", s.lowConfidence.length, 0);
    if (!s.operatorsOnly || !/Operators only/.test(s.operatorsOnly)) found.push("the user view does not say the texts are for operators only");
  } else {
    same("low-confidence rows", s.lowConfidence.map((r) => [r.id, r.text, r.label, Number(r.confidence)]),
      d.low_confidence.map((p) => [p.id, p.text, p.label, p.confidence]));
  }
  same("alerts", s.alerts.map((a) => [a.id, a.acknowledged, a.message]).sort((a, b) => a[0] - b[0]),
    d.alerts.map((a) => [a.id, a.acknowledged, a.message]).sort((a, b) => a[0] - b[0]));
  return found;
}

/** Compares the page with a fresh read of the JSON; the page must have refreshed after the read. Retries a little, since the daemon may change in between. */
async function check(page, key) {
  let found = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    const json = await api("GET", "/metrics/dashboard", key);
    await refreshes(page, 2);
    const s = await shown(page);
    found = compare(s, json);
    if (!found.length) return { json, shown: s };
  }
  mismatches.push(...found);
  fail("the page does not show what /metrics/dashboard answers:\n  " + found.join("\n  "));
}

async function adminFlow(browser) {
  const context = await newContext(browser, { viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const { requests, state } = watch(page, "desktop", { expect401: true });
  let navigations = 0;
  let loads = 0;
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) navigations++;
  });
  page.on("load", () => loads++);

  // 1-2. Auth is on and no key is kept: the page asks for one.
  await page.goto(dashboardUrl);
  await page.waitForSelector("#auth:not([hidden])");
  const authTitle = (await page.textContent("#auth-title")).trim();
  if (authTitle !== "This server needs an API key") fail(`the key form says ${JSON.stringify(authTitle)}`);
  const liveWithoutKey = (await page.textContent("#live-text")).trim();
  await page.fill("#key", adminKey);
  await page.press("#key", "Enter");
  await loaded(page);
  state.expect401 = false;
  if (await page.isVisible("#auth")) fail("the key form is still shown after a valid key");
  const firstLoad = await bytesOf(requests);
  const requestCount = requests.length;
  const timeToFirstChartAfterFormMs = await page.evaluate(() => performance.getEntriesByName("first-chart")[0]?.startTime ?? null);

  // 3. The page shows exactly what the JSON says.
  const { json, shown: s } = await check(page, adminKey);

  // 4. A prediction made elsewhere shows up without a reload.
  const urlBefore = page.url();
  const navigationsBefore = navigations;
  const loadsBefore = loads;
  const updatesBefore = Number(await page.evaluate(() => document.body.dataset.updates));
  const before = Number(await page.getAttribute('[data-metric="total_predictions"]', "data-value"));
  await api("POST", "/predict", adminKey, { text: predictText });
  const posted = Date.now();
  await page.waitForFunction((want) => Number(document.querySelector('[data-metric="total_predictions"]').dataset.value) >= want, before + 1, { timeout: 10_000 });
  const ms = Date.now() - posted;
  const after = Number(await page.getAttribute('[data-metric="total_predictions"]', "data-value"));
  const afterText = (await page.textContent('[data-metric="total_predictions"] .v')).trim();
  if (afterText !== after.toLocaleString("en-US")) fail(`the predictions tile shows ${afterText} for ${after}`);
  const updatesAfter = Number(await page.evaluate(() => document.body.dataset.updates));
  if (page.url() !== urlBefore || navigations !== navigationsBefore || loads !== loadsBefore) {
    fail(`the page navigated for the live update (${urlBefore} -> ${page.url()}, ${navigations - navigationsBefore} navigations)`);
  }
  if (!(updatesAfter > updatesBefore)) fail("body.dataset.updates did not grow");

  // 5. Keyboard: Tab from the top reaches a version marker, whose tooltip shows the gate's decision.
  // A click on plain text in the header puts the focus navigation start there.
  await page.click(".tagline");
  let focused = null;
  const tabOrder = [];
  for (let i = 0; i < 30 && !focused; i++) {
    await page.keyboard.press("Tab");
    const now = await page.evaluate(() => {
      const a = document.activeElement;
      const g = a && a.closest && a.closest(".ver");
      return { version: g ? g.dataset.version : null, tag: a ? a.tagName.toLowerCase() + (a.id ? "#" + a.id : "") : "" };
    });
    tabOrder.push(now.version ? `version ${now.version}` : now.tag);
    focused = now.version;
  }
  if (!focused) fail(`no version marker reached by Tab; focus went: ${tabOrder.join(", ")}`);
  const keyboard = { tabOrder, versions: [] };
  for (let step = 0; step < 2; step++) {
    const version = await page.evaluate(() => document.activeElement.closest(".ver")?.dataset.version);
    if (!version) break;
    const decision = json.versions.find((v) => v.version === version).decision;
    await page.waitForSelector("#acc-tip:not([hidden])");
    const tip = await page.textContent("#acc-tip");
    if (!tip.includes(decision)) fail(`the tooltip of ${version} does not give its decision: ${tip}`);
    const ring = await page.evaluate(() => getComputedStyle(document.activeElement.querySelector(".hit")).strokeWidth);
    if (!(parseFloat(ring) > 0)) fail(`no visible focus ring on ${version}`);
    keyboard.versions.push({ version, tooltip: true, focusRing: ring });
    await page.keyboard.press("Tab");
  }
  await page.keyboard.press("Escape");

  // 6. Screenshots: the desktop page, with a version's tooltip, then clean.
  await page.focus(`.ver[data-version="${json.versions.find((v) => v.current)?.version ?? json.versions[0]?.version}"]`).catch(() => {});
  const tipShot = join(out, "dashboard-tooltip.png");
  if (await page.isVisible("#acc-tip")) {
    await page.locator("#acc-chart").screenshot({ path: tipShot });
    screenshots.push(tipShot);
  }
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  const desktop = join(out, "dashboard-desktop.png");
  await page.screenshot({ path: desktop, fullPage: true });
  screenshots.push(desktop);
  cspViolations.push(...(await page.evaluate(() => window.__cspViolations)).map((v) => `desktop: ${v}`));
  await context.close();
  return {
    versions: s.versions.map(({ version, status, current }) => ({ version, status, current: current === "true" })),
    shownTotals: Object.fromEntries(Object.entries(s.tiles).map(([k, v]) => [k, v.value === "null" ? null : Number(v.value)])),
    shownTexts: Object.fromEntries(Object.entries(s.tiles).map(([k, v]) => [k, v.text])),
    bins: s.bins,
    buckets: s.buckets,
    lowConfidenceRows: s.lowConfidence.length,
    alertRows: s.alerts.length,
    authTitle,
    liveWithoutKey,
    liveUpdate: { before, after, ms, updatesBefore, updatesAfter, navigations: navigations - navigationsBefore },
    keyboard,
    bytes: firstLoad.total,
    bytesByPath: firstLoad.byPath,
    requests: requestCount,
    timeToFirstChartAfterFormMs,
    adminTexts: (json.low_confidence || []).map((p) => p.text),
  };
}

/** A fresh context that already holds the key: phone or dark. Returns the time to the first chart. */
async function keyedFlow(browser, label, options, key) {
  const context = await newContext(browser, options, key);
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const { requests } = watch(page, label);
  await page.goto(dashboardUrl);
  await loaded(page);
  const firstChartMs = await page.evaluate(() => performance.getEntriesByName("first-chart")[0]?.startTime ?? null);
  const bytes = (await bytesOf(requests)).total;
  const result = { firstChartMs, bytes };
  if (label === "phone") {
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 0) fail(`the dashboard is ${overflow}px wider than a ${options.viewport.width}px screen`);
    const columns = await page.evaluate(() => getComputedStyle(document.querySelector(".grid")).gridTemplateColumns.split(" ").length);
    if (columns !== 1) fail(`the phone layout has ${columns} columns`);
    result.overflow = overflow;
  }
  if (label === "dark") {
    // The first Tab shows the skip link; it leads to the figures, and the next Tab to the first version.
    await page.keyboard.press("Tab");
    const skip = await page.evaluate(() => {
      const a = document.activeElement;
      return { skip: a.classList.contains("skip"), left: a.getBoundingClientRect().left };
    });
    if (!skip.skip || skip.left < 0) fail(`the first Tab does not show the skip link: ${JSON.stringify(skip)}`);
    await page.keyboard.press("Enter");
    await page.keyboard.press("Tab");
    const first = await page.evaluate(() => document.activeElement.closest(".ver")?.dataset.version ?? document.activeElement.tagName);
    if (first !== (await page.getAttribute(".ver", "data-version"))) fail(`after the skip link, Tab goes to ${first}`);
    result.skipLink = { then: first };
    await page.evaluate(() => document.activeElement.blur());
    const background = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    const [r, g, b] = background.match(/\d+/g).map(Number);
    if (r + g + b > 200) fail(`the dark scheme has a light background ${background}`);
    result.background = background;
  }
  const shot = join(out, `dashboard-${label}.png`);
  await page.screenshot({ path: shot, fullPage: true });
  screenshots.push(shot);
  cspViolations.push(...(await page.evaluate(() => window.__cspViolations)).map((v) => `${label}: ${v}`));
  await context.close();
  return result;
}

/** 7. A user key: aggregates only, never another user's text. */
async function userFlow(browser, adminTexts) {
  const context = await newContext(browser, { viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const { state } = watch(page, "user", { expect401: true });
  await page.goto(dashboardUrl);
  await page.waitForSelector("#auth:not([hidden])");
  await page.fill("#key", userKey);
  await page.click("#key-form button[type=submit]");
  await loaded(page);
  state.expect401 = false;
  const { shown: s } = await check(page, userKey);
  if (s.view !== "user") fail(`a user key shows the ${s.view} view`);
  const leaked = await page.evaluate((texts) => {
    const html = document.documentElement.outerHTML;
    const text = document.documentElement.textContent;
    const escape = (t) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
    return texts.filter((t) => t && (text.includes(t) || html.includes(t) || html.includes(escape(t))));
  }, adminTexts);
  if (leaked.length) fail(`the user view shows operators' texts: ${JSON.stringify(leaked)}`);
  const shot = join(out, "dashboard-user.png");
  await page.screenshot({ path: shot, fullPage: true });
  screenshots.push(shot);
  cspViolations.push(...(await page.evaluate(() => window.__cspViolations)).map((v) => `user: ${v}`));
  await context.close();
  return { view: s.view, operatorsOnly: s.operatorsOnly, lowConfidenceRows: s.lowConfidence.length, textsChecked: adminTexts.length, leaked };
}

mkdirSync(out, { recursive: true });
let browser;
try {
  browser = await chromium.launch({ executablePath, headless: true, args, timeout: 30_000 });
  const admin = await adminFlow(browser);
  const phone = await keyedFlow(browser, "phone", { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true }, adminKey);
  const dark = await keyedFlow(browser, "dark", { viewport: { width: 1280, height: 900 }, colorScheme: "dark" }, adminKey);
  const userView = await userFlow(browser, admin.adminTexts);
  const problems = [
    ...consoleErrors.map((e) => `console error: ${e}`),
    ...pageErrors.map((e) => `page error: ${e}`),
    ...cspViolations.map((e) => `CSP violation: ${e}`),
    ...foreignRequests.map((e) => `request to another origin: ${e}`),
  ];
  if (problems.length) fail("the page had problems:\n  " + problems.join("\n  "));
  const { adminTexts, ...shownAdmin } = admin;
  console.log(JSON.stringify({
    ...shownAdmin,
    timeToFirstChartMs: dark.firstChartMs,
    phone,
    dark,
    screenshots,
    userView,
    cspViolations,
    consoleErrors,
    pageErrors,
    foreignRequests,
  }));
} catch (error) {
  console.error(String(error && error.stack ? error.stack : error));
  if (mismatches.length) console.error("mismatches:\n  " + mismatches.join("\n  "));
  process.exitCode = 1;
} finally {
  if (browser) await browser.close();
}
