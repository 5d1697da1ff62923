// The web app in real Chromium (Debian's), driven by Playwright, against the
// real server binary on a random loopback port. Run by .ci/web.sh, which
// builds the server and installs Chromium and playwright-core.
//
// SERVER_BIN: the server binary (default: the workspace's debug build).
// CHROMIUM: the browser (default /usr/bin/chromium).
// SCREENSHOTS: where the screenshots go (default target/web-screenshots).

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../../..");
const SERVER_BIN = process.env.SERVER_BIN || join(root, "target/debug/classification_api");
const DATASET = join(root, "classification_model/datasets/titanic.csv");
const SHOTS = process.env.SCREENSHOTS || join(root, "target/web-screenshots");
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

const ALLEN = {
  pclass: "1",
  name: "Allen, Miss. Elisabeth Walton",
  sex: "female",
  age: "29",
  sibsp: "0",
  parch: "0",
  fare: "211.3375",
  cabin: "B5",
  embarked: "S",
};

/** Starts the server with `env` on a free loopback port; resolves to its base URL and a stop function. */
async function serve(env) {
  const dir = mkdtempSync(join(tmpdir(), "web-test-"));
  const address = join(dir, "address");
  const child = spawn(SERVER_BIN, [], {
    env: { ...process.env, PORT: "0", GRPC_PORT: "0", HOST: "127.0.0.1", RUST_LOG: "info", HISTORY_PATH: join(dir, "history.sqlite3"), ADDRESS_FILE: address, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // the server writes ADDRESS_FILE once it is ready
  const base = await new Promise((ok, fail) => {
    let seen = "";
    const keep = (chunk) => (seen += chunk);
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    const started = Date.now();
    const poll = setInterval(() => {
      if (existsSync(address)) {
        clearInterval(poll);
        ok(`http://${readFileSync(address, "utf8").split("\n")[0].trim()}`);
      } else if (Date.now() - started > 30000) {
        clearInterval(poll);
        fail(new Error(`the server did not start: ${seen}`));
      }
    }, 20);
    child.on("exit", (code) => {
      clearInterval(poll);
      fail(new Error(`the server exited (${code}): ${seen}`));
    });
  });
  return {
    base,
    stop: async () => {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A page that records every console error and Content-Security-Policy violation. */
async function open(browser, base, viewport = DESKTOP) {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  page.problems = [];
  page.on("console", (m) => m.type() === "error" && page.problems.push(m.text()));
  page.on("pageerror", (e) => page.problems.push(String(e)));
  await page.goto(`${base}/`);
  await page.waitForSelector("body[data-ready=true]");
  return page;
}

async function api(base, path, { method = "GET", body, type = "application/json", accept = "application/json", key } = {}) {
  const headers = { accept };
  if (body !== undefined) headers["content-type"] = type;
  if (key) headers.authorization = `Bearer ${key}`;
  const r = await fetch(`${base}${path}`, { method, headers, body: typeof body === "string" ? body : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, text, json: () => JSON.parse(text) };
}

async function fill(page, record) {
  for (const [name, value] of Object.entries(record)) {
    const control = page.locator(`#f-${name}`);
    if ((await control.evaluate((e) => e.tagName)) === "SELECT") await control.selectOption(value);
    else await control.fill(value);
  }
}

const sigmoid = (z) => 1 / (1 + Math.exp(-z));

/**
 * Every visible text on the page whose contrast with what is behind it is
 * under WCAG AA (4.5:1, or 3:1 for large text), as "text: ratio".
 */
async function lowContrast(page) {
  return page.evaluate(() => {
    const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
    const luminance = ([r, g, b]) => {
      const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const background = (e) => {
      for (let x = e; x; x = x.parentElement) {
        const c = rgb(getComputedStyle(x).backgroundColor);
        if (c.length === 3 || c[3] === 1) return c.slice(0, 3);
        // an SVG shape under the text (a bar) is not a background: text sits beside bars
      }
      return [255, 255, 255];
    };
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const e = n.parentElement;
      if (!n.textContent.trim() || !e || !e.getClientRects().length) continue;
      const style = getComputedStyle(e);
      if (style.visibility === "hidden" || e.closest("[hidden], .visually-hidden, title, option")) continue;
      const svgText = e instanceof SVGElement;
      const fg = rgb(svgText ? style.fill : style.color).slice(0, 3);
      const [a, b] = [luminance(fg), luminance(background(e))];
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      const size = parseFloat(style.fontSize) * (svgText ? e.getScreenCTM()?.a || 1 : 1);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) out.push(`${n.textContent.trim().slice(0, 30)}: ${ratio.toFixed(2)}`);
    }
    return out;
  });
}

describe("the web app", () => {
  let browser;
  let server;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
    server = await serve({});
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("the page is sent with a strict policy and loads no outside resource", async () => {
    const r = await fetch(`${server.base}/`);
    const policy = r.headers.get("content-security-policy");
    assert.match(policy, /default-src 'self'/);
    assert.doesNotMatch(policy, /unsafe-inline|unsafe-eval/);
    const html = await r.text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)/, "no inline script");
    assert.doesNotMatch(html, /https?:\/\//, "no outside resource");
    const page = await open(browser, server.base);
    const outside = [];
    page.on("request", (q) => !q.url().startsWith(server.base) && !q.url().startsWith("blob:") && outside.push(q.url()));
    await page.click("nav >> text=Model card");
    await page.waitForSelector("#model-coefficients svg");
    assert.deepEqual(outside, []);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test("a filled form shows /predict's probability and a waterfall that adds up", async () => {
    const page = await open(browser, server.base);
    await fill(page, ALLEN);
    await page.click("#predict-form button[type=submit]");
    const shown = page.locator("#predict-result .probability");
    await shown.waitFor();
    const p = Number(await shown.getAttribute("data-value"));
    const answer = (await api(server.base, "/predict?explain=true", { method: "POST", body: { inputs: [ALLEN] } })).json();
    assert.equal(p, answer.probabilities[0]);
    assert.ok((await shown.textContent()).startsWith(`${(100 * p).toFixed(2)}%`));
    assert.equal(await page.locator("#predict-result .verdict").textContent(), "Survived");
    // baseline, one bar per feature, the total
    const bars = await page.locator("#predict-result svg rect[data-value]").evaluateAll((rs) =>
      rs.map((r) => ({ feature: r.dataset.feature, value: Number(r.dataset.value) })),
    );
    const features = Object.keys(answer.explanations[0].contributions);
    assert.equal(bars.length, features.length + 2);
    assert.equal(bars[0].feature, "base");
    assert.equal(bars.at(-1).feature, "total");
    const sum = bars.slice(0, -1).reduce((a, b) => a + b.value, 0);
    assert.ok(Math.abs(sum - bars.at(-1).value) < 1e-12, `${sum} vs ${bars.at(-1).value}`);
    assert.ok(Math.abs(sigmoid(bars.at(-1).value) - p) < 1e-12);
    for (const f of features) {
      const bar = bars.find((b) => b.feature === f);
      assert.equal(bar.value, answer.explanations[0].contributions[f], f);
    }
    const reading = await page.locator("#predict-result .reading").textContent();
    assert.match(reading, /raised the chance of survival the most/);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test("an invalid age gets the server's error beside the age field", async () => {
    const page = await open(browser, server.base);
    await fill(page, { ...ALLEN, age: "-5" });
    await page.click("#predict-form button[type=submit]");
    const error = page.locator("#f-age-error");
    await error.waitFor({ state: "visible" });
    const answer = (await api(server.base, "/predict", { method: "POST", body: { inputs: [{ ...ALLEN, age: "-5" }] } })).json();
    assert.equal(await error.textContent(), answer.errors.find((e) => e.field === "age").message);
    assert.equal(await page.locator("#f-age").getAttribute("aria-invalid"), "true");
    assert.equal(await page.locator("#f-sex").getAttribute("aria-invalid"), null);
    // the error is read out with the field, and focus goes to it
    assert.match(await page.locator("#f-age").getAttribute("aria-describedby"), /f-age-error/);
    assert.equal(await page.evaluate(() => document.activeElement.id), "f-age");
    await page.context().close();
  });

  test("the dataset's CSV, uploaded, downloads as the API's CSV answer", async () => {
    const page = await open(browser, server.base);
    await page.click("nav >> text=Batch");
    await page.setInputFiles("#batch-file", DATASET);
    const link = page.locator("#batch-download");
    await link.waitFor({ timeout: 60000 });
    assert.match(await page.locator("#batch-summary").textContent(), /1309 rows scored/);
    const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
    const got = readFileSync(await download.path(), "utf8");
    const want = (await api(server.base, "/predict", { method: "POST", type: "text/csv", accept: "text/csv", body: readFileSync(DATASET, "utf8") })).text;
    // every column but the record ids, which each request draws anew
    const withoutIds = (csv) =>
      csv
        .trim()
        .split("\n")
        .map((l) => l.split(",").slice(0, -1).join(","));
    assert.equal(got.trim().split("\n")[0], want.trim().split("\n")[0]);
    assert.deepEqual(withoutIds(got), withoutIds(want));
    assert.equal(withoutIds(got).length, 1310);
    // sorted by probability, highest first; a click sorts the other way
    const firstP = async () => Number(await page.locator("#batch-table tbody tr:first-child td.num").nth(1).textContent());
    const ps = want.trim().split("\n").slice(1).map((l) => Number(l.split(",")[2]));
    assert.equal(await firstP(), Number(Math.max(...ps).toFixed(4)));
    await page.click("#batch-table th button.sort");
    assert.equal(await firstP(), Number(Math.min(...ps).toFixed(4)));
    await page.context().close();
  });

  test("a CSV with bad lines shows each error beside its line", async () => {
    const page = await open(browser, server.base);
    await page.click("nav >> text=Batch");
    // a quoted name over two lines and a blank line: lines are the file's own
    const csv = 'pclass,name,sex,age,sibsp,parch\n1,"Two,\nLines",female,29,0,0\n4,x,male,30,0,0\n\n3,y,male,-1,0,0\n';
    await page.setInputFiles("#batch-file", { name: "bad.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    await page.locator("#batch-table").waitFor();
    const bad = await page.locator("#batch-table tr.bad").evaluateAll((rows) =>
      rows.map((r) => [r.cells[0].textContent, r.querySelector("td.errors").textContent]),
    );
    assert.deepEqual(
      bad.map(([line]) => line),
      ["4", "6"],
    );
    assert.match(bad[0][1], /pclass/);
    assert.match(bad[1][1], /age/);
    await page.context().close();
  });

  test("feedback on a history row changes the monitor's live accuracy accordingly", async () => {
    const page = await open(browser, server.base);
    // something to give feedback on, from the page itself
    await fill(page, { pclass: "3", sex: "male", age: "40", sibsp: "0", parch: "0" });
    await page.click("#predict-form button[type=submit]");
    await page.locator("#predict-result .probability").waitFor();
    const before = (await api(server.base, "/monitoring")).json();
    await page.click("nav >> text=Monitor");
    await page.locator("#monitor-feedback-rows").waitFor();
    assert.equal(Number(await page.locator("#monitor-feedback-rows").getAttribute("data-value")), before.live?.rows ?? 0);
    await page.click("nav >> text=History");
    const row = page.locator("#history-table tbody tr[data-id]").first();
    await row.waitFor();
    const id = await row.getAttribute("data-id");
    const item = (await api(server.base, `/history/${id}`)).json();
    assert.equal(item.survived, null);
    // the outcome that contradicts the prediction
    const outcome = 1 - item.prediction;
    await row.locator(`button[data-survived="${outcome}"]`).click();
    await row.locator("[role=status]", { hasText: "saved" }).waitFor();
    assert.equal((await api(server.base, `/history/${id}`)).json().survived, outcome);
    // the row opens to its inputs and explanation
    await row.locator("button[aria-expanded]").click();
    await page.locator("#history-table tr.details svg").waitFor();
    await page.click("nav >> text=Monitor");
    const rows = (before.live?.rows ?? 0) + 1;
    await page.waitForFunction((n) => Number(document.querySelector("#monitor-feedback-rows")?.dataset.value) === n, rows);
    const correct = Math.round((before.live?.accuracy ?? 0) * (before.live?.rows ?? 0));
    const accuracy = Number(await page.locator("#monitor-live-accuracy").getAttribute("data-value"));
    assert.ok(Math.abs(accuracy - correct / rows) < 1e-12, `${accuracy} vs ${correct}/${rows}`);
    assert.equal(accuracy, (await api(server.base, "/monitoring")).json().live.accuracy);
    assert.equal(await page.locator("#monitor-drift svg line.threshold").count(), 2);
    await page.context().close();
  });

  test("the predict form works from the keyboard alone, with a visible focus", async () => {
    const page = await open(browser, server.base);
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement.className), "skip");
    // Tab to the first field
    for (let i = 0; i < 20 && (await page.evaluate(() => document.activeElement.id)) !== "f-pclass"; i++) {
      await page.keyboard.press("Tab");
    }
    assert.equal(await page.evaluate(() => document.activeElement.id), "f-pclass");
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notEqual(outline, "none", "focus is visible");
    const typed = { pclass: "2", name: "Hart, Mrs. Benjamin", sex: "female", age: "45", sibsp: "1", parch: "1", fare: "26.25", cabin: "", embarked: "S" };
    for (const [name, value] of Object.entries(typed)) {
      assert.equal(await page.evaluate(() => document.activeElement.name), name);
      if ((await page.evaluate(() => document.activeElement.tagName)) === "SELECT") {
        // a closed select changes with the arrow keys
        for (let i = 0; i < 5 && (await page.evaluate(() => document.activeElement.value)) !== value; i++) {
          await page.keyboard.press("ArrowDown");
        }
      } else {
        await page.keyboard.type(value);
      }
      assert.equal(await page.evaluate(() => document.activeElement.value), value, name);
      if (name !== "embarked") await page.keyboard.press("Tab");
    }
    // Tab to the Predict button and press it with Enter
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement.textContent), "Predict");
    await page.keyboard.press("Enter");
    const shown = page.locator("#predict-result .probability");
    await shown.waitFor();
    const record = Object.fromEntries(Object.entries(typed).filter(([, v]) => v !== ""));
    const answer = (await api(server.base, "/predict", { method: "POST", body: { inputs: [record] } })).json();
    assert.equal(Number(await shown.getAttribute("data-value")), answer.probabilities[0]);
    await page.context().close();
  });

  test("the model card links a report whose every figure shows and whose numbers match /model", async () => {
    const page = await open(browser, server.base);
    await page.click("nav >> text=Model card");
    const model = (await api(server.base, "/model")).json();
    assert.equal(await page.locator("#model-sha").textContent(), model.training_data.sha256);
    const bars = await page.locator("#model-coefficients svg rect").count();
    assert.equal(bars, model.pipeline.columns.length);
    await page.click("#model-report");
    await page.waitForLoadState("load");
    const figures = await page.locator("svg").evaluateAll((svgs) =>
      svgs.map((s) => {
        const r = s.getBoundingClientRect();
        return r.width > 100 && r.height > 100 && s.querySelectorAll("path, polyline, rect, line").length > 3;
      }),
    );
    assert.ok(figures.length >= 7, `${figures.length} figures`);
    assert.ok(figures.every(Boolean), "every figure has a size and marks");
    const text = await page.locator("body").textContent();
    assert.ok(text.includes(model.training_data.sha256));
    for (const rows of ["train", "test"]) {
      for (const k of ["roc_auc", "accuracy", "log_loss", "brier"]) {
        assert.ok(text.includes(model.metrics[rows][k].toFixed(4)), `${rows} ${k}`);
      }
    }
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test("screenshots of every view, at desktop and phone width, with nothing wider than the screen", async () => {
    for (const [size, viewport] of [
      ["desktop", DESKTOP],
      ["phone", PHONE],
    ]) {
      const page = await open(browser, server.base, viewport);
      await fill(page, ALLEN);
      await page.click("#predict-form button[type=submit]");
      await page.locator("#predict-result svg").waitFor();
      await page.screenshot({ path: join(SHOTS, `${size}-predict.png`), fullPage: true });
      assert.deepEqual(await lowContrast(page), [], `${size} predict: text under WCAG AA contrast`);
      await page.click("nav >> text=Batch");
      await page.setInputFiles("#batch-file", DATASET);
      await page.locator("#batch-download").waitFor({ timeout: 60000 });
      await page.screenshot({ path: join(SHOTS, `${size}-batch.png`) });
      if (size === "desktop") {
        // the dataset's outcomes as feedback on the records just scored, so that the monitor has live figures
        const [download] = await Promise.all([page.waitForEvent("download"), page.click("#batch-download")]);
        const ids = readFileSync(await download.path(), "utf8").trim().split("\n").slice(1).map((l) => l.split(",").at(-1));
        const survived = readFileSync(DATASET, "utf8").trim().split("\n").slice(1).map((l) => Number(l.split(",")[1]));
        const feedback = ids.map((id, i) => ({ id, survived: survived[i] }));
        assert.equal((await api(server.base, "/feedback", { method: "POST", body: { feedback } })).status, 200);
      }
      await page.click("nav >> text=History");
      await page.locator("#history-table").waitFor();
      await page.locator("#history-table button[aria-expanded]").first().click();
      await page.locator("#history-table tr.details svg").waitFor();
      await page.screenshot({ path: join(SHOTS, `${size}-history.png`) });
      assert.deepEqual(await lowContrast(page), [], `${size} history: text under WCAG AA contrast`);
      await page.click("nav >> text=Monitor");
      await page.locator("#monitor-drift svg").waitFor();
      await page.screenshot({ path: join(SHOTS, `${size}-monitor.png`), fullPage: true });
      await page.click("nav >> text=Model card");
      await page.locator("#model-coefficients svg").waitFor();
      await page.screenshot({ path: join(SHOTS, `${size}-model.png`), fullPage: true });
      for (const view of ["predict", "monitor", "model"]) {
        await page.goto(`${server.base}/#${view}`);
        await page.waitForSelector("body[data-ready=true]");
        if (view !== "predict") await page.waitForSelector(`#view-${view} svg`);
        const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(wide <= 0, `${size} ${view}: ${wide}px wider than the screen`);
        assert.deepEqual(await lowContrast(page), [], `${size} ${view}: text under WCAG AA contrast`);
      }
      // the check itself finds pale text
      await page.evaluate(() => {
        const p = document.createElement("p");
        p.id = "pale";
        p.textContent = "pale text";
        p.style.color = "#bbbbbb";
        document.querySelector("main").append(p);
      });
      assert.deepEqual(await lowContrast(page), ["pale text: 1.79"]);
      assert.deepEqual(page.problems, []);
      await page.context().close();
    }
  });
});

describe("with keys", () => {
  const API_KEY = "predict-key-0123456789";
  const ADMIN_KEY = "admin-key-0123456789ab";
  let browser;
  let server;

  before(async () => {
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
    server = await serve({ API_KEY, ADMIN_API_KEY: ADMIN_KEY });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("the page asks for a key once, keeps it in sessionStorage only, and says what a key cannot open", async () => {
    const page = await open(browser, server.base);
    const requests = [];
    page.on("request", (q) => requests.push(q.url()));
    assert.equal(await page.locator("#key-form").isHidden(), true);
    await fill(page, ALLEN);
    await page.click("#predict-form button[type=submit]");
    await page.locator("#key-form").waitFor({ state: "visible" });
    assert.match(await page.locator("#predict-result").textContent(), /needs an access key/);
    await page.fill("#key-input", API_KEY);
    await page.press("#key-input", "Enter");
    await page.click("#predict-form button[type=submit]");
    await page.locator("#predict-result .probability").waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem("classification_api.key")), API_KEY);
    assert.equal(await page.evaluate(() => localStorage.length), 0);
    // the predict key does not open the history
    await page.click("nav >> text=History");
    await page.locator("#history-body .notice.error").waitFor();
    assert.match(await page.locator("#history-body").textContent(), /needs an access key, or the key given is wrong/);
    await page.fill("#key-input", ADMIN_KEY);
    await page.press("#key-input", "Enter");
    await page.locator("#history-table").waitFor();
    assert.ok(requests.every((u) => !u.includes(API_KEY) && !u.includes(ADMIN_KEY)), "no key in a URL");
    await page.context().close();
  });
});

/** Runs the service's image (CLASSIFICATION_IMAGE) on a free loopback port with podman; resolves to its base URL and a stop function. */
async function serveImage(env) {
  const port = await new Promise((ok) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => ok(port));
    });
  });
  const name = `web-test-${process.pid}-${port}`;
  const [podmanBin, ...podmanArgs] = (process.env.PODMAN || "podman").split(/\s+/);
  const podman = [...podmanArgs, "--cgroup-manager=cgroupfs", "--runtime", "runc"];
  const vars = Object.entries({ PORT: String(port), GRPC_PORT: "0", ...env }).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
  execFileSync(podmanBin, [...podman, "run", "-d", "--name", name, "--read-only", "--network", "host",
    "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096", ...vars, process.env.CLASSIFICATION_IMAGE]);
  const base = `http://127.0.0.1:${port}`;
  const started = Date.now();
  for (;;) {
    try {
      if ((await fetch(`${base}/health/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() - started > 30000) throw new Error(`the image did not start: ${execFileSync(podmanBin, [...podman, "logs", name])}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { base, stop: async () => execFileSync(podmanBin, [...podman, "rm", "-f", "-t", "0", name]) };
}

// the image closes the admin views to everyone without the admin key
describe("the image, with the admin key", { skip: !process.env.CLASSIFICATION_IMAGE && "CLASSIFICATION_IMAGE is not set" }, () => {
  const ADMIN_KEY = "admin-key-0123456789ab";
  let browser;
  let server;

  before(async () => {
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
    server = await serveImage({ ADMIN_API_KEY: ADMIN_KEY });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("the history and monitor views work once the admin key is given", async () => {
    const page = await open(browser, server.base);
    await fill(page, ALLEN);
    await page.click("#predict-form button[type=submit]");
    await page.locator("#predict-result .probability").waitFor();
    await page.click("nav >> text=History");
    await page.locator("#key-form").waitFor({ state: "visible" });
    // the 401 that asked for the key is the only problem allowed
    assert.deepEqual(page.problems.map((p) => p.includes("401")), [true]);
    page.problems.length = 0;
    await page.fill("#key-input", ADMIN_KEY);
    await page.press("#key-input", "Enter");
    await page.locator("#history-table tbody tr[data-id]").first().waitFor();
    await page.click("nav >> text=Monitor");
    await page.locator("#monitor-feedback-rows").waitFor();
    await page.locator("#monitor-drift svg").waitFor();
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});
