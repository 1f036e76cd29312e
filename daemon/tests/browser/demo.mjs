// Drives the demo page in headless Chromium, as a visitor would, for
// daemon/tests/browser.rs (which starts the daemons and checks what they stored).
//
//   node demo.mjs --url http://127.0.0.1:PORT --auth-url http://127.0.0.1:PORT2 --out DIR
//
// Prints one JSON line with what the page showed and did; exits non-zero on any
// failure, a console error, a CSP violation or a request to another origin.
import { chromium } from "playwright-core";
import { args, executablePath } from "./chromium.mjs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function argument(name) {
  const at = process.argv.indexOf(name);
  if (at < 0 || at + 1 >= process.argv.length) throw new Error(`missing ${name}`);
  return process.argv[at + 1];
}

const url = argument("--url");
const authUrl = argument("--auth-url");
const out = argument("--out");
const TIMEOUT = 15_000;

const problems = [];
function watch(page, origin) {
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("request", (request) => {
    if (!request.url().startsWith(origin) && !request.url().startsWith("data:")) {
      problems.push(`request to another origin: ${request.url()}`);
    }
  });
}

async function visitorFlow(context) {
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  watch(page, new URL(url).origin);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(url);

  // The model's version and accuracy come from /model_info.
  await page.waitForFunction(() => document.getElementById("model-version").textContent !== "–");
  const version = (await page.textContent("#model-version")).trim();
  const accuracy = (await page.textContent("#model-accuracy")).trim();
  if (!/^\d+\.\d%/.test(accuracy)) throw new Error(`accuracy shown as ${accuracy}`);

  // A sample, by mouse.
  await page.click("#samples li:nth-child(2) button");
  await page.waitForSelector("#result:not([hidden])");
  await page.waitForFunction(() => document.querySelectorAll("#history li").length === 1);

  // A typed text, by keyboard only: focus, type, Ctrl+Enter.
  const text = "It is not that the film is boring, it is just far too long.";
  await page.focus("#text");
  await page.keyboard.press("Control+A");
  await page.keyboard.type(text);
  await page.keyboard.press("Control+Enter");
  await page.waitForFunction(() => document.querySelectorAll("#history li").length === 2);
  const label = (await page.textContent("#label")).trim().toLowerCase();
  const confidence = Number(await page.getAttribute("#meter", "aria-valuenow"));
  if (!(confidence >= 50 && confidence <= 100)) throw new Error(`confidence ${confidence}`);
  const fill = await page.$eval("#meter-fill", (el) => el.style.width);
  if (fill !== `${confidence}%`) throw new Error(`the bar is ${fill} for ${confidence}%`);
  const ngrams = await page.$$eval(".ngram-name", (els) => els.map((e) => e.textContent));
  if (ngrams.length === 0) throw new Error("no n-grams shown");

  // Escape closes the correction dialog without sending anything.
  await page.click("#wrong");
  await page.waitForSelector("#correction[open]");
  await page.keyboard.press("Escape");
  await page.waitForFunction(() => !document.getElementById("correction").open);

  // Correct it: the other label is preselected; send.
  await page.click("#wrong");
  await page.waitForSelector("#correction[open]");
  const correctedTo = await page.$eval("input[name=correct]:checked", (el) => el.value);
  if (correctedTo === label) throw new Error("the correction preselects the predicted label");
  await page.click("#correction-send");
  await page.waitForFunction(() => /correction #\d+/.test(document.getElementById("thanks").textContent));
  const thanks = await page.textContent("#thanks");
  const feedbackId = Number(/correction #(\d+)/.exec(thanks)[1]);
  const history = await page.$$eval("#history li", (els) => els.map((e) => e.textContent));
  if (!history[0].includes(`corrected to ${correctedTo}`)) throw new Error(`history: ${history[0]}`);

  // The prediction id the page sent: the newest history entry holds it.
  const predictionId = await page.evaluate(
    () => JSON.parse(localStorage.getItem("sentimentd.demo.history"))[0].id,
  );

  const desktop = join(out, "demo-desktop.png");
  await page.screenshot({ path: desktop, fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 0) throw new Error(`the page is ${overflow}px wider than a 390px screen`);
  const phone = join(out, "demo-phone.png");
  await page.screenshot({ path: phone, fullPage: true });
  await page.close();
  return { version, accuracy, text, label, confidence, ngrams, correctedTo, feedbackId, predictionId, screenshots: [desktop, phone] };
}

async function authFlow(context) {
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  watch(page, new URL(authUrl).origin);
  // The page's own 401s are expected here; only other problems count.
  const before = problems.length;
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(authUrl);
  await page.waitForSelector("#auth:not([hidden])");
  const message = (await page.textContent("#auth-title")).trim();
  const badge = (await page.textContent("#model-badge")).trim();
  const screenshot = join(out, "demo-auth-required.png");
  await page.screenshot({ path: screenshot, fullPage: true });
  problems.splice(before, problems.length - before, ...problems.slice(before).filter((p) => !p.includes("401")));
  await page.close();
  return { message, badge, screenshot };
}

const profile = mkdtempSync(join(tmpdir(), "sentimentd-chromium-"));
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args,
    timeout: 30_000,
  });
  const visitor = await visitorFlow(context);
  const auth = await authFlow(context);
  if (problems.length) throw new Error("the page had problems:\n" + problems.join("\n"));
  console.log(JSON.stringify({ ...visitor, auth }));
} catch (error) {
  console.error(String(error && error.stack ? error.stack : error));
  process.exitCode = 1;
} finally {
  if (context) await context.close();
  rmSync(profile, { recursive: true, force: true });
}
