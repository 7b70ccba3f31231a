// Signs in to a running console as each role and saves a screenshot of every page, printing the browser's
// errors. Uses the system's Chromium (no browser download):
//   node scripts/console-screenshots.mjs http://127.0.0.1:8080 /tmp/shots [/usr/bin/chromium]
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS } from '../tests/e2e/harness.mjs';

const [origin = 'http://127.0.0.1:8080', outDir = '/tmp/console-shots', executablePath = '/usr/bin/chromium'] =
  process.argv.slice(2);
mkdirSync(outDir, { recursive: true });

const browser = await chromium.launch({
  executablePath,
  args: CHROMIUM_ARGS,
});

const problems = [];

async function session(username, pages) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' });
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`${username}: page error: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`${username}: HTTP ${r.status()} ${r.request().method()} ${r.url()}`);
  });
  page.on('console', (m) => {
    if (m.text().startsWith('Failed to load resource')) return;
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${username}: console ${m.type()}: ${m.text()}`);
  });
  await page.goto(`${origin}/console/`);
  await page.getByTestId('username').fill(username);
  await page.getByTestId('password').fill('demo1234');
  await page.getByTestId('sign-in-submit').click();
  await page.getByTestId('welcome').waitFor();
  for (const [name, action] of pages) {
    await action(page);
    await page.waitForTimeout(800);
    await page.screenshot({ path: `${outDir}/${username}-${name}.png`, fullPage: false });
    console.log(`saved ${outDir}/${username}-${name}.png`);
  }
  await context.close();
}

const go = (hash) => async (page) => {
  await page.goto(`${origin}/console/#${hash}`);
  await page.waitForLoadState('networkidle');
};

await session('chief1', [
  ['review', go('/review')],
  ['review-next', async (page) => page.keyboard.press('j')],
  ['patrols', async (page) => page.locator('#tab-patrols').click()],
  ['report', async (page) => page.locator('#tab-report').click()],
  ['dashboard', go('/dashboard')],
]);
await session('dispatcher1', [
  ['cases', go('/cases')],
  ['cases-open', async (page) => page.getByTestId('tab-open').click()],
  [
    'case-drawer',
    async (page) => {
      const row = page.getByTestId('case-row').first();
      if (await row.count()) await row.click();
    },
  ],
]);
await session('dept-sz', [['inbox', go('/department')]]);
await session('admin', [
  ['users', go('/admin/users')],
  ['devices', go('/admin/devices')],
  ['dictionary', go('/admin/dictionary')],
  ['sync-health', go('/admin/sync-health')],
]);

await browser.close();
if (problems.length) {
  console.log('\nbrowser problems:');
  for (const p of problems) console.log(`  ${p}`);
}
