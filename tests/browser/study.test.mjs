// The study page (inspector/src/study.rs) in a real browser: headless
// Chromium (Debian's package) driven by playwright-core from npm.
//
//   node --test tests/browser/study.test.mjs
//
// Environment:
//   STUDY_PAGES      pages to test, separated by ':' (default: the ones
//                    .ci/run writes under target/study/; a page in a
//                    directory named "script" is a `tour --script --go`
//                    page and gets the checks of a script compared with Go)
//   STUDY_ARTIFACTS  where screenshots go (default target/study/artifacts)
//   PLAYWRIGHT_CORE  the installed package (default
//                    target/browser-tools/node_modules/playwright-core)
//   CHROMIUM         the browser (default /usr/bin/chromium)
// Under CI=true a missing browser or package fails; otherwise the tests skip.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, basename, dirname } from "node:path";
import { pathToFileURL } from "node:url";

const root = resolve(dirname(new URL(import.meta.url).pathname), "../..");
const pages = (process.env.STUDY_PAGES ||
  ["target/study/tour/index.html", "target/study/tour-offline/index.html", "target/study/go/index.html",
    "target/study/script/index.html"].join(":"))
  .split(":").filter(Boolean).map((p) => resolve(root, p));
const artifacts = resolve(root, process.env.STUDY_ARTIFACTS || "target/study/artifacts");
const pwDir = resolve(root, process.env.PLAYWRIGHT_CORE || "target/browser-tools/node_modules/playwright-core");
const chromium = process.env.CHROMIUM || "/usr/bin/chromium";
const ci = process.env.CI === "true";

let missing = null;
if (!existsSync(chromium)) missing = `no browser at ${chromium} (apt-get install chromium)`;
else if (!existsSync(pwDir)) missing = `no playwright-core at ${pwDir} (npm install --prefix target/browser-tools playwright-core)`;
else {
  const absent = pages.filter((p) => !existsSync(p));
  if (absent.length) missing = `pages not generated: ${absent.join(", ")}`;
}
if (missing && ci) throw new Error(`CI=true: ${missing}`);
const skip = missing ? missing : false;

// A laptop window.
const viewport = { width: 1366, height: 768 };

let browser, profile;
before(async () => {
  if (skip) return;
  const { chromium: launcher } = createRequire(import.meta.url)(pwDir);
  profile = mkdtempSync(join(tmpdir(), "gomap-study-profile-"));
  mkdirSync(artifacts, { recursive: true });
  // A fresh profile (--user-data-dir) each run, passed the way
  // playwright wants it.
  browser = await launcher.launchPersistentContext(profile, {
    executablePath: chromium,
    headless: true,
    viewport,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
});
after(async () => {
  if (browser) await browser.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

async function open(file, hash = "") {
  const page = await browser.newPage();
  const errors = [];
  const requests = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("request", (r) => { if (!r.url().startsWith("file:")) requests.push(r.url()); });
  await page.goto(pathToFileURL(file).href + hash);
  await page.waitForLoadState("load");
  return { page, errors, requests };
}

// Hash navigation (a step-list link, or goto with #step-N on the open page)
// reaches the page's hashchange handler asynchronously: wait until the step
// it names is the current one before reading anything (CI once read the
// state first and saw the previous step).
const waitStep = (page, id) =>
  page.waitForFunction((want) => document.querySelector("section.step.cur")?.id === want, id);

const state = (page) => page.evaluate(() => {
  const vis = [...document.querySelectorAll("section.step")].filter((s) => s.offsetParent !== null);
  return {
    count: document.getElementById("count").textContent,
    visible: vis.map((s) => s.id),
    hash: location.hash,
    total: document.querySelectorAll("section.step").length,
  };
});

for (const file of pages) {
  const name = basename(dirname(file));

  test(`${name}: loads with no console errors, valid ids, nothing fetched`, { skip }, async () => {
    const { page, errors, requests } = await open(file);
    const s = await state(page);
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, [], "an offline page fetches nothing");
    assert.ok(s.total >= 2, `${s.total} steps`);
    assert.equal(s.count, `Step 1/${s.total}`);
    assert.deepEqual(s.visible, ["step-1"], "one step shown at a time");
    const dups = await page.evaluate(() => {
      const seen = new Map();
      for (const e of document.querySelectorAll("[id]")) seen.set(e.id, (seen.get(e.id) || 0) + 1);
      return [...seen].filter(([, n]) => n > 1).map(([id, n]) => `${id} x${n}`);
    });
    assert.deepEqual(dups, [], "duplicate ids");
    await page.screenshot({ path: join(artifacts, `${name}-step-1.png`) });
    await page.close();
  });

  test(`${name}: keys and buttons step, deep links land, the picture fits`, { skip }, async () => {
    const { page, errors } = await open(file);
    const total = (await state(page)).total;
    await page.keyboard.press("ArrowRight");
    let s = await state(page);
    assert.equal(s.count, `Step 2/${total}`);
    assert.deepEqual(s.visible, ["step-2"]);
    assert.equal(s.hash, "#step-2");
    await page.click("#next");
    s = await state(page);
    assert.deepEqual([s.count, s.visible[0]], [`Step 3/${total}`, "step-3"]);
    await page.keyboard.press("ArrowLeft");
    assert.equal((await state(page)).count, `Step 2/${total}`);
    await page.keyboard.press("End");
    assert.equal((await state(page)).count, `Step ${total}/${total}`);
    assert.equal(await page.isDisabled("#next"), true);
    // the step list
    await page.click("nav.steps li:nth-child(1) a");
    await waitStep(page, "step-1");
    assert.equal((await state(page)).count, `Step 1/${total}`);
    // a deep link
    const k = Math.min(total, 8);
    const deep = await open(file, `#step-${k}`);
    s = await state(deep.page);
    assert.deepEqual([s.count, s.visible[0]], [`Step ${k}/${total}`, `step-${k}`]);
    // every step's picture fits the window's width
    for (let i = 1; i <= total; i++) {
      const w = await deep.page.evaluate(() => {
        const svg = document.querySelector("section.step.cur .pic svg");
        return svg.getBoundingClientRect().right;
      });
      assert.ok(w <= viewport.width, `step ${i}: picture ends at x=${w}`);
      await deep.page.keyboard.press("ArrowRight");
    }
    assert.deepEqual(deep.errors, []);
    assert.deepEqual(errors, []);
    await deep.page.close();
    await page.close();
  });

  test(`${name}: Go source beside the picture, or links to it online`, { skip }, async () => {
    const { page, errors } = await open(file);
    const embedded = await page.evaluate(() => !!document.getElementById("go-src"));
    if (embedded) {
      // a step that calls mapassign shows its func line highlighted
      const info = await page.evaluate(() => {
        for (const s of document.querySelectorAll("section.step")) {
          if ((s.getAttribute("data-fns") || "").includes("|mapassign|")) return s.id;
        }
        return null;
      });
      assert.ok(info, "some step runs mapassign");
      await page.goto(pathToFileURL(file).href + "#" + info);
      await waitStep(page, info);
      const hl = await page.evaluate(() =>
        [...document.querySelectorAll("section.step.cur .src .hl")].map((e) => e.textContent));
      assert.ok(hl.some((l) => /^\s*620func mapassign\(/.test(l)), `highlighted: ${hl.slice(0, 3)}`);
      // a line reference scrolls the embedded source instead of leaving the page
      await page.click("section.step.cur p.calls a.gl");
      assert.ok((await page.evaluate(() => location.protocol)) === "file:");
    } else {
      const hrefs = await page.evaluate(() =>
        [...document.querySelectorAll("section.step a.gl")].map((a) => a.getAttribute("href")));
      assert.ok(hrefs.length > 0);
      for (const h of hrefs) {
        assert.match(h, /^https:\/\/github\.com\/golang\/go\/blob\/go1\.24\.11\/src\/runtime\/map_noswiss\.go#L\d+(-L\d+)?$/);
      }
    }
    assert.deepEqual(errors, []);
    await page.close();
  });

  test(`${name}: a growth step steps through evacuation bucket by bucket`, { skip }, async () => {
    const { page, errors } = await open(file);
    const id = await page.evaluate(() => {
      const s = document.querySelector("section.step[data-evac]");
      return s ? s.id : null;
    });
    if (!id) {
      await page.close();
      return; // a script with no incremental evacuation
    }
    await page.goto(pathToFileURL(file).href + "#" + id);
    await waitStep(page, id);
    const n = await page.evaluate(() => document.querySelector("section.step.cur").getAttribute("data-evac").split(";").length);
    await page.keyboard.press("]");
    const one = await page.evaluate(() => ({
      info: document.getElementById("evac-info").textContent,
      focus: document.querySelector("section.step.cur .pic svg").classList.contains("focus"),
      hot: document.querySelectorAll("section.step.cur .pic svg g.row.hot").length,
    }));
    assert.match(one.info, new RegExp(`^old bucket \\d+ → X \\[\\d+\\].*\\(1/${n}\\)$`));
    assert.ok(one.focus);
    assert.ok(one.hot >= 2, `${one.hot} rows lit`);
    await page.screenshot({ path: join(artifacts, `${name}-${id}-evacuation.png`) });
    await page.click("#evac-next");
    const info2 = await page.evaluate(() => document.getElementById("evac-info").textContent);
    if (n > 1) assert.match(info2, new RegExp(`\\(2/${n}\\)$`));
    assert.deepEqual(errors, []);
    await page.close();
  });

  if (name === "script") {
    test(`${name}: every step of the script matches real Go, and says so`, { skip }, async () => {
      const { page, errors } = await open(file);
      const total = (await state(page)).total;
      const marks = await page.evaluate(() => ({
        good: document.querySelectorAll("section.step p.verdict.good").length,
        bad: document.querySelectorAll("section.step.differs, nav.steps li.differs, p.verdict.bad").length,
        titles: [...document.querySelectorAll("section.step h2")].map((h) => h.textContent),
      }));
      assert.equal(marks.good, total, "a verdict on every step");
      assert.equal(marks.bad, 0, "no step differs from Go");
      assert.ok(marks.titles.every((t, i) => t.startsWith(`Step ${i + 1}/${total}: line `)), marks.titles[0]);
      // step to the loop that starts mid-growth, by keys, and look at it
      const k = marks.titles.findIndex((t) => t.includes("(mapiterinit)")) + 1;
      assert.ok(k > 1, "the script opens a loop");
      for (let i = 1; i < k; i++) await page.keyboard.press("ArrowRight");
      const s = await state(page);
      assert.deepEqual([s.count, s.visible[0]], [`Step ${k}/${total}`, `step-${k}`]);
      const shown = await page.evaluate(() => ({
        verdict: document.querySelector("section.step.cur p.verdict").textContent,
        go: document.querySelector("section.step.cur .pic svg").textContent.includes("real Go"),
      }));
      assert.equal(shown.verdict, "gomap matches real Go at this step.");
      assert.ok(shown.go, "Go's state is drawn beside gomap's");
      await page.screenshot({ path: join(artifacts, `${name}-step-${k}-loop.png`) });
      assert.deepEqual(errors, []);
      await page.close();
    });
  }
}

