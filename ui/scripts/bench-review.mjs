// Benchmark of the console's review page (今日上报审核) with a day of 2,000 findings, against the brief's
// target: first paint ≤ 1 s in headless Chromium, API answer ≤ 100 ms.
//
//   cargo build --release -p sync-server -p loadgen   # in the repository's root, once
//   npm run build:console          # once, if dist/console is missing
//   npm run bench:review           # = node scripts/bench-review.mjs
//
// It starts `sync-server serve --demo` on a fresh data directory and a free port, serving the built console
// (through the browser tests' harness, `tests/e2e/harness.mjs`, with the release build by default),
// seeds the findings with `loadgen` (inspector1's devices, category E0102 so that they wait for review, all in
// team 一中队, observed now), then measures over RUNS runs and prints the median and the max of:
//   1. GET /api/v1/review?date=<today> as chief1, from Node's fetch: request sent → whole JSON body received,
//      and the body's size (the server sends it uncompressed);
//   2. headless Chromium, a fresh load of /console/#/review with chief1's session already in sessionStorage
//      (as after signing in through the page, or reloading the tab):
//        - first paint and first contentful paint (the paint timing entries),
//        - the list ready: `review-counts` says data-total = N and the table holds the first page's rows
//          (`finding-row`, 50 a page), time of the DOM change and time of the frame after it,
//        - the browser's own timing of the GET /review it made;
//      once with the HTTP cache as after signing in ("warm": same tab, after the sign-in page loaded the
//      console's files), once in a new browser context with an empty cache ("cold").
// Exits non-zero when seeding or a measurement fails.
//
// Environment: SYNC_SERVER_BIN, LOADGEN_BIN (default ../target/release/…), CHROMIUM_BIN (/usr/bin/chromium),
// CONSOLE_DIR (dist/console), FINDINGS (2000), RUNS (7). Uses the system's Chromium through playwright-core;
// no browser is downloaded.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

// The harness reads the server binary's path when it is loaded: the release build unless told otherwise.
process.env.SYNC_SERVER_BIN ??= '../target/release/sync-server';
const { CHROMIUM_ARGS, CHROMIUM_BIN, CONSOLE_DIR, SERVER_BIN, cleanupTemp, startServer, today, uiDir } = await import(
  '../tests/e2e/harness.mjs'
);

const loadgenBin = process.env.LOADGEN_BIN ?? resolve(uiDir, '../target/release/loadgen');
const FINDINGS = Number(process.env.FINDINGS ?? 2000);
const RUNS = Number(process.env.RUNS ?? 7);
/** The review table's page size (FindingsTab.vue's PAGE_SIZE). */
const PAGE_SIZE = 50;
const SESSION_KEY = 'tiejiaoban.console.session';

for (const [what, path] of [
  ['sync-server', SERVER_BIN],
  ['loadgen', loadgenBin],
  ['Chromium', CHROMIUM_BIN],
  ['the built console', join(CONSOLE_DIR, 'index.html')],
]) {
  if (!existsSync(path)) {
    console.error(`missing ${what}: ${path}${what === 'the built console' ? ' (run `npm run build:console`)' : ''}`);
    process.exit(2);
  }
}

const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
let server = null;
let browser = null;

async function main() {
  const loadBefore = load();
  console.log(`load average before: ${loadBefore}`);

  // --- server ------------------------------------------------------------------------------------------------
  server = await startServer();
  const origin = server.origin.replace(/\/$/, '');
  console.log(`sync-server at ${origin}, data ${server.data}`);

  // --- seed ----------------------------------------------------------------------------------------------------
  const seedArgs = ['--server', origin, '--mode', 'ingest', '--devices', '20', '--findings', String(FINDINGS),
    '--batch', '100', '--category', 'E0102', '--username', 'inspector1'];
  const seeded = await new Promise((done) => {
    const p = spawn(loadgenBin, seedArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (c) => (out += c));
    p.stderr.on('data', (c) => (out += c));
    p.on('exit', (code) => done({ code, out: out.trim() }));
  });
  console.log(`loadgen ${seedArgs.slice(2).join(' ')}\n  ${seeded.out.split('\n').join('\n  ')}`);
  if (seeded.code !== 0) throw new Error(`seeding failed: loadgen exited with ${seeded.code}`);

  // --- API -----------------------------------------------------------------------------------------------------
  const signIn = await fetch(`${origin}/api/v1/sessions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ username: 'chief1', password: 'demo1234' }),
  });
  if (signIn.status !== 201) throw new Error(`POST /sessions as chief1: HTTP ${signIn.status}`);
  const { token } = await signIn.json();
  const date = today();
  const reviewUrl = `${origin}/api/v1/review?date=${date}`;

  async function timeReview() {
    const t0 = performance.now();
    const res = await fetch(reviewUrl, { headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' } });
    const body = await res.arrayBuffer();
    const ms = performance.now() - t0;
    if (res.status !== 200) throw new Error(`GET /review: HTTP ${res.status}`);
    return { ms, bytes: body.byteLength, body, encoding: res.headers.get('content-encoding') ?? 'identity' };
  }

  const first = await timeReview();
  const count = JSON.parse(Buffer.from(first.body).toString('utf8')).findings.length;
  if (count !== FINDINGS) throw new Error(`seeding failed: GET /review?date=${date} lists ${count} findings, not ${FINDINGS}`);
  console.log(`GET /review?date=${date}: ${count} findings, ${first.bytes} bytes (${first.encoding}); first call ${first.ms.toFixed(1)} ms`);
  const api = [];
  for (let i = 0; i < RUNS; i++) api.push((await timeReview()).ms);

  // --- browser -------------------------------------------------------------------------------------------------
  browser = await chromium.launch({ executablePath: CHROMIUM_BIN, headless: true, args: CHROMIUM_ARGS });
  const contextOptions = { viewport: { width: 1440, height: 900 }, locale: 'zh-CN' };
  const reviewPage = `${origin}/console/#/review`;
  const problems = [];

  // Installed before the console's scripts: records when the list is complete (in the DOM, and the frame after).
  const probe = ({ total, rows }) => {
    const mark = { dom: null, frame: null };
    window.__benchList = mark;
    const check = () => {
      if (mark.dom !== null) return;
      const counts = document.querySelector('[data-testid="review-counts"]');
      if (!counts || counts.getAttribute('data-total') !== String(total)) return;
      if (document.querySelectorAll('[data-testid="finding-row"]').length < rows) return;
      mark.dom = performance.now();
      // The frame that shows it: rAF runs before its paint, a message posted from there after it.
      requestAnimationFrame(() => {
        const ch = new MessageChannel();
        ch.port1.onmessage = () => (mark.frame = performance.now());
        ch.port2.postMessage(null);
      });
    };
    new MutationObserver(check).observe(document, { childList: true, subtree: true, attributes: true });
  };
  const probeArg = { total: FINDINGS, rows: Math.min(PAGE_SIZE, FINDINGS) };

  function watchProblems(page, label) {
    page.on('pageerror', (e) => problems.push(`${label}: page error: ${e.message}`));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`${label}: HTTP ${r.status()} ${r.request().method()} ${r.url()}`);
    });
  }

  /** Loads the review route in `page` (a new document) and reads the timings. */
  async function measureLoad(page) {
    await page.goto(reviewPage, { waitUntil: 'commit' });
    await page.waitForFunction(() => window.__benchList?.frame != null, null, { timeout: 20000, polling: 50 });
    return page.evaluate(() => {
      const paint = Object.fromEntries(performance.getEntriesByType('paint').map((e) => [e.name, e.startTime]));
      const api = performance
        .getEntriesByType('resource')
        .find((e) => e.name.includes('/api/v1/review?'));
      return {
        fp: paint['first-paint'] ?? NaN,
        fcp: paint['first-contentful-paint'] ?? NaN,
        listDom: window.__benchList.dom,
        listFrame: window.__benchList.frame,
        apiStart: api ? api.startTime : NaN,
        apiMs: api ? api.responseEnd - api.startTime : NaN,
        hash: location.hash,
      };
    });
  }

  const warm = [];
  const cold = [];
  for (let run = 0; run < RUNS; run++) {
    // Sign in through the page, as a chief does; the console keeps the session in sessionStorage.
    const context = await browser.newContext(contextOptions);
    await context.addInitScript(probe, probeArg);
    const page = await context.newPage();
    watchProblems(page, `run ${run + 1}`);
    await page.goto(`${origin}/console/#/sign-in`);
    await page.getByTestId('username').fill('chief1');
    await page.getByTestId('password').fill('demo1234');
    await page.getByTestId('sign-in-submit').click();
    await page.getByTestId('welcome').waitFor();
    await page.waitForFunction(() => window.__benchList?.frame != null, null, { timeout: 20000 });
    const stored = await page.evaluate((key) => sessionStorage.getItem(key), SESSION_KEY);
    if (!stored) throw new Error('no session in sessionStorage after signing in');

    // Warm: the same tab loads #/review as a new document (like a reload); the session and the HTTP cache
    // are those left by the sign-in.
    await page.goto('about:blank');
    const w = await measureLoad(page);
    if (w.hash !== '#/review') throw new Error(`warm load ended on ${w.hash}, not #/review`);
    warm.push(w);
    await context.close();

    // Cold: a new context (empty HTTP cache) with the same session placed in sessionStorage before the
    // console starts.
    const coldContext = await browser.newContext(contextOptions);
    await coldContext.addInitScript(
      ({ key, value, origin: o }) => {
        if (location.origin === o && !sessionStorage.getItem(key)) sessionStorage.setItem(key, value);
      },
      { key: SESSION_KEY, value: stored, origin },
    );
    await coldContext.addInitScript(probe, probeArg);
    const coldPage = await coldContext.newPage();
    watchProblems(coldPage, `run ${run + 1} cold`);
    const c = await measureLoad(coldPage);
    if (c.hash !== '#/review') throw new Error(`cold load ended on ${c.hash}, not #/review`);
    cold.push(c);
    await coldContext.close();
  }
  const chromiumVersion = browser.version();
  await browser.close();
  browser = null;
  const loadAfter = load();

  // --- report --------------------------------------------------------------------------------------------------
  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  };
  const fmt = (x) => (Number.isFinite(x) ? `${x.toFixed(x < 100 ? 1 : 0)} ms` : 'n/a');
  const row = (name, xs, target = '') => {
    const ok = target ? (Math.max(...xs) <= target.limit ? ' ✓' : median(xs) <= target.limit ? ' ✓ (median)' : ' ✗') : '';
    console.log(`| ${name} | ${fmt(median(xs))} | ${fmt(Math.max(...xs))} | ${target ? `≤ ${target.limit} ms${ok}` : ''} |`);
  };
  console.log(`\nreview page, ${FINDINGS} findings of ${date}, ${RUNS} runs (median, max); JSON ${first.bytes} bytes ${first.encoding}`);
  console.log(`${new Date().toISOString()}, Chromium ${chromiumVersion} headless, Node ${process.version}`);
  console.log('| measure | median | max | target |');
  console.log('|---|---|---|---|');
  row('API: GET /review, Node fetch, whole body', api, { limit: 100 });
  for (const [label, xs] of [['warm', warm], ['cold', cold]]) {
    row(`browser ${label}: first paint`, xs.map((x) => x.fp), { limit: 1000 });
    row(`browser ${label}: first contentful paint`, xs.map((x) => x.fcp), { limit: 1000 });
    row(`browser ${label}: GET /review in the page (start → body)`, xs.map((x) => x.apiMs));
    row(`browser ${label}: GET /review sent at`, xs.map((x) => x.apiStart));
    row(`browser ${label}: list complete in the DOM`, xs.map((x) => x.listDom));
    row(`browser ${label}: list complete, next frame`, xs.map((x) => x.listFrame));
  }
  console.log(`\nload average before: ${loadBefore}; after: ${loadAfter} (1, 5, 15 min)`);
  if (problems.length) {
    console.log('\nbrowser problems:');
    for (const p of problems) console.log(`  ${p}`);
  }
}

try {
  await main();
} catch (e) {
  console.error(`\nbench-review failed: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser?.close().catch(() => undefined);
  await server?.stop();
  cleanupTemp();
}
