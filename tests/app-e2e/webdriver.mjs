// A tiny W3C WebDriver client over fetch, enough to drive the real Tauri app through tauri-driver
// (WebKitWebDriver underneath): sessions, element lookup by CSS selector, click, typing and file inputs,
// text and attributes, script execution and screenshots. No dependencies outside this repository.
//
// Waiting is done by polling a real condition (an element present, a text or attribute having a value)
// until an overall deadline, never by sleeping a fixed time and hoping.

import { until } from '../../ui/tests/e2e/poll.mjs';

/** The key of an element reference in W3C WebDriver answers. */
const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

/** Special keys of "element send keys". NULL releases the modifiers pressed before it. */
export const KEY = { NULL: '\uE000', BACKSPACE: '\uE003', ENTER: '\uE007', CONTROL: '\uE009' };

export class WebDriverError extends Error {
  constructor(method, path, status, value) {
    const error = value?.error ?? `http ${status}`;
    super(`WebDriver ${method} ${path} → ${status} ${error}: ${value?.message ?? JSON.stringify(value)}`);
    this.status = status;
    this.error = error;
  }
}

/** Sends one WebDriver command to `base` (e.g. http://127.0.0.1:4444) and returns its `value`. */
export async function command(base, method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json; charset=utf-8';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(new URL(path, base), init);
  const text = await response.text();
  let json;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    throw new WebDriverError(method, path, response.status, { error: 'invalid json', message: text.slice(0, 500) });
  }
  if (!response.ok) throw new WebDriverError(method, path, response.status, json.value ?? json);
  return json.value;
}

/** The remote end answers /status (tauri-driver forwards it to WebKitWebDriver). */
export async function ready(base) {
  try {
    const value = await command(base, 'GET', '/status');
    return value?.ready !== false;
  } catch {
    return false;
  }
}

/** Polls `probe` until it returns something truthy (returned) or `timeout` ms pass (then throws `message`). */
export function waitFor(probe, { timeout = 30_000, interval = 150, message = 'a condition' } = {}) {
  return until(probe, { timeout, interval, message });
}

/** `[data-testid="x"]` plus attribute conditions: testid('findings-row', { 'case-no': 'A-1' }). */
export function testid(id, attrs = {}) {
  return (
    `[data-testid="${id}"]` +
    Object.entries(attrs)
      .map(([k, v]) => `[data-${k}="${String(v).replace(/"/g, '\\"')}"]`)
      .join('')
  );
}

export class Session {
  constructor(base, id, capabilities) {
    this.base = base;
    this.id = id;
    this.capabilities = capabilities;
    /** Default overall timeout of the waits, ms. */
    this.timeout = 30_000;
  }

  /** POST /session with `alwaysMatch` capabilities. */
  static async create(base, alwaysMatch) {
    const value = await command(base, 'POST', '/session', { capabilities: { alwaysMatch, firstMatch: [{}] } });
    return new Session(base, value.sessionId, value.capabilities);
  }

  cmd(method, path, body) {
    return command(this.base, method, `/session/${this.id}${path}`, body);
  }

  async delete() {
    await command(this.base, 'DELETE', `/session/${this.id}`);
  }

  // --- navigation and scripts ------------------------------------------------------------------------

  url() {
    return this.cmd('GET', '/url');
  }

  /** Synchronous script; `args` may contain element references. */
  execute(script, args = []) {
    return this.cmd('POST', '/execute/sync', { script, args });
  }

  /** Asynchronous script: the last argument is the callback. */
  executeAsync(script, args = []) {
    return this.cmd('POST', '/execute/async', { script, args });
  }

  /** The hash route (`#/home` → `/home`). */
  async route() {
    const url = await this.url();
    const hash = new URL(url).hash;
    return hash.startsWith('#') ? hash.slice(1) : hash;
  }

  async getWindowRect() {
    return this.cmd('GET', '/window/rect');
  }

  // --- elements --------------------------------------------------------------------------------------

  /** The first element matching `css`, or null. */
  async find(css) {
    try {
      const value = await this.cmd('POST', '/element', { using: 'css selector', value: css });
      return new Element(this, value[ELEMENT]);
    } catch (e) {
      if (e instanceof WebDriverError && e.error === 'no such element') return null;
      throw e;
    }
  }

  async findAll(css) {
    const value = await this.cmd('POST', '/elements', { using: 'css selector', value: css });
    return value.map((v) => new Element(this, v[ELEMENT]));
  }

  /** Waits until an element matching `css` is present, and returns it. */
  async waitFor(css, { timeout = this.timeout, visible = false, message } = {}) {
    return waitFor(
      async () => {
        const el = await this.find(css);
        if (!el) return null;
        if (visible && !(await el.displayed())) return null;
        return el;
      },
      { timeout, message: message ?? `element ${css}${visible ? ' (visible)' : ''}` },
    );
  }

  /** Waits until no element matches `css`. */
  async waitGone(css, { timeout = this.timeout, message } = {}) {
    return waitFor(async () => !(await this.find(css)), { timeout, message: message ?? `no element ${css}` });
  }

  /** Waits until the text of the element matching `css` contains `text` (or matches a RegExp); returns the text. */
  async waitText(css, text, { timeout = this.timeout, message } = {}) {
    return waitFor(
      async () => {
        const el = await this.find(css);
        if (!el) return null;
        const value = await el.text();
        const ok = text instanceof RegExp ? text.test(value) : value.includes(text);
        return ok ? value || true : null;
      },
      { timeout, message: message ?? `text ${text} in ${css}` },
    );
  }

  /** Waits until the hash route is `route`. */
  async waitRoute(route, { timeout = this.timeout } = {}) {
    return waitFor(async () => ((await this.route()) === route ? route : null), { timeout, message: `route ${route}` });
  }

  async click(css, options) {
    const el = await this.waitFor(css, { visible: true, ...options });
    await el.click();
    return el;
  }

  /**
   * Empties the control matching `css` with the keyboard (select all, delete: unlike "element clear" this
   * fires the input events a framework's two-way binding listens to), types `text`, and waits until the
   * control holds exactly `text`.
   */
  async type(css, text, options) {
    const el = await this.waitFor(css, options);
    if (await el.property('value')) await el.sendKeys(`${KEY.CONTROL}a${KEY.NULL}${KEY.BACKSPACE}`);
    await el.sendKeys(text);
    await waitFor(async () => (await el.property('value')) === text, {
      timeout: options?.timeout ?? this.timeout,
      message: `${css} to hold ${JSON.stringify(text)}`,
    });
    return el;
  }

  /** PNG bytes of the window. */
  async screenshot() {
    return Buffer.from(await this.cmd('GET', '/screenshot'), 'base64');
  }
}

export class Element {
  constructor(session, id) {
    this.session = session;
    this.id = id;
  }

  cmd(method, path, body) {
    return this.session.cmd(method, `/element/${this.id}${path}`, body);
  }

  /** Reference to pass as a script argument. */
  toJSON() {
    return { [ELEMENT]: this.id };
  }

  click() {
    return this.cmd('POST', '/click', {});
  }

  clear() {
    return this.cmd('POST', '/clear', {});
  }

  /** Types `text`; on `<input type=file>` it is an absolute path (several joined by "\n"). */
  sendKeys(text) {
    return this.cmd('POST', '/value', { text });
  }

  text() {
    return this.cmd('GET', '/text');
  }

  attribute(name) {
    return this.cmd('GET', `/attribute/${encodeURIComponent(name)}`);
  }

  property(name) {
    return this.cmd('GET', `/property/${encodeURIComponent(name)}`);
  }

  displayed() {
    return this.cmd('GET', '/displayed');
  }

  async find(css) {
    try {
      const value = await this.cmd('POST', '/element', { using: 'css selector', value: css });
      return new Element(this.session, value[ELEMENT]);
    } catch (e) {
      if (e instanceof WebDriverError && e.error === 'no such element') return null;
      throw e;
    }
  }

  async screenshot() {
    return Buffer.from(await this.cmd('GET', '/screenshot'), 'base64');
  }
}
