// End-to-end test of the phone app: the REAL app binary (Tauri 2, WebKitGTK) driven through tauri-driver
// and WebKitWebDriver, against the real sync server. One inspector's day, in order:
//
//   register against the server → start a patrol → the server goes down → report a finding with a photo
//   → it waits on the phone → the server comes back → sync → the finding has its case number → the
//   department handles the case (server API) → the verification task arrives → pass it with a photo →
//   sync → the case is closed on the server → restart the app → everything is still there.
//
// Screenshots of the main screens at phone size (the app's window is 400×820) go to $APP_SCREENSHOT_DIR.
//
// Run it with scripts/app-e2e.sh (Xvfb + tauri-driver, then this file), or by hand from the repo root:
//   node --test --test-reporter=tap tests/app-e2e/app.test.mjs
//
// Environment:
//   TIEJIAOBAN_APP     the app binary (default target/debug/tiejiaoban-app, built with the
//                      `custom-protocol` feature so the front end is embedded)
//   SYNC_SERVER_BIN    the server (default target/debug/sync-server)
//   TAURI_DRIVER_URL   a running tauri-driver (e.g. http://127.0.0.1:4444), started with the app's
//                      environment (TIEJIAOBAN_HOME, TIEJIAOBAN_SIM_LOCATION, WEBKIT_DISABLE_COMPOSITING_MODE,
//                      DISPLAY): scripts/app-e2e.sh does this. Without it the test starts its own
//                      tauri-driver ($TAURI_DRIVER_BIN, default tauri-driver on PATH or ~/.cargo/bin) on the
//                      display $DISPLAY.
//   TIEJIAOBAN_HOME    the app's store, given to the app by tauri-driver; must be fresh (not registered).
//   APP_SCREENSHOT_DIR where screenshots and the server's log go (default tests/app-e2e/screenshots)
//   APP_E2E_NATIVE_DRIVER=1  TAURI_DRIVER_URL is a bare WebKitWebDriver (debugging aid: capabilities are
//                      sent in its own format, as tauri-driver would translate them)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Session, ready, testid, waitFor } from './webdriver.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const APP_BIN = path.resolve(repoRoot, process.env.TIEJIAOBAN_APP ?? 'target/debug/tiejiaoban-app');
const SERVER_BIN = path.resolve(repoRoot, process.env.SYNC_SERVER_BIN ?? 'target/debug/sync-server');
const PHOTOS = path.resolve(repoRoot, '../shared/fixtures/photos');
const REPORT_PHOTO = path.join(PHOTOS, 'orientation-landscape-1.jpg');
const TASK_PHOTO = path.join(PHOTOS, 'orientation-portrait-6.jpg');
const SCREENSHOT_DIR = path.resolve(repoRoot, process.env.APP_SCREENSHOT_DIR ?? 'tests/app-e2e/screenshots');
const SIM_LOCATION = process.env.TIEJIAOBAN_SIM_LOCATION ?? '41.7968,123.4328,6';
const NATIVE = process.env.APP_E2E_NATIVE_DRIVER === '1';
const PASSWORD = 'demo1234';
/** 上水井盖: reviewed automatically, so a synced finding is filed (and dispatched to SW) at once. */
const CATEGORY = 'C0101';
const DESCRIPTION = '井盖缺失 e2e';

// --- small helpers --------------------------------------------------------------------------------------

const temps = [];
function tempDir(prefix) {
  const dir = mkdtempSync(path.join(tmpdir(), `tjb-app-e2e-${prefix}-`));
  temps.push(dir);
  return dir;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Waits for a child process to exit (resolves at once when it already has). */
function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

// --- the sync server --------------------------------------------------------------------------------------

/** `sync-server serve --demo` on `data`, listening on `listen`; can be killed and started again. */
class Server {
  constructor(data) {
    this.data = data;
    this.log = '';
    this.child = null;
    this.origin = null;
  }

  /** Starts the server; the first start picks a free port, later starts reuse it. */
  start() {
    const listen = this.origin ? new URL(this.origin).host : '127.0.0.1:0';
    return new Promise((resolve, reject) => {
      const child = spawn(SERVER_BIN, ['serve', '--data', this.data, '--listen', listen, '--demo'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      this.child = child;
      let stdout = '';
      let settled = false;
      child.stdout.setEncoding('utf8');
      child.stderr.setEncoding('utf8');
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
        this.log += chunk;
        const m = /^listening on (http:\/\/[^\s]+)\s*$/m.exec(stdout);
        if (m && !settled) {
          settled = true;
          this.origin = m[1];
          resolve(this.origin);
        }
      });
      child.stderr.on('data', (chunk) => (this.log += chunk));
      child.on('error', (e) => {
        if (!settled) {
          settled = true;
          reject(e);
        }
      });
      child.on('exit', (code, signal) => {
        this.log += `\n[sync-server exited: ${code ?? signal}]\n`;
        if (!settled) {
          settled = true;
          reject(new Error(`sync-server exited (${code ?? signal}) before listening:\n${this.log}`));
        }
      });
    });
  }

  /** Kills the server (as a crash or a lost connection would make it unreachable) and waits for the exit. */
  async kill() {
    const child = this.child;
    if (!child) return;
    const gone = exited(child);
    child.kill('SIGKILL');
    await gone;
    this.child = null;
  }

  async stop() {
    const child = this.child;
    if (!child) return;
    const gone = exited(child);
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
    this.child = null;
  }

  /** Whether the health endpoint answers (false while the server is down). */
  async healthy() {
    try {
      const r = await fetch(`${this.origin}/api/v1/health`);
      return r.ok;
    } catch {
      return false;
    }
  }

  async api(method, urlPath, token, body) {
    const r = await fetch(`${this.origin}/api/v1${urlPath}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    const json = text ? JSON.parse(text) : null;
    if (!r.ok) throw new Error(`${method} ${urlPath} → ${r.status}: ${text}`);
    return json;
  }
}

// --- tauri-driver -------------------------------------------------------------------------------------------

function tauriDriverBin() {
  if (process.env.TAURI_DRIVER_BIN) return process.env.TAURI_DRIVER_BIN;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, 'tauri-driver'))) return path.join(dir, 'tauri-driver');
  }
  return path.join(homedir(), '.cargo/bin/tauri-driver');
}

/**
 * The WebDriver endpoint: the one given in TAURI_DRIVER_URL (with the home it was started with), or a
 * tauri-driver of our own on free ports with a fresh home.
 */
async function startDriver() {
  if (process.env.TAURI_DRIVER_URL) {
    const home = process.env.TIEJIAOBAN_HOME;
    if (!home) throw new Error('TAURI_DRIVER_URL is set but TIEJIAOBAN_HOME is not: say where the app store is');
    return { url: process.env.TAURI_DRIVER_URL, home, stop: async () => {} };
  }
  if (!process.env.DISPLAY) {
    throw new Error('no DISPLAY: run scripts/app-e2e.sh (it starts Xvfb and tauri-driver), or set DISPLAY');
  }
  const bin = tauriDriverBin();
  if (!existsSync(bin)) throw new Error(`no tauri-driver at ${bin}: cargo install tauri-driver --locked`);
  const home = path.join(tempDir('home'), 'store');
  const [port, nativePort] = [await freePort(), await freePort()];
  let log = '';
  const child = spawn(bin, ['--port', String(port), '--native-port', String(nativePort)], {
    env: {
      ...process.env,
      TIEJIAOBAN_HOME: home,
      TIEJIAOBAN_SIM_LOCATION: SIM_LOCATION,
      WEBKIT_DISABLE_COMPOSITING_MODE: '1',
    },
    // Its own process group: WebKitWebDriver and the app it launches are ended with it.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (c) => (log += c));
  child.stderr.on('data', (c) => (log += c));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => child.exitCode === null && (await ready(url)), {
    timeout: 30_000,
    message: `tauri-driver on ${url} (log: ${log})`,
  });
  return {
    url,
    home,
    log: () => log,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = exited(child);
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

// --- the app ------------------------------------------------------------------------------------------------

/**
 * WebKitGTK answers a screenshot only after its next rendering update; on a still page (no animation, no
 * ticking timer) none comes and the command waits forever. A one-pixel, practically transparent element
 * with a CSS animation keeps rendering updates coming. It changes nothing the tests look at.
 */
const RENDER_PUMP = `
  if (!document.getElementById('__e2e_pump')) {
    const d = document.createElement('div');
    d.id = '__e2e_pump';
    d.setAttribute('aria-hidden', 'true');
    d.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;pointer-events:none;opacity:0.01;z-index:-1';
    const s = document.createElement('style');
    s.textContent = '@keyframes __e2e_pump{from{transform:translateX(0)}to{transform:translateX(1px)}}' +
      '#__e2e_pump{animation:__e2e_pump .25s linear infinite alternate}';
    d.appendChild(s);
    document.body.appendChild(d);
  }
  return true;`;

/** Starts the app (a new WebDriver session) and waits until its first screen is up. */
async function launchApp(driver) {
  const capabilities = NATIVE
    ? { 'webkitgtk:browserOptions': { binary: APP_BIN, args: [] } }
    : { browserName: 'wry', 'tauri:options': { application: APP_BIN } };
  const session = await Session.create(driver.url, capabilities);
  session.timeout = 30_000;
  // The shell answered `status` and routed: either the register screen or the tab bar is there.
  await session.waitFor(`${testid('register-form')}, ${testid('tabbar')}`, { timeout: 60_000, message: 'the app\'s first screen' });
  await session.execute(RENDER_PUMP);
  return session;
}

/** Waits until no Vant toast is showing (a toast lies over the middle of the screen and takes clicks). */
async function noToast(app) {
  await waitFor(
    async () => {
      for (const toast of await app.findAll('.van-toast')) if (await toast.displayed()) return false;
      return true;
    },
    { timeout: 15_000, message: 'the toast to go away' },
  );
}

/**
 * Clicks like a thumb: waits for any toast to go, scrolls the element to the middle of the window (clear of
 * the fixed bars), then clicks it.
 */
async function tap(app, css, options = {}) {
  await noToast(app);
  const el = await app.waitFor(css, { visible: true, ...options });
  await app.execute('arguments[0].scrollIntoView({ block: "center", inline: "nearest" }); return true;', [el]);
  await el.click();
  return el;
}

/** Opens a tab of the bottom bar and waits for its route; from a detail screen, goes back first. */
async function openTab(app, tab, route) {
  if (!(await app.find(testid('tabbar')))) {
    await tap(app, '.van-nav-bar__left');
    await app.waitFor(testid('tabbar'), { message: 'the tab bar after going back' });
  }
  await tap(app, testid(`tab-${tab}`));
  await app.waitRoute(route);
}

/** Confirms the Vant dialog that is open. */
async function confirmDialog(app) {
  await tap(app, '.van-dialog__confirm', { message: 'the confirmation dialog' });
}

async function attr(app, css, name) {
  const el = await app.waitFor(css);
  return el.attribute(name);
}

/** Presses 立即同步 on the sync page and waits until that run is over; returns whether it failed. */
async function syncNow(app) {
  await openTab(app, 'sync', '/sync');
  // A background run may be under way; ours starts when the button is free again.
  await app.waitFor(`${testid('sync-now')}:not([disabled])`, { timeout: 60_000 });
  await tap(app, testid('sync-now'));
  // The run shows (button busy), then ends (button free again).
  await waitFor(
    async () => {
      const running = await app.find(testid('sync-running'));
      const disabled = await app.find(`${testid('sync-now')}[disabled]`);
      const toast = await app.find('.van-toast--success, .van-toast--fail');
      return running || disabled || toast;
    },
    { timeout: 30_000, message: 'the sync to start' },
  );
  await app.waitFor(`${testid('sync-now')}:not([disabled])`, { timeout: 120_000, message: 'the sync to end' });
  return !!(await app.find(testid('sync-error')));
}

/** Opens 手动定位 on the report, taps the map at a fraction of its width and height, and returns the latitude
 * the coordinates then hold (the pin's, in WGS-84). */
async function placePin(app, fx, fy) {
  await tap(app, testid('report-manual'));
  await app.waitFor(testid('report-manual-popup', { opened: 'true' }), { message: 'the pin popup open' });
  await app.waitFor('.pin-map .leaflet-marker-draggable', { visible: true, message: 'the pin on the map' });
  const latField = 'return document.querySelector("[data-testid=report-manual-lat]").value';
  const before = await app.execute(latField);
  await app.execute(
    `const map = document.querySelector('.pin-map .leaflet-container');
     const r = map.getBoundingClientRect();
     map.dispatchEvent(new MouseEvent('click', { bubbles: true, clientX: r.left + r.width * arguments[0], clientY: r.top + r.height * arguments[1] }));
     return true;`,
    [fx, fy],
  );
  await waitFor(async () => (await app.execute(latField)) !== before, { message: 'the coordinates to follow the pin' });
  return Number(await app.execute(latField));
}

/** Uses the pin placed and waits for the popup to be gone. */
async function applyPin(app) {
  await tap(app, testid('report-manual-apply'));
  await app.waitFor(testid('report-position', { source: 'manual' }));
  await waitFor(async () => !(await (await app.find(testid('report-manual-popup')))?.displayed()), {
    message: 'the pin popup to close',
  });
}

const shots = [];
async function shot(app, name, { toast = false } = {}) {
  if (!toast) await noToast(app);
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  writeFileSync(file, await app.screenshot());
  shots.push(file);
  return file;
}

// --- the test -----------------------------------------------------------------------------------------------

let server;
let driver;
let app;
/** What the steps hand on to each other. */
const s = {};
let failed = null;

/** A step of the story: skipped once an earlier one failed (it would fail for the same reason). */
function step(name, fn, timeout = 180_000) {
  it(name, { timeout }, async (t) => {
    if (failed) return t.skip(`an earlier step failed: ${failed}`);
    try {
      await fn();
    } catch (e) {
      failed = name;
      if (app) {
        const file = `failed-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`;
        await shot(app, file, { toast: true }).catch(() => undefined);
      }
      throw e;
    }
  });
}

// Interrupted (Ctrl-C, or scripts/app-e2e.sh ending): stop the app and the server rather than leave them.
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
  process.once(signal, () => {
    const stops = [app?.delete().catch(() => undefined), driver?.stop(), server?.kill()];
    Promise.allSettled(stops).finally(() => {
      for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
      process.exit(code);
    });
  });
}

describe('phone app (real binary under tauri-driver): an inspector\'s day, offline and back', () => {
  before(async () => {
    for (const [what, file] of [
      ['the app binary (cargo build -p tiejiaoban-app --features custom-protocol)', APP_BIN],
      ['the sync server (cargo build --bins)', SERVER_BIN],
      ['the fixture photo', REPORT_PHOTO],
    ]) {
      if (!existsSync(file)) throw new Error(`missing ${what}: ${file}`);
    }
    // Screenshots of an older run's failure would mislead.
    if (existsSync(SCREENSHOT_DIR)) {
      for (const f of readdirSync(SCREENSHOT_DIR)) if (f.startsWith('failed-')) rmSync(path.join(SCREENSHOT_DIR, f));
    }
    server = new Server(tempDir('server'));
    await server.start();
    driver = await startDriver();
    if (existsSync(path.join(driver.home, 'device.sqlite'))) {
      throw new Error(`TIEJIAOBAN_HOME ${driver.home} already holds a store: give the app a fresh directory`);
    }
  });

  after(async () => {
    await app?.delete().catch(() => undefined);
    await driver?.stop();
    await server?.stop();
    if (server) {
      mkdirSync(SCREENSHOT_DIR, { recursive: true });
      writeFileSync(path.join(SCREENSHOT_DIR, 'sync-server.log'), server.log);
    }
    if (driver?.log) writeFileSync(path.join(SCREENSHOT_DIR, 'tauri-driver.log'), driver.log());
    for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
    if (shots.length) console.log(`screenshots:\n${shots.map((f) => `  ${f}`).join('\n')}`);
  });

  step('the app starts on the register screen, at phone size, with its store in TIEJIAOBAN_HOME', async () => {
    app = await launchApp(driver);
    await app.waitFor(testid('register-form'), { visible: true });
    const [width, height] = await app.execute('return [window.innerWidth, window.innerHeight]');
    assert.equal(width, 400, 'the window is 400 px wide');
    assert.ok(height >= 700 && height <= 820, `the page is phone-tall (${height} px)`);
    // tauri-driver handed its environment to the app: the store lives where TIEJIAOBAN_HOME says.
    assert.ok(existsSync(path.join(driver.home, 'device.sqlite')), `the store is in ${driver.home}`);
    await shot(app, '01-register');
  });

  // Vant's icons are a font embedded in its CSS as a data: URL. The app's CSP (src-tauri/tauri.conf.json,
  // app.security.csp) has no font-src, so default-src applies and WebKit refuses the font: every icon shows
  // as an empty box in the built app (not in `npm run dev:app`, which has no CSP). Fixed by adding
  // "font-src 'self' data:" to the CSP; the check stays a TODO until the app is rebuilt with it.
  it('the icon font loads (Vant icons are visible)', { timeout: 60_000 }, async (t) => {
    if (failed || !app) return t.skip('the app did not start');
    const loaded = await app.executeAsync(`const done = arguments[arguments.length - 1];
      document.fonts.load('16px vant-icon').then((f) => done(f.length), (e) => done(String(e)));`);
    assert.equal(loaded, 1, `the vant-icon font loads (got ${loaded})`);
  });

  step('registers against the real server and lands on the home screen', async () => {
    await app.type(testid('register-server'), server.origin);
    await app.type(testid('register-username'), 'inspector1');
    await app.type(testid('register-password'), PASSWORD);
    await app.type(testid('register-device-name'), 'e2e 手机');
    await tap(app, testid('register-submit'));
    await app.waitRoute('/home', { timeout: 60_000 });
    await app.waitFor(testid('home-patrol', { state: 'idle' }));
    // The server knows the device now.
    const { token } = await server.api('POST', '/sessions', null, { username: 'admin', password: PASSWORD });
    s.adminToken = token;
    const { devices } = await server.api('GET', '/devices', token);
    assert.ok(
      devices.some((d) => JSON.stringify(d).includes('inspector1')),
      `the server lists the app's device: ${JSON.stringify(devices)}`,
    );
    // The settings show what was registered, and the dictionary came with it.
    await openTab(app, 'settings', '/settings');
    await app.waitText(testid('settings-server'), server.origin);
    await app.waitText(testid('settings-username'), 'inspector1');
    await app.waitText(testid('settings-dictionary-version'), /\d/);
    await shot(app, '02-settings');
  });

  step('starts a patrol: the timer runs and the simulated GPS adds track points', async () => {
    await openTab(app, 'home', '/home');
    await tap(app, testid('patrol-start'));
    await app.waitFor(testid('home-patrol', { state: 'running' }));
    // The timer ticks: it leaves 0:00:00.
    await app.waitText(testid('patrol-timer'), /^\d+:\d\d:(0[1-9]|[1-5]\d)$|^\d+:(0[1-9]|[1-5]\d):\d\d$/, {
      message: 'the patrol timer to tick past 0:00:00',
    });
    await waitFor(async () => Number(await (await app.find(testid('patrol-points')))?.text()) >= 1, {
      timeout: 60_000,
      message: 'a track point from the simulated position',
    });
    await shot(app, '03-home-patrol');
  });

  step('the server goes down; a finding with a photo is saved on the phone', async () => {
    await server.kill();
    assert.equal(await server.healthy(), false, 'the server is down');

    await tap(app, testid('home-report'));
    await app.waitRoute('/report');
    // The simulated GPS fix.
    await app.waitFor(testid('report-position', { source: 'gps' }), { timeout: 30_000 });
    const lat = Number(await attr(app, testid('report-position'), 'data-lat'));
    assert.ok(Math.abs(lat - 41.7968) < 1e-6, `the simulated latitude (${lat})`);

    // A photo from the gallery input: WebKitWebDriver sets the file, the app sends it to Rust in chunks.
    const input = await app.waitFor(testid('report-photo-gallery-input'));
    await input.sendKeys(REPORT_PHOTO);
    await app.waitFor(testid('report-photos', { count: 1 }), { timeout: 60_000, message: 'the photo to be processed' });
    await app.waitGone(testid('report-photo-pending'));
    const sha = await attr(app, testid('report-photo-item'), 'data-sha256');
    assert.match(sha, /^[0-9a-f]{64}$/);
    s.photoSha = sha;
    // The thumbnail comes from the app's photo scheme and shows.
    await waitFor(
      () => app.execute(`const img = document.querySelector('[data-testid="report-photo-item"] img'); return !!img && img.complete && img.naturalWidth > 0;`),
      { message: 'the photo thumbnail to load' },
    );

    // The problem is a few metres from where the inspector stands: a pin on the (schematic) map, placed with
    // the server down; the phone's own fix goes with it.
    s.pinnedLat = await placePin(app, 0.55, 0.45);
    await applyPin(app);

    await tap(app, testid('report-category'));
    await app.waitFor(testid('category-picker'), { visible: true });
    // The picker slides up: a tap while it moves can land beside the option it aimed at.
    await waitFor(
      async () => app.execute(`return !document.querySelector('[class*="van-popup-slide-bottom-enter"]');`),
      { message: 'the category picker to stop moving' },
    );
    await app.type(testid('category-search'), CATEGORY);
    // The option among the search results: before the query lands, the same code is also in the browse list,
    // which the search then replaces (a tap there can hit an element on its way out); and while the results of
    // the code's first characters still shrink to the one, the option moves under the tap. So: one result first.
    await waitFor(
      async () =>
        (await app.execute(`return document.querySelectorAll('.scroll:not(.list) [data-testid="category-option"]').length`)) === 1,
      { message: 'the search to settle on one category' },
    );
    await tap(app, `.scroll:not(.list) ${testid('category-option', { code: CATEGORY })}`);
    await app.waitFor(testid('report-category', { code: CATEGORY }));
    await waitFor(async () => !(await (await app.find(testid('category-picker')))?.displayed()), {
      message: 'the category picker to close',
    });

    await app.type(testid('report-description'), DESCRIPTION);
    // The photos at the top, as the inspector sees the screen first.
    await app.execute('window.scrollTo(0, 0); return true;');
    await shot(app, '04-report');

    await tap(app, testid('report-save'));
    await app.waitRoute('/home');
  });

  step('it waits on the phone: home counts it, the sync fails, my reports show it queued', async () => {
    await waitFor(async () => Number(await attr(app, testid('home-pending'), 'data-count')) >= 1, {
      message: 'the home screen to count the waiting record',
    });
    // Saving woke the background sync, which could not reach the server.
    await app.waitFor(testid('home-sync-result', { result: 'error' }), { timeout: 60_000 });

    await openTab(app, 'findings', '/findings');
    const row = await app.waitFor(testid('findings-row', { 'local-state': 'queued' }));
    s.findingId = await row.attribute('data-id');
    assert.match(s.findingId, /^[0-9a-f-]{36}$/);
    assert.equal(await row.attribute('data-case-no'), '');
    await app.waitFor(`${testid('findings-row', { id: s.findingId })} ${testid('findings-row-state', { key: 'queued' })}`);
    assert.match(await row.text(), /上水井盖/);
    await shot(app, '05-findings-waiting');

    // Syncing by hand says why it cannot.
    const failedSync = await syncNow(app);
    assert.ok(failedSync, 'the sync page shows an error while the server is down');
    assert.ok(Number(await attr(app, testid('sync-pending'), 'data-count')) >= 1, 'records still wait');
    await shot(app, '06-sync-server-down');
  });

  step('the server comes back; a sync sends it and the finding gets its case number', async () => {
    await server.start();
    assert.ok(await server.healthy(), 'the server is up again');
    const failedSync = await syncNow(app);
    assert.ok(!failedSync, 'the sync succeeded');
    await app.waitFor(testid('sync-pending', { count: 0 }));
    await shot(app, '07-sync-done');

    await openTab(app, 'findings', '/findings');
    const row = await app.waitFor(`${testid('findings-row', { id: s.findingId })}:not([data-case-no=""])`, {
      message: 'the finding with a case number',
    });
    s.caseNo = await row.attribute('data-case-no');
    assert.match(s.caseNo, /^[A-Za-z0-9-]+$/);
    assert.notEqual(await row.attribute('data-local-state'), 'queued');
    assert.equal(await row.attribute('data-server-state'), 'filed');
    assert.equal(await row.attribute('data-case-state'), 'dispatched');
    await app.waitText(testid('findings-row', { id: s.findingId }), s.caseNo);
    await shot(app, '08-findings-case-no');

    // The server holds the case, with the app's photo.
    const theCase = await server.api('GET', `/cases/${encodeURIComponent(s.caseNo)}`, s.adminToken);
    assert.equal(theCase.category, CATEGORY);
    assert.equal(theCase.state, 'dispatched', 'an auto-reviewed category is dispatched at once');
    assert.equal(theCase.department, 'SW');
    assert.ok(JSON.stringify(theCase.findings).includes(s.photoSha), 'the case carries the photo the app sent');
    // Both positions: the pin as the finding's place, the phone's fix beside it.
    const [sent] = theCase.findings;
    assert.equal(sent.location.source, 'manual');
    assert.ok(Math.abs(sent.location.lat - s.pinnedLat) < 1e-6, `the pin (${sent.location.lat} ≈ ${s.pinnedLat})`);
    assert.ok(sent.gps && Math.abs(sent.gps.lat - Number(SIM_LOCATION.split(',')[0])) < 1e-6, `the phone's fix beside it: ${JSON.stringify(sent.gps)}`);

    // The detail screen shows the case too.
    await tap(app, testid('findings-row', { id: s.findingId }));
    await app.waitFor(testid('finding-detail', { id: s.findingId }));
    await app.waitText(testid('detail-case-no'), s.caseNo);
    await app.waitFor(testid('detail-photo', { sha256: s.photoSha }));
    await shot(app, '09-finding-detail');
  });

  step('the map shows my finding; an offline map downloaded from the server draws its tiles from the phone', async () => {
    // The admin offers a small package around the simulated position.
    const file = path.join(tempDir('basemap'), 'e2e.mbtiles');
    const [lat, lon] = SIM_LOCATION.split(',').map(Number);
    execFileSync('python3', [path.join(here, 'make-mbtiles.py'), file, String(lat), String(lon)]);
    const put = await fetch(`${server.origin}/api/v1/basemaps/e2e`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${s.adminToken}` },
      body: readFileSync(file),
    });
    assert.equal(put.status, 201, await put.text());

    // Before the download: the schematic map, with my finding on it (drawn by Leaflet, in WebKit).
    await openTab(app, 'map', '/map');
    await app.waitFor(testid('map-schematic'));
    await app.waitText(testid('map-count-findings'), /1/);
    await app.waitFor('.map-dot', { message: 'a marker on the map' });
    await shot(app, '09a-map-schematic');

    // Download it on the offline maps page (desktop runs count as Wi-Fi).
    await tap(app, testid('map-offline'));
    await app.waitRoute('/maps/offline');
    await tap(app, testid('offline-map-download'));
    await app.waitFor(testid('offline-map', { name: 'e2e', held: 'installed' }), { timeout: 60_000 });
    await shot(app, '09b-offline-maps');

    // The map now draws the package's tiles, served by the app's own scheme.
    await openTab(app, 'map', '/map');
    await app.waitText(testid('map-basemap'), 'e2e');
    await waitFor(async () => (await app.execute('return document.querySelectorAll(".leaflet-tile-loaded").length')) > 0, {
      timeout: 30_000,
      message: 'tiles drawn from the offline map',
    });
    const broken = await app.execute(
      'return [...document.querySelectorAll(".leaflet-tile")].filter((t) => t.complete && t.naturalWidth === 0 && t.classList.contains("leaflet-tile-loaded")).length',
    );
    assert.equal(broken, 0, 'no tile drawn broken');
    await shot(app, '09c-map-offline-tiles');

    // The report's 手动定位 opens the map (on the offline map now) with a pin; a tap elsewhere moves it.
    await openTab(app, 'home', '/home');
    await tap(app, testid('home-report'));
    await app.waitRoute('/report');
    await app.waitFor(testid('report-position', { source: 'gps' }), { timeout: 30_000 });
    const pinnedLat = await placePin(app, 0.3, 0.25);
    assert.ok(pinnedLat > lat, `a pin north of the fix has a larger latitude (${pinnedLat} > ${lat})`);
    await waitFor(async () => (await app.execute('return document.querySelectorAll(".pin-map .leaflet-tile-loaded").length')) > 0, {
      message: 'the offline map under the pin',
    });
    await shot(app, '09d-report-pin');
    await applyPin(app);
    await tap(app, '.van-nav-bar__left');
    await app.waitRoute('/home');
  });

  step('the department handles the case; the verification task arrives and is passed with a photo', async () => {
    const caseUrl = `/cases/${encodeURIComponent(s.caseNo)}`;
    await server.api('POST', `${caseUrl}/actions`, s.adminToken, { action: 'accept' });
    const handled = await server.api('POST', `${caseUrl}/actions`, s.adminToken, { action: 'handle', note: '已修复' });
    assert.equal(handled.state, 'handled');

    assert.ok(!(await syncNow(app)), 'the sync that brings the task succeeded');
    await openTab(app, 'tasks', '/tasks');
    const row = await app.waitFor(testid('task-row', { 'case-no': s.caseNo, state: 'open' }), {
      message: 'the verification task of the case',
    });
    s.taskId = await row.attribute('data-id');
    await tap(app, testid('task-row', { id: s.taskId }));
    await app.waitFor(testid('task-detail', { id: s.taskId }));
    await app.waitText(testid('task-case-no'), s.caseNo);

    const input = await app.waitFor(testid('task-photo-gallery-input'));
    await input.sendKeys(TASK_PHOTO);
    await app.waitFor(testid('task-photo-item'), { timeout: 60_000, message: 'the verification photo' });
    await app.type(testid('task-note'), '已核查 e2e');
    await shot(app, '10-task');

    await tap(app, testid('task-pass'));
    await confirmDialog(app);
    await app.waitRoute('/tasks');
    await app.waitFor(testid('task-row', { id: s.taskId, state: 'done' }));

    assert.ok(!(await syncNow(app)), 'the sync that sends the verification succeeded');
    await app.waitFor(testid('sync-pending', { count: 0 }));
    const closed = await waitFor(
      async () => {
        const c = await server.api('GET', `/cases/${encodeURIComponent(s.caseNo)}`, s.adminToken);
        return c.state === 'closed' ? c : null;
      },
      { timeout: 10_000, message: `case ${s.caseNo} closed on the server` },
    );
    assert.ok(closed.history.some((h) => h.actor === 'inspector1'), 'the inspector is recorded as closing it');
    // The same sync brought the case's new state back to the phone.
    await openTab(app, 'findings', '/findings');
    await app.waitFor(testid('findings-row', { id: s.findingId, 'case-no': s.caseNo, 'case-state': 'closed' }), {
      message: 'my reports to show the case closed',
    });
  });

  step('a 12345 report reaches the phone as a 核实 task; confirmed with a photo while the server is down, it is filed once back', async () => {
    const [lat, lon] = SIM_LOCATION.split(',').map(Number);
    const reportId = crypto.randomUUID();
    const { report } = await server.api('POST', '/reports', s.adminToken, {
      id: reportId, channel: 'hotline', external_ref: '12345-APP-E2E', category: 'E0102',
      description: '市民来电: 路边垃圾 e2e', location: { lat: lat + 0.0003, lon }, assignee: 'inspector1',
      contact: { name: '赵女士', phone: '13700000000' },
    });
    assert.equal(report.state, 'verifying');
    assert.ok(!(await syncNow(app)), 'the sync that brings the 核实 task succeeded');
    await openTab(app, 'tasks', '/tasks');
    const row = await app.waitFor(testid('task-row', { id: report.task_id, type: 'confirm', state: 'open' }), {
      message: 'the 核实 task of the report',
    });
    assert.match(await row.text(), /核实/);

    // No signal: the answer waits on the phone.
    await server.kill();
    await tap(app, testid('task-row', { id: report.task_id }));
    await app.waitFor(testid('task-detail', { id: report.task_id, type: 'confirm' }));
    const input = await app.waitFor(testid('task-photo-gallery-input'));
    await input.sendKeys(TASK_PHOTO);
    await app.waitFor(testid('task-photo-item'), { timeout: 60_000, message: 'the 核实 photo' });
    await shot(app, '10b-confirm-task');
    await tap(app, testid('task-confirmed'));
    await confirmDialog(app);
    await app.waitRoute('/tasks');
    await app.waitFor(testid('task-row', { id: report.task_id, state: 'done' }));
    assert.ok(await syncNow(app), 'the sync fails while the server is down');

    await server.start();
    assert.ok(await server.healthy(), 'the server is up again');
    assert.ok(!(await syncNow(app)), 'the sync that sends the 核实 succeeded');
    await app.waitFor(testid('sync-pending', { count: 0 }));
    const { report: filed } = await server.api('GET', `/reports/${reportId}`, s.adminToken);
    assert.equal(filed.state, 'filed');
    const theCase = await server.api('GET', `/cases/${encodeURIComponent(filed.case_no)}`, s.adminToken);
    assert.equal(theCase.findings[0].reporter, 'inspector1');
    assert.equal(theCase.findings[0].photos.length, 1, 'the inspector\'s photo is the case\'s');
  });

  step('after a restart of the app everything is still there', async () => {
    await app.delete();
    app = null;
    app = await launchApp(driver);
    // Still registered: the home screen, not the register screen, with the patrol still running.
    await app.waitFor(testid('home-patrol', { state: 'running' }), { message: 'the running patrol after the restart' });
    await app.waitFor(testid('home-pending', { count: 0 }));
    await shot(app, '11-home-after-restart');

    await openTab(app, 'findings', '/findings');
    const row = await app.waitFor(testid('findings-row', { id: s.findingId, 'case-no': s.caseNo }));
    assert.equal(await row.attribute('data-server-state'), 'filed');
    assert.equal(await row.attribute('data-case-state'), 'closed');
    await app.waitFor(`${testid('findings-row', { id: s.findingId })} ${testid('findings-row-state', { key: 'closed' })}`);
    const text = await row.property('textContent');
    assert.match(text, /上水井盖/);
    assert.ok(text.includes(DESCRIPTION), `the description is shown: ${text}`);
    assert.ok(text.includes(s.caseNo), `the case number is shown: ${text}`);
    await shot(app, '12-findings-after-restart');

    await openTab(app, 'tasks', '/tasks');
    await app.waitFor(testid('task-row', { id: s.taskId, 'case-no': s.caseNo, state: 'done' }));
    await shot(app, '13-tasks-after-restart');

    await openTab(app, 'settings', '/settings');
    await app.waitText(testid('settings-server'), server.origin);
    await app.waitText(testid('settings-username'), 'inspector1');
  });

  // A benchmark, not a check (run it with APP_MAP_BENCH=1 scripts/app-e2e.sh): the map tab with 2,000 of my
  // findings, from the tap until every marker is clustered and the next frame drawn, in the page's own clock.
  // The findings are written into the app's store beside it (SQLite in WAL mode takes a second writer).
  it('benchmark: the map with 2,000 markers', { timeout: 300_000 }, async (t) => {
    if (process.env.APP_MAP_BENCH !== '1') return t.skip('APP_MAP_BENCH=1 runs it');
    if (failed || !app) return t.skip(`an earlier step failed: ${failed}`);
    const [lat, lon] = SIM_LOCATION.split(',').map(Number);
    execFileSync('python3', [
      '-c',
      `import sqlite3, sys, uuid, random
db = sqlite3.connect(sys.argv[1]); rnd = random.Random(7)
rows = [(str(uuid.uuid4()), '{}', 'E0102', 'bench', '2026-12-04T09:00:00+08:00', '2026-12-04', 'received', 'filed', 'dispatched',
         '2026-12-04T01:00:00.000Z', float(sys.argv[2]) + rnd.uniform(-0.02, 0.02), float(sys.argv[3]) + rnd.uniform(-0.03, 0.03))
        for _ in range(2000)]
db.executemany("INSERT INTO findings (id, body, category, description, observed_at, observed_day, local_state, server_state, case_state, created_at, updated_at, lat, lon) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
               [r[:10] + (r[9],) + r[10:] for r in rows])
db.commit()`,
      path.join(driver.home, 'device.sqlite'),
      String(lat),
      String(lon),
    ]);
    const times = [];
    for (let run = 0; run < 7; run++) {
      await openTab(app, 'home', '/home');
      await app.execute('window.__mapBenchStart = performance.now(); return true;');
      await tap(app, testid('tab-map'));
      const map = await app.waitFor(`${testid('phone-map')}[data-drawn]`, { timeout: 60_000, message: 'the map drawn' });
      const drawn = Number(await map.attribute('data-drawn'));
      const markers = Number(await map.attribute('data-markers'));
      assert.ok(drawn >= 2000, `the markers of 2,000 findings (drawn ${drawn}, markers ${markers})`);
      times.push(Number(await map.attribute('data-drawn-at')) - (await app.execute('return window.__mapBenchStart')));
    }
    const sorted = [...times].sort((x, y) => x - y);
    const ms = (v) => v.toFixed(0);
    console.log(
      `map with 2,000 markers, tap to drawn (7 runs): median ${ms(sorted[3])} ms, min ${ms(sorted[0])} ms, max ${ms(sorted[6])} ms (target ≤ 300 ms); runs: ${times.map(ms).join(', ')}`,
    );
    await shot(app, '14-map-2000-markers');
  });
});
