// Screenshots of the built phone app (dist/app) at 360×740 in the system's Chromium, with the Tauri shell
// replaced by scripts/tauri-mock.js. Run `npm run build:app` first.
//   node scripts/app-screenshots.mjs /tmp/app-shots [/usr/bin/chromium]
import { mkdirSync, readFileSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS } from '../tests/e2e/harness.mjs';

const [outDir = '/tmp/app-shots', executablePath = '/usr/bin/chromium'] = process.argv.slice(2);
mkdirSync(outDir, { recursive: true });
const dist = fileURLToPath(new URL('../dist/app/', import.meta.url));
const mock = readFileSync(fileURLToPath(new URL('./tauri-mock.js', import.meta.url)), 'utf8');
// Android's webview reaches Tauri's schemes as http://<scheme>.localhost: the app's own files and photos.
const ORIGIN = 'http://tauri.localhost';
const ANDROID_UA =
  'Mozilla/5.0 (Linux; Android 12; V2131A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36';
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

function photoSvg(url) {
  const hue = (url.charCodeAt(url.indexOf('localhost/') + 10) * 47) % 360;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240"><rect width="320" height="240" fill="hsl(${hue},35%,55%)"/><rect x="40" y="150" width="240" height="50" fill="hsl(${hue},20%,35%)"/><circle cx="160" cy="95" r="38" fill="hsl(${hue},30%,80%)"/></svg>`;
}

const browser = await chromium.launch({
  executablePath,
  args: ['--headless', ...CHROMIUM_ARGS],
});
const problems = [];

async function scenario(name, mockOptions, storage, steps) {
  const context = await browser.newContext({
    viewport: { width: 360, height: 740 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    userAgent: ANDROID_UA,
    locale: 'zh-CN',
  });
  await context.route(`${ORIGIN}/**`, (route) => {
    const path = new URL(route.request().url()).pathname;
    const file = normalize(join(dist, path === '/' ? 'index.html' : path));
    if (!file.startsWith(dist)) return route.fulfill({ status: 403 });
    try {
      return route.fulfill({ body: readFileSync(file), contentType: TYPES[extname(file)] ?? 'application/octet-stream' });
    } catch {
      return route.fulfill({ status: 404 });
    }
  });
  await context.route('http://photo.localhost/**', (route) =>
    route.fulfill({ body: photoSvg(route.request().url()), contentType: 'image/svg+xml' }),
  );
  await context.addInitScript(
    ({ options, storage }) => {
      window.__TIEJIAOBAN_MOCK__ = options;
      for (const [k, v] of Object.entries(storage)) localStorage.setItem(k, v);
    },
    { options: mockOptions, storage },
  );
  await context.addInitScript({ content: mock });
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`${name}: page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${name}: console ${m.type()}: ${m.text()}`);
  });
  for (const [shot, action, fullPage] of steps) {
    await action(page);
    await page.waitForTimeout(600);
    const path = `${outDir}/${shot}.png`;
    await page.screenshot({ path, fullPage: !!fullPage });
    console.log(`saved ${path}`);
  }
  await context.close();
}

const go = (hash) => async (page) => {
  await page.goto(`${ORIGIN}/index.html#${hash}`);
  await page.waitForLoadState('networkidle');
};
const fakePhoto = (n) => ({ name: `IMG_${n}.jpg`, mimeType: 'image/jpeg', buffer: Buffer.alloc(300 * 1024, n) });

await scenario('register', { registered: false }, {}, [['01-register', go('/home')]]);

await scenario('main', { registered: true }, { 'tiejiaoban.recentCategories': '["E0102","C0102","E0512","E0201"]' }, [
  ['02-home', go('/home')],
  [
    '03-report',
    async (page) => {
      await go('/report')(page);
      await page.getByTestId('report-photo-input').setInputFiles([fakePhoto(1), fakePhoto(2), fakePhoto(3)]);
      await page.getByTestId('report-photo-item').nth(2).waitFor();
      await page.locator('[data-testid=report-recent-category][data-code=C0102]').click();
      await page.locator('[data-testid=report-phrase][data-phrase=manhole]').click();
    },
  ],
  ['04-report-full', async () => undefined, true],
  [
    '05-category-picker',
    async (page) => {
      await page.getByTestId('report-category').click();
      await page.locator('[data-testid=category-class][data-code=E05]').click();
    },
  ],
  [
    '06-category-search',
    async (page) => {
      await page.getByTestId('category-search').fill('井盖');
    },
  ],
]);

await scenario('lists', { registered: true }, {}, [
  ['07-findings', go('/findings')],
  ['08-finding-detail', go('/findings/f-003'), true],
  ['09-tasks', go('/tasks')],
  ['10-task', go('/tasks/t-1'), true],
  ['11-settings', go('/settings'), true],
]);

await scenario('sync', { registered: true, syncRunning: true }, {}, [['12-sync-running', go('/sync'), true]]);

await scenario('english', { registered: true, language: 'en' }, { 'tiejiaoban.locale': 'en' }, [
  ['13-home-en', go('/home')],
  ['14-findings-en', go('/findings')],
]);

await browser.close();
if (problems.length > 0) {
  console.log('problems:');
  for (const p of problems) console.log(`  ${p}`);
} else {
  console.log('no browser errors');
}
