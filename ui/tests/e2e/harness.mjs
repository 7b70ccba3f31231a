// Helpers of the console's browser tests: the real sync server on a fresh data directory, the real device
// command line (`patrol`) on fresh homes, the system's Chromium through playwright-core, and a small API
// client for checking what the server holds. No sleeps: everything waits for a real condition.
//
// Environment:
//   SYNC_SERVER_BIN  the server binary (default ../target/debug/sync-server, relative to ui/)
//   PATROL_BIN       the device command line (default ../target/debug/patrol)
//   CHROMIUM_BIN     the browser (default /usr/bin/chromium)
//   SCREENSHOT_DIR   where screenshots go (default ui/tests/e2e/screenshots)
import { spawn, execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { until } from './poll.mjs';

export const uiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SERVER_BIN = path.resolve(uiDir, process.env.SYNC_SERVER_BIN ?? '../target/debug/sync-server');
export const PATROL_BIN = path.resolve(uiDir, process.env.PATROL_BIN ?? '../target/debug/patrol');
export const CHROMIUM_BIN = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
export const CONSOLE_DIR = path.resolve(uiDir, process.env.CONSOLE_DIR ?? 'dist/console');
/** Chromium's flags on these machines: no sandbox, no GPU, no first-run page, no background traffic. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const PHOTOS_DIR = path.resolve(uiDir, '../../shared/fixtures/photos');
export const SCREENSHOT_DIR = path.resolve(uiDir, process.env.SCREENSHOT_DIR ?? 'tests/e2e/screenshots');
export const PASSWORD = 'demo1234';

export function photo(name) {
  return path.join(PHOTOS_DIR, name);
}

export function sha256File(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** A fresh temporary directory, removed by `cleanupTemp`. */
const temps = [];
export function tempDir(prefix) {
  const dir = mkdtempSync(path.join(tmpdir(), `tjb-e2e-${prefix}-`));
  temps.push(dir);
  return dir;
}
export function cleanupTemp() {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Today in the host's time zone (the server's calendar days default to the host's), as YYYY-MM-DD. */
export function today() {
  const d = new Date();
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export { until };

/**
 * The binaries are rebuilt from time to time by `cargo build`; while the linker writes one it may be missing
 * or busy for a moment. Waits until the file is there.
 */
async function binary(file) {
  await until(() => existsSync(file), { timeout: 120_000, interval: 250, message: `binary ${file}` });
  return file;
}

/** Spaces out the attempts to start a binary that is being rebuilt; never used to wait for a result. */
function pause(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function transient(e) {
  return e && (e.code === 'ENOENT' || e.code === 'ETXTBSY');
}

// --- the sync server ----------------------------------------------------------------------------------------

/** Starts `sync-server serve --demo` on a fresh data directory and a free port; resolves with its origin. */
export async function startServer() {
  if (!existsSync(path.join(CONSOLE_DIR, 'index.html'))) {
    throw new Error(`no built console in ${CONSOLE_DIR}: run \`npm run build\` first`);
  }
  const data = tempDir('data');
  for (let attempt = 0; ; attempt++) {
    const bin = await binary(SERVER_BIN);
    try {
      return await launchServer(bin, data);
    } catch (e) {
      if (!transient(e) || attempt >= 20) throw e;
      await pause(250);
    }
  }
}

function launchServer(bin, data) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['serve', '--data', data, '--listen', '127.0.0.1:0', '--demo', '--console', CONSOLE_DIR], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let settled = false;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const m = /^listening on (http:\/\/[^\s]+)\s*$/m.exec(stdout);
      if (m && !settled) {
        settled = true;
        resolve({
          origin: m[1],
          data,
          stderr: () => stderr,
          stop: () => stopServer(child),
        });
      }
    });
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', (e) => {
      if (!settled) {
        settled = true;
        reject(e);
      }
    });
    child.on('exit', (code, signal) => {
      if (!settled) {
        settled = true;
        reject(new Error(`sync-server exited (${code ?? signal}) before listening:\n${stdout}\n${stderr}`));
      }
    });
  });
}

function stopServer(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

// --- the device command line --------------------------------------------------------------------------------

/** Runs `patrol --home HOME ...args`; resolves with { code, stdout, stderr } whatever the exit code. */
export async function patrol(home, ...args) {
  for (let attempt = 0; ; attempt++) {
    const bin = await binary(PATROL_BIN);
    try {
      return await new Promise((resolve, reject) => {
        execFile(bin, ['--home', home, ...args], { encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
          if (error && typeof error.code !== 'number') return reject(error);
          resolve({ code: error ? error.code : 0, stdout, stderr });
        });
      });
    } catch (e) {
      if (!transient(e) || attempt >= 20) throw e;
      await pause(250);
    }
  }
}

/** Like `patrol`, but a non-zero exit is a failure. */
export async function patrolOk(home, ...args) {
  const r = await patrol(home, ...args);
  if (r.code !== 0) {
    throw new Error(`patrol ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  return r;
}

/** A registered device of `username` on a fresh home: { home, id }. */
export async function registerDevice(origin, username, name) {
  const home = tempDir(`home-${username}`);
  const r = await patrolOk(home, 'register', '--server', origin, '--username', username, '--password', PASSWORD, '--device-name', name);
  const m = /registered device ([0-9a-f-]{36})/.exec(r.stdout);
  if (!m) throw new Error(`no device id in the output of register: ${r.stdout}`);
  return { home, id: m[1], username, name };
}

/** Reports one E0102 finding at the given place with a fixture photo; resolves with the finding id. */
export async function report(device, { lat, lon, description = '暴露垃圾', photoName = 'orientation-landscape-1.jpg' }) {
  const r = await patrolOk(
    device.home,
    'report',
    '--category',
    'E0102',
    '--lat',
    String(lat),
    '--lon',
    String(lon),
    '--description',
    description,
    '--photo',
    photo(photoName),
  );
  const lines = r.stdout.trim().split('\n');
  const id = lines[lines.length - 1].trim();
  if (!/^[0-9a-f-]{36}$/.test(id)) throw new Error(`report did not print a finding id: ${r.stdout}`);
  return id;
}

// --- the API, as a test checks it -----------------------------------------------------------------------------

export class Api {
  constructor(origin) {
    this.origin = origin;
    this.tokens = new Map();
  }

  async token(username) {
    if (!this.tokens.has(username)) {
      const res = await fetch(`${this.origin}/api/v1/sessions`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username, password: PASSWORD }),
      });
      if (res.status !== 201) throw new Error(`sign-in of ${username}: HTTP ${res.status} ${await res.text()}`);
      this.tokens.set(username, (await res.json()).token);
    }
    return this.tokens.get(username);
  }

  /** { status, body } of a call as `username` (or with a raw `token`). */
  async call(method, apiPath, { as, token, json, accept = 'application/json' } = {}) {
    const headers = { Accept: accept, Authorization: `Bearer ${token ?? (await this.token(as))}` };
    if (json !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(`${this.origin}/api/v1${apiPath}`, {
      method,
      headers,
      body: json === undefined ? undefined : JSON.stringify(json),
    });
    const type = res.headers.get('content-type') ?? '';
    const body = type.includes('json') ? await res.json() : Buffer.from(await res.arrayBuffer());
    return { status: res.status, body };
  }

  async get(apiPath, as) {
    const r = await this.call('GET', apiPath, { as });
    if (r.status !== 200) throw new Error(`GET ${apiPath} as ${as}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }
}

// --- the browser --------------------------------------------------------------------------------------------

/** The system's Chromium, headless, on a fresh profile directory. */
export async function launchBrowser() {
  const userDataDir = tempDir('chromium');
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_BIN,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1440, height: 900 },
    locale: 'zh-CN',
    // Charts drawn at once (the console honours the setting): screenshots show them finished.
    reducedMotion: 'reduce',
  });
}

/**
 * A new tab of the browser (the console keeps its session in sessionStorage, which is per tab: each tab is
 * one user). Uncaught errors of the page are collected in `page.errors`.
 */
export async function newPage(context) {
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  // What the server's Content-Security-Policy blocked: a script, style or image the console needs.
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) page.errors.push(m.text());
  });
  return page;
}

/** Waits for the answer of the console's call `method` to a path matching `pattern` (after /api/v1). */
export function apiResponse(page, method, pattern) {
  return page.waitForResponse((r) => {
    if (r.request().method() !== method) return false;
    const url = new URL(r.url());
    if (!url.pathname.startsWith('/api/v1/')) return false;
    const rest = url.pathname.slice('/api/v1'.length) + url.search;
    return typeof pattern === 'string' ? rest === pattern || url.pathname.slice('/api/v1'.length) === pattern : pattern.test(rest);
  });
}

/** Runs `action` and resolves with the response of the call it makes. */
export async function whileCalling(page, method, pattern, action) {
  const [response] = await Promise.all([apiResponse(page, method, pattern), action()]);
  return response;
}

/** Signs in through the sign-in form and waits for the shell to greet the user with their role. */
export async function signIn(page, origin, username, role) {
  await page.goto(`${origin}/console/#/sign-in`);
  await page.getByTestId('username').fill(username);
  await page.getByTestId('password').fill(PASSWORD);
  const response = await whileCalling(page, 'POST', '/sessions', () => page.getByTestId('sign-in-submit').click());
  if (response.status() !== 201) throw new Error(`sign-in of ${username}: HTTP ${response.status()}`);
  await page.locator(`[data-testid="welcome"][data-role="${role}"]`).waitFor();
}

/** The session token the console holds in this tab. */
export async function consoleToken(page) {
  return page.evaluate(() => {
    const raw = sessionStorage.getItem('tiejiaoban.console.session');
    return raw ? JSON.parse(raw).token : null;
  });
}

/** Saves a screenshot of the page as SCREENSHOT_DIR/NAME.png; returns its path. */
export async function screenshot(page, name) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false, animations: 'disabled' });
  return file;
}
