// Browser tests of the web console (issue 5): each role's main path on the real sync server, with findings
// reported and verifications sent by the real device command line. One server and one browser for the whole
// file; the steps follow one case through its life, so they run in order and each needs the previous one.
//
//   cd ui && npm run build && npm run test:e2e
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import * as OTPAuth from 'otpauth';
import {
  Api,
  SCREENSHOT_DIR,
  SERVER_BIN,
  apiResponse,
  cleanupTemp,
  consoleToken,
  launchBrowser,
  newPage,
  patrol,
  patrolOk,
  photo,
  registerDevice,
  report,
  screenshot,
  sha256File,
  signIn,
  startServer,
  tempDir,
  uiDir,
  today,
  until,
  whileCalling,
} from './harness.mjs';

const PLACE = { lat: 41.7968, lon: 123.4328 };
// About 7 m from PLACE: within the 50 m of a suggested duplicate.
const NEARBY = { lat: 41.79685, lon: 123.43284 };
const HANDLING_PHOTO = photo('orientation-landscape-3.jpg');
// On 正阳街, about 300 m from PLACE: a second, unrelated case.
const ELSEWHERE = { lat: 41.795, lon: 123.42912 };
// Along the centre line of the demo's 中街路 (sync-server/src/demo.rs), west to east, about 150 m apart.
const ALONG_ZHONGJIE = [
  [41.7968, 123.428],
  [41.79682, 123.4298],
  [41.79685, 123.4316],
  [41.79690, 123.4334],
  [41.79693, 123.4352],
  [41.79697, 123.437],
];

let server;
let api;
let browser;
let origin;
/** What the steps pass on to each other. */
const s = {};
const pages = [];
const screenshots = [];

async function openPage() {
  const page = await newPage(browser);
  pages.push(page);
  return page;
}

async function shot(page, name) {
  screenshots.push(await screenshot(page, name));
}

/** The console raised no uncaught error on this page. */
function assertNoPageErrors(page) {
  assert.deepEqual(page.errors, [], 'uncaught errors in the page');
}

function row(page, testid, attrs) {
  const sel = Object.entries(attrs)
    .map(([k, v]) => `[data-${k}="${v}"]`)
    .join('');
  return page.locator(`[data-testid="${testid}"]${sel}`);
}

/** The table row (`tr`) holding the element `inner`. */
function trOf(page, inner) {
  return page.locator('tr', { has: inner });
}

/** The visible one of the case action forms (the list's and the drawer's share testids). */
function actionDialog(page, action) {
  return page.locator(`.el-dialog[data-testid="case-action-dialog"][data-action="${action}"]:visible`);
}

async function caseOf(caseNo, as = 'dispatcher1') {
  return api.get(`/cases/${encodeURIComponent(caseNo)}`, as);
}

describe('web console: one case from device report to close, role by role', () => {
  before(async () => {
    server = await startServer();
    origin = server.origin;
    api = new Api(origin);
    browser = await launchBrowser();
    s.dev1 = await registerDevice(origin, 'inspector1', 'e2e-phone-inspector1');
    s.dev2 = await registerDevice(origin, 'inspector2', 'e2e-phone-inspector2');
    s.findingA = await report(s.dev1, PLACE);
    await patrolOk(s.dev1.home, 'sync');
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (server) {
      // The server's log, for when a step failed.
      mkdirSync(SCREENSHOT_DIR, { recursive: true });
      writeFileSync(path.join(SCREENSHOT_DIR, 'sync-server.log'), server.stderr());
    }
    cleanupTemp();
    if (screenshots.length) console.log(`screenshots:\n${screenshots.map((f) => `  ${f}`).join('\n')}`);
  });

  it('chief1 signs in and approves a device finding on the review page (E0102 → case filed)', { timeout: 60_000 }, async () => {
    const page = await openPage();
    await signIn(page, origin, 'chief1', 'chief');
    // A chief lands on the review page.
    await page.waitForURL(/#\/review$/);
    await page.getByTestId('menu-review').waitFor();
    // The review date starts at today (the date picker's input).
    assert.equal(await page.getByTestId('review-date').inputValue(), today());

    const rowA = row(page, 'finding-row', { id: s.findingA });
    await rowA.waitFor();
    assert.equal(await rowA.getAttribute('data-state'), 'pending_review');
    await row(page, 'review-counts', { total: 1, pending: 1 }).waitFor();

    await rowA.click();
    await row(page, 'finding-detail', { id: s.findingA, state: 'pending_review' }).waitFor();
    // The finding's photo, uploaded by the device, is shown (fetched with the session's token).
    const { findings } = await api.get(`/review?date=${today()}`, 'chief1');
    const sha = findings.find((f) => f.id === s.findingA).photos[0].sha256;
    const img = page.locator(`[data-testid="finding-detail"] [data-testid="photo"][data-sha256="${sha}"] img`).first();
    await img.waitFor();
    await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle());
    await shot(page, '01-chief1-review');

    const response = await whileCalling(page, 'POST', `/findings/${s.findingA}/review`, () =>
      page.getByTestId('review-approve').click(),
    );
    assert.equal(response.status(), 200);
    assert.equal(response.request().postDataJSON().decision, 'approve');
    const answer = await response.json();
    s.caseNo = answer.finding.case_no;
    assert.match(s.caseNo ?? '', /^[A-Za-z0-9-]+$/, 'the approval files a case');

    // The UI shows it: row and detail filed, with the case number.
    await row(page, 'finding-row', { id: s.findingA, state: 'filed' }).waitFor();
    await row(page, 'finding-detail', { id: s.findingA, state: 'filed' }).waitFor();
    assert.equal((await page.getByTestId('finding-case-no').textContent()).trim(), s.caseNo);
    await row(page, 'review-counts', { total: 1, pending: 0 }).waitFor();

    // The server holds it: a filed case, routed to the category's department, from this finding.
    const c = await caseOf(s.caseNo, 'chief1');
    assert.equal(c.state, 'filed');
    assert.equal(c.category, 'E0102');
    assert.equal(c.department, 'HW');
    assert.deepEqual(
      c.findings.map((f) => f.id),
      [s.findingA],
    );
    s.chiefPage = page;
    assertNoPageErrors(page);
  });

  it('chief1 sees a second E0102 report within 50 m as a suggested duplicate and merges it', { timeout: 60_000 }, async () => {
    assert.ok(s.caseNo, 'needs the case filed by the previous step');
    const page = s.chiefPage;
    s.findingB = await report(s.dev2, { ...NEARBY, description: '暴露垃圾 同一处' });
    await patrolOk(s.dev2.home, 'sync');

    const reload = await whileCalling(page, 'GET', /^\/review\?date=/, () => page.getByTestId('review-refresh').click());
    assert.equal(reload.status(), 200);
    const rowB = row(page, 'finding-row', { id: s.findingB, state: 'pending_review' });
    await rowB.waitFor();
    await row(page, 'review-counts', { total: 2, pending: 1 }).waitFor();

    await rowB.click();
    await row(page, 'finding-detail', { id: s.findingB, state: 'pending_review' }).waitFor();
    assert.equal((await page.getByTestId('finding-duplicate').textContent()).trim(), s.caseNo);
    await shot(page, '02-chief1-review-duplicate');

    await page.getByTestId('review-merge').click();
    const caseInput = page.getByTestId('merge-case-no');
    await caseInput.waitFor();
    // The merge form starts with the suggested case.
    assert.equal(await caseInput.inputValue(), s.caseNo);
    assert.equal((await page.getByTestId('merge-suggestion').first().textContent()).trim(), s.caseNo);
    await shot(page, '03-chief1-merge-dialog');

    const response = await whileCalling(page, 'POST', `/findings/${s.findingB}/review`, () =>
      page.getByTestId('merge-confirm').click(),
    );
    assert.equal(response.status(), 200);
    assert.deepEqual(response.request().postDataJSON(), { decision: 'merge', case_no: s.caseNo });
    await caseInput.waitFor({ state: 'hidden' });

    await row(page, 'finding-row', { id: s.findingB, state: 'merged' }).waitFor();
    await row(page, 'finding-detail', { id: s.findingB, state: 'merged' }).waitFor();
    assert.equal((await page.getByTestId('finding-case-no').textContent()).trim(), s.caseNo);
    await row(page, 'review-counts', { total: 2, pending: 0 }).waitFor();

    // The server: the case holds both findings, the second one merged into it.
    const c = await caseOf(s.caseNo, 'chief1');
    assert.deepEqual(c.findings.map((f) => f.id).sort(), [s.findingA, s.findingB].sort());
    assert.equal(c.findings.find((f) => f.id === s.findingB).state, 'merged');
    assert.equal(c.state, 'filed', 'merging does not change the case');
    const { findings } = await api.get(`/review?date=${today()}`, 'chief1');
    const b = findings.find((f) => f.id === s.findingB);
    assert.equal(b.state, 'merged');
    assert.equal(b.case_no, s.caseNo);

    // And the reporting device learns it at its next sync.
    await patrolOk(s.dev2.home, 'sync');
    const list = JSON.parse((await patrolOk(s.dev2.home, 'list', '--json')).stdout);
    const onDevice = list.find((f) => f.id === s.findingB);
    assert.equal(onDevice.server_state, 'merged');
    assert.equal(onDevice.case_no, s.caseNo);
    assertNoPageErrors(page);
  });

  it('dispatcher1 dispatches the case on the dispatch page', { timeout: 60_000 }, async () => {
    assert.ok(s.caseNo, 'needs the case of the previous steps');
    const page = await openPage();
    await signIn(page, origin, 'dispatcher1', 'dispatcher');
    await page.waitForURL(/#\/cases$/);

    // The "waiting for dispatch" tab lists the filed case.
    const caseRow = row(page, 'case-row', { 'case-no': s.caseNo });
    await row(page, 'case-row', { 'case-no': s.caseNo, state: 'filed' }).waitFor();
    await shot(page, '04-dispatcher1-dispatch');

    await trOf(page, caseRow).getByTestId('case-action-dispatch').click();
    const dialog = actionDialog(page, 'dispatch');
    await dialog.waitFor();
    // The department is preset from the category (环卫, HW).
    await dialog.getByTestId('action-department').filter({ hasText: '环卫' }).waitFor();
    await dialog.getByTestId('action-note').fill('请尽快清运');
    const response = await whileCalling(page, 'POST', `/cases/${s.caseNo}/actions`, () =>
      dialog.getByTestId('action-confirm').click(),
    );
    assert.equal(response.status(), 200);
    assert.deepEqual(response.request().postDataJSON(), { action: 'dispatch', department: 'HW', note: '请尽快清运' });
    await dialog.waitFor({ state: 'hidden' });
    // It leaves the filed tab ...
    await caseRow.waitFor({ state: 'detached' });
    // ... and shows as dispatched among the open cases.
    await page.getByTestId('tab-open').click();
    const dispatched = row(page, 'case-row', { 'case-no': s.caseNo, state: 'dispatched' });
    await dispatched.waitFor();

    // The drawer: state, both findings, the history with the dispatch.
    const opened = await whileCalling(page, 'GET', `/cases/${s.caseNo}`, () => dispatched.click());
    assert.equal(opened.status(), 200);
    const drawer = page.getByTestId('case-drawer');
    await drawer.locator('[data-testid="case-state"][data-state="dispatched"]').waitFor();
    await drawer.locator('[data-testid="case-history-entry"][data-action="dispatch"]').waitFor();
    assert.equal(await drawer.getByTestId('case-finding').count(), 2);
    // Both findings came signed by the phone, and the case's evidence package checks offline.
    assert.equal(await drawer.locator('[data-testid="finding-signed"][data-signed="true"]').count(), 2);
    const [download] = await Promise.all([page.waitForEvent('download'), drawer.getByTestId('case-evidence').click()]);
    const verified = execFileSync(SERVER_BIN, ['evidence', 'verify', await download.path()], { encoding: 'utf8' });
    assert.equal(verified.trim().split('\n').length, 2, verified);
    assert.match(verified, /signature holds/);
    await shot(page, '05-dispatcher1-case-drawer');

    const c = await caseOf(s.caseNo);
    assert.equal(c.state, 'dispatched');
    assert.equal(c.department, 'HW');
    const last = c.history[c.history.length - 1];
    assert.equal(last.action, 'dispatch');
    assert.equal(last.actor, 'dispatcher1');
    assertNoPageErrors(page);
  });

  it('dept-hw accepts the case and handles it with a photo uploaded from the browser', { timeout: 60_000 }, async () => {
    assert.ok(s.caseNo, 'needs the case of the previous steps');
    const page = await openPage();
    await signIn(page, origin, 'dept-hw', 'department');
    await page.waitForURL(/#\/department$/);

    // Accept, from the "dispatched" inbox.
    const caseRow = row(page, 'case-row', { 'case-no': s.caseNo });
    await row(page, 'case-row', { 'case-no': s.caseNo, state: 'dispatched' }).waitFor();
    await shot(page, '06-dept-hw-inbox');
    await trOf(page, caseRow).getByTestId('case-action-accept').click();
    const acceptDialog = actionDialog(page, 'accept');
    await acceptDialog.waitFor();
    const accepted = await whileCalling(page, 'POST', `/cases/${s.caseNo}/actions`, () =>
      acceptDialog.getByTestId('action-confirm').click(),
    );
    assert.equal(accepted.status(), 200);
    assert.equal(accepted.request().postDataJSON().action, 'accept');
    await caseRow.waitFor({ state: 'detached' });
    assert.equal((await caseOf(s.caseNo)).state, 'accepted');

    // Handle, from the "accepted" tab, with a photo chosen in the browser.
    await page.getByTestId('tab-accepted').click();
    await row(page, 'case-row', { 'case-no': s.caseNo, state: 'accepted' }).waitFor();
    await trOf(page, caseRow).getByTestId('case-action-handle').click();
    const dialog = actionDialog(page, 'handle');
    await dialog.waitFor();
    const sha = sha256File(HANDLING_PHOTO);
    await dialog.getByTestId('upload-input').setInputFiles(HANDLING_PHOTO);
    // Hashed in the browser: the item carries the file's SHA-256.
    await dialog.locator(`[data-testid="upload-item"][data-sha256="${sha}"]`).waitFor();
    await dialog.getByTestId('action-note').fill('已清运完毕');
    await shot(page, '07-dept-hw-handle');

    const uploaded = apiResponse(page, 'PUT', `/blobs/${sha}`);
    const handled = await whileCalling(page, 'POST', `/cases/${s.caseNo}/actions`, () =>
      dialog.getByTestId('action-confirm').click(),
    );
    assert.ok([200, 201].includes((await uploaded).status()), 'the photo is uploaded');
    assert.equal(handled.status(), 200);
    assert.deepEqual(handled.request().postDataJSON(), { action: 'handle', note: '已清运完毕', photos: [sha] });
    await dialog.waitFor({ state: 'hidden' });
    await caseRow.waitFor({ state: 'detached' });
    await page.getByTestId('tab-handled').click();
    const handledRow = row(page, 'case-row', { 'case-no': s.caseNo, state: 'handled' });
    await handledRow.waitFor();

    // The drawer shows the case handled, with the handling photo in the history.
    await handledRow.click();
    await page.locator('[data-testid="case-drawer"] [data-testid="case-state"][data-state="handled"]').waitFor();
    const entry = page.locator('[data-testid="case-history-entry"][data-action="handle"]');
    const img = entry.locator(`[data-testid="photo"][data-sha256="${sha}"] img`);
    await img.waitFor();
    await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle());
    await shot(page, '08-dept-hw-handled-drawer');

    // The server: handled, the photo recorded with the handling and stored byte for byte.
    const c = await caseOf(s.caseNo);
    assert.equal(c.state, 'handled');
    const last = c.history[c.history.length - 1];
    assert.equal(last.action, 'handle');
    assert.equal(last.actor, 'dept-hw');
    assert.deepEqual(last.photos, [sha]);
    const blob = await api.call('GET', `/blobs/${sha}`, { as: 'dispatcher1', accept: 'image/*' });
    assert.equal(blob.status, 200);
    assert.ok(Buffer.compare(blob.body, readFileSync(HANDLING_PHOTO)) === 0, 'the stored photo is the uploaded file');
    assertNoPageErrors(page);
  });

  it("inspector1's verification from the device closes the case, and the dashboard counts it", { timeout: 60_000 }, async () => {
    assert.ok(s.caseNo, 'needs the case of the previous steps');
    // The device receives the verification task at its next sync.
    await patrolOk(s.dev1.home, 'sync');
    const tasks = JSON.parse((await patrolOk(s.dev1.home, 'tasks', '--json')).stdout);
    const task = tasks.find((t) => t.case_no === s.caseNo);
    assert.ok(task, `a verification task for ${s.caseNo} on the device: ${JSON.stringify(tasks)}`);
    await patrolOk(s.dev1.home, 'task-complete', task.id, '--result', 'pass');
    const sent = await patrolOk(s.dev1.home, 'sync');
    assert.match(sent.stdout, /applied: 1/);

    const c = await caseOf(s.caseNo);
    assert.equal(c.state, 'closed');
    const last = c.history[c.history.length - 1];
    assert.equal(last.to, 'closed');
    assert.equal(last.actor, 'inspector1');

    const page = await openPage();
    await signIn(page, origin, 'chief1', 'chief');
    // The dashboard opens on the last 7 days, by team.
    const teamStats = await whileCalling(page, 'GET', /^\/stats\?/, () => page.getByTestId('menu-dashboard').click());
    assert.equal(teamStats.status(), 200);
    const teamQuery = new URL(teamStats.url()).searchParams;
    assert.equal(teamQuery.get('group_by'), 'team');
    assert.ok(teamQuery.get('from') <= today() && today() <= teamQuery.get('to'), 'the period includes today');
    const [from, to] = await page.locator('[data-testid="dashboard-range"] input').evaluateAll((els) => els.map((e) => e.value));
    assert.equal(from, teamQuery.get('from'));
    assert.equal(to, today());
    const teamRow = trOf(page, page.getByTestId('stats-key').filter({ hasText: /^一中队$/ }));
    await teamRow.waitFor();
    assert.ok(Number(await teamRow.getByTestId('stats-closed').textContent()) >= 1, 'team 一中队 has a closed case');

    // By inspector: the inspector who reported it (and verified it) shows it closed.
    await page.getByTestId('dashboard-group-by').click();
    const byInspector = await whileCalling(page, 'GET', /^\/stats\?.*group_by=inspector/, () =>
      page.locator('.el-select-dropdown__item:visible').filter({ hasText: /^巡查员$/ }).click(),
    );
    assert.equal(byInspector.status(), 200);
    const inspectorRow = trOf(page, page.getByTestId('stats-key').filter({ hasText: /^inspector1$/ }));
    await inspectorRow.waitFor();
    const closed = Number((await inspectorRow.getByTestId('stats-closed').textContent()).trim());
    assert.ok(closed >= 1, `inspector1 closed ${closed}`);
    const reported = Number((await inspectorRow.getByTestId('stats-reported').textContent()).trim());
    assert.ok(reported >= 1, `inspector1 reported ${reported}`);
    // The table shows what the server computed.
    const rows = (await byInspector.json()).rows;
    const served = rows.find((r) => r.key === 'inspector1');
    assert.equal(served.closed, closed);
    assert.equal(Number((await inspectorRow.getByTestId('stats-closed_on_time').textContent()).trim()), served.closed_on_time);
    // The chart of counts is drawn for the inspectors.
    await page.locator('[data-testid="chart-counts"] svg text').filter({ hasText: /^inspector1$/ }).first().waitFor();
    await shot(page, '09-chief1-dashboard');
    assertNoPageErrors(page);
  });

  it("admin revokes inspector1's device on the devices page; its next sync is refused", { timeout: 60_000 }, async () => {
    const page = await openPage();
    await signIn(page, origin, 'admin', 'admin');
    await page.getByTestId('menu-devices').click();
    await page.waitForURL(/#\/admin\/devices$/);

    const device = row(page, 'device-row', { id: s.dev1.id });
    await row(page, 'device-row', { id: s.dev1.id, revoked: 'false' }).waitFor();
    await row(page, 'device-row', { id: s.dev2.id, revoked: 'false' }).waitFor();
    await shot(page, '10-admin-devices');

    await trOf(page, device).getByTestId('device-revoke').click();
    const confirm = page.locator('.el-message-box__btns .el-button--primary');
    const response = await whileCalling(page, 'POST', `/devices/${s.dev1.id}/revoke`, () => confirm.click());
    assert.equal(response.status(), 200);
    await row(page, 'device-row', { id: s.dev1.id, revoked: 'true' }).waitFor();
    assert.equal(await trOf(page, device).getByTestId('device-revoke').count(), 0, 'no revoke button on a revoked device');
    // The other device is untouched.
    assert.equal(await row(page, 'device-row', { id: s.dev2.id }).getAttribute('data-revoked'), 'false');
    await shot(page, '11-admin-device-revoked');

    const { devices } = await api.get('/devices', 'admin');
    assert.ok(devices.find((d) => d.id === s.dev1.id).revoked_at, 'the server records the revocation');

    const refused = await patrol(s.dev1.home, 'sync');
    assert.notEqual(refused.code, 0, 'a revoked device cannot sync');
    assert.match(refused.stderr, /refused/i);
    await patrolOk(s.dev2.home, 'sync');
    assertNoPageErrors(page);
  });

  it('sign-in refuses a wrong password; signing out ends the session on the server too', { timeout: 60_000 }, async () => {
    const page = await openPage();
    await page.goto(`${origin}/console/`);
    await page.waitForURL(/#\/sign-in/);
    await page.getByTestId('username').fill('chief1');
    await page.getByTestId('password').fill('wrong-password');
    const refused = await whileCalling(page, 'POST', '/sessions', () => page.getByTestId('sign-in-submit').click());
    assert.equal(refused.status(), 401);
    const message = (await refused.json()).error.message;
    await page.getByTestId('sign-in-error').filter({ hasText: message }).waitFor();
    await shot(page, '12-sign-in-refused');

    await signIn(page, origin, 'chief1', 'chief');
    const token = await consoleToken(page);
    assert.ok(token);
    assert.equal((await api.call('GET', '/me', { token })).status, 200);

    const out = await whileCalling(page, 'DELETE', '/sessions/current', () => page.getByTestId('sign-out').click());
    assert.ok(out.status() >= 200 && out.status() < 300, `sign-out answered ${out.status()}`);
    await page.getByTestId('sign-in-form').waitFor();
    await page.waitForURL(/#\/sign-in/);
    assert.equal(await page.getByTestId('welcome').count(), 0);
    assert.equal(await consoleToken(page), null, 'the tab forgets the token');
    assert.equal((await api.call('GET', '/me', { token })).status, 401, 'the server ends the session');

    // A page opened by URL now asks to sign in first.
    await page.goto(`${origin}/console/#/review`);
    await page.waitForURL(/#\/sign-in\?redirect=/);
    await page.getByTestId('sign-in-form').waitFor();
    assertNoPageErrors(page);
  });

  it('a department user opening the review page by URL is refused, by the server as well as the menu', { timeout: 60_000 }, async () => {
    const page = await openPage();
    await signIn(page, origin, 'dept-hw', 'department');
    await page.waitForURL(/#\/department$/);
    await page.getByTestId('menu-department').waitFor();
    assert.equal(await page.getByTestId('menu-review').count(), 0, 'no review entry in the menu');

    // By URL: the console does not show the review page ...
    await page.goto(`${origin}/console/#/review`);
    await page.waitForURL(/#\/department$/);
    await page.getByTestId('department-tabs').waitFor();
    assert.equal(await page.getByTestId('review-table').count(), 0);

    // ... and the server refuses this very session the review list and decisions.
    const answers = await page.evaluate(
      async ({ date, finding }) => {
        const raw = sessionStorage.getItem('tiejiaoban.console.session');
        const headers = { Authorization: `Bearer ${JSON.parse(raw).token}`, 'Content-Type': 'application/json' };
        const list = await fetch(`/api/v1/review?date=${date}`, { headers });
        const decide = await fetch(`/api/v1/findings/${finding}/review`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ decision: 'approve' }),
        });
        return [
          { status: list.status, body: await list.json() },
          { status: decide.status, body: await decide.json() },
        ];
      },
      { date: today(), finding: s.findingB ?? s.findingA },
    );
    for (const answer of answers) {
      assert.equal(answer.status, 403, JSON.stringify(answer));
      assert.equal(answer.body.error.code, 'forbidden');
    }
    assertNoPageErrors(page);
  });

  it('admin creates a team on the teams page and moves inspector3 into it; the users list shows it', { timeout: 60_000 }, async () => {
    const page = await openPage();
    await signIn(page, origin, 'admin', 'admin');
    const listed = await whileCalling(page, 'GET', '/teams', () => page.getByTestId('menu-teams').click());
    assert.equal(listed.status(), 200);
    await page.waitForURL(/#\/admin\/teams$/);

    // The demo's teams, with the server's member counts.
    const { teams } = await api.get('/teams', 'admin');
    assert.ok(teams.some((t) => t.name === '一中队') && teams.some((t) => t.name === '二中队'), JSON.stringify(teams));
    for (const team of teams) await row(page, 'team-row', { name: team.name, members: team.members }).waitFor();

    // A new team: listed, opened, empty.
    await page.getByTestId('team-add').click();
    const addDialog = page.locator('.el-dialog[data-testid="team-dialog"]:visible');
    await addDialog.waitFor();
    await addDialog.getByTestId('team-name').fill('三中队');
    const created = await whileCalling(page, 'POST', '/teams', () => addDialog.getByTestId('team-save').click());
    assert.equal(created.status(), 201);
    assert.deepEqual(created.request().postDataJSON(), { name: '三中队' });
    await addDialog.waitFor({ state: 'hidden' });
    await row(page, 'team-row', { name: '三中队', members: 0 }).waitFor();
    await row(page, 'team-members', { team: '三中队' }).waitFor();
    assert.equal(await page.locator('tr [data-testid="team-member"]').count(), 0);

    // inspector3 (二中队) moves into it.
    await page.getByTestId('team-add-member').click();
    const moveDialog = page.locator('.el-dialog[data-testid="move-dialog"]:visible');
    await moveDialog.waitFor();
    // The target is preset to the open team.
    await moveDialog.getByTestId('move-team').filter({ hasText: '三中队' }).waitFor();
    await moveDialog.getByTestId('move-user').click();
    await page.locator('.el-select-dropdown__item:visible').filter({ hasText: '(inspector3)' }).click();
    await shot(page, '13-admin-team-move');
    const moved = await whileCalling(page, 'PATCH', '/users/inspector3', () => moveDialog.getByTestId('move-confirm').click());
    assert.equal(moved.status(), 200);
    assert.deepEqual(moved.request().postDataJSON(), { team: '三中队' });
    assert.equal((await moved.json()).team, '三中队');
    await moveDialog.waitFor({ state: 'hidden' });
    await row(page, 'team-member', { username: 'inspector3' }).waitFor();
    await row(page, 'team-row', { name: '三中队', members: 1 }).waitFor();
    await shot(page, '14-admin-teams');

    // The departments, read-only, as the server counts them.
    await page.getByTestId('tab-departments').click();
    const { departments } = await api.get('/departments', 'admin');
    const hw = departments.find((d) => d.code === 'HW');
    assert.ok(hw, JSON.stringify(departments));
    await row(page, 'department-row', { code: 'HW', 'open-cases': hw.open_cases }).waitFor();
    await shot(page, '15-admin-departments');

    // The users page shows inspector3 in the new team; the server holds it.
    await page.getByTestId('menu-users').click();
    await page.waitForURL(/#\/admin\/users$/);
    const userRow = trOf(page, row(page, 'user-row', { username: 'inspector3' }));
    await userRow.getByTestId('user-team-cell').filter({ hasText: /^三中队$/ }).waitFor();
    const { users } = await api.get('/users', 'admin');
    assert.equal(users.find((u) => u.username === 'inspector3').team, '三中队');
    assert.equal((await api.get('/teams', 'admin')).teams.find((t) => t.name === '三中队').members, 1);

    // The edit form starts from the user as stored, and sends only what changed.
    await userRow.getByTestId('user-edit').click();
    const editDialog = page.locator('.el-dialog[data-testid="user-edit-dialog"]:visible');
    await editDialog.waitFor();
    await editDialog.getByTestId('user-edit-team').filter({ hasText: '三中队' }).waitFor();
    await editDialog.getByTestId('user-edit-display-name').fill('王强 (三中队)');
    await shot(page, '16-admin-user-edit');
    const edited = await whileCalling(page, 'PATCH', '/users/inspector3', () => editDialog.getByTestId('user-edit-save').click());
    assert.equal(edited.status(), 200);
    assert.deepEqual(edited.request().postDataJSON(), { display_name: '王强 (三中队)' });
    await editDialog.waitFor({ state: 'hidden' });
    await userRow.filter({ hasText: '王强 (三中队)' }).waitFor();
    assertNoPageErrors(page);
  });

  it('admin uploads an offline base map on the offline maps page; a file that is not one is refused', { timeout: 60_000 }, async () => {
    const dir = tempDir('basemap');
    const good = path.join(dir, 'shenhe-e2e.mbtiles');
    const maker = path.resolve(uiDir, '../tests/app-e2e/make-mbtiles.py');
    execFileSync('python3', [maker, good, String(PLACE.lat), String(PLACE.lon)]);
    const junk = path.join(dir, 'junk.mbtiles');
    writeFileSync(junk, 'not a database');

    const page = await openPage();
    await signIn(page, origin, 'admin', 'admin');
    const listed = await whileCalling(page, 'GET', '/basemaps', () => page.getByTestId('menu-basemaps').click());
    assert.equal(listed.status(), 200);
    await page.waitForURL(/#\/admin\/basemaps$/);

    // Not a package: the server's reason is shown, nothing is listed.
    await page.getByTestId('basemap-file').setInputFiles(junk);
    await page.getByTestId('basemap-name').fill('junk');
    const refused = await whileCalling(page, 'PUT', /^\/basemaps\/junk/, () => page.getByTestId('basemap-upload').click());
    assert.equal(refused.status(), 422);
    await page.locator('.el-message--error', { hasText: 'MBTiles' }).waitFor();
    assert.equal(await page.locator('tr [data-testid="basemap-row"]').count(), 0);

    // A package: its name guessed from the file, the datum chosen, uploaded, listed with the server's hash.
    await page.getByTestId('basemap-name').fill('');
    await page.getByTestId('basemap-file').setInputFiles(good);
    assert.equal(await page.getByTestId('basemap-name').inputValue(), 'shenhe-e2e');
    await page.getByTestId('basemap-datum').click();
    await page.locator('.el-select-dropdown__item:visible', { hasText: 'GCJ-02' }).click();
    const uploaded = await whileCalling(page, 'PUT', /^\/basemaps\/shenhe-e2e\?datum=gcj02$/, () =>
      page.getByTestId('basemap-upload').click(),
    );
    assert.equal(uploaded.status(), 201);
    await row(page, 'basemap-row', { name: 'shenhe-e2e', datum: 'gcj02' }).waitFor();
    const { basemaps } = await api.get('/basemaps', 'admin');
    assert.deepEqual(
      basemaps.map((b) => [b.name, b.sha256, b.minzoom, b.maxzoom]),
      [['shenhe-e2e', sha256File(good), 15, 17]],
    );
    await shot(page, 'console-basemaps');

    // The review page's map now draws that package's tiles (fetched with the session's token), under the
    // day's findings around it.
    await whileCalling(page, 'GET', /^\/review\?date=/, () => page.getByTestId('menu-review').click());
    await page.locator('[data-testid="map"][data-basemap="shenhe-e2e"]').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="map"] .leaflet-tile-loaded').length > 0);
    await shot(page, 'console-review-basemap');
  });

  it("chief1's patrols tab shows the roads each patrol walked", { timeout: 60_000 }, async () => {
    // inspector2 walks the length of 中街路 and syncs.
    await patrolOk(s.dev2.home, 'patrol', 'start');
    for (const [lat, lon] of ALONG_ZHONGJIE) {
      await patrolOk(s.dev2.home, 'patrol', 'track', '--lat', String(lat), '--lon', String(lon));
    }
    await patrolOk(s.dev2.home, 'patrol', 'end');
    await patrolOk(s.dev2.home, 'sync');
    const { patrols } = await api.get(`/patrols?date=${today()}`, 'chief1');
    const walked = patrols.find((p) => p.user.username === 'inspector2');
    assert.ok(walked, `inspector2's patrol: ${JSON.stringify(patrols)}`);
    assert.ok(Array.isArray(walked.roads), 'each patrol lists its roads');
    // The demo's roads have centre lines: the walk is on 中街路.
    assert.equal(walked.roads[0]?.name, '中街路', JSON.stringify(walked.roads));

    const page = await openPage();
    await signIn(page, origin, 'chief1', 'chief');
    await page.waitForURL(/#\/review$/);
    const loaded = await whileCalling(page, 'GET', /^\/patrols\?date=/, () => page.locator('#tab-patrols').click());
    assert.equal(loaded.status(), 200);
    await page.locator('[data-testid="patrol-table"] th').filter({ hasText: '途经道路' }).waitFor();
    const cell = row(page, 'patrol-roads', { id: walked.id, count: walked.roads.length });
    await cell.waitFor();
    // As the server measured them, longest first.
    const first = walked.roads[0];
    const tag = cell.locator(`[data-testid="patrol-road"][data-name="${first.name}"]`);
    assert.equal((await tag.textContent()).trim(), `${first.name} ${(first.distance_m / 1000).toFixed(2)} 公里`);
    const shown = await cell.getByTestId('patrol-road').evaluateAll((els) => els.map((e) => e.getAttribute('data-name')));
    assert.deepEqual(shown, walked.roads.slice(0, 3).map((r) => r.name));
    await shot(page, '17-chief1-patrol-roads');
    assertNoPageErrors(page);
  });

  it("chief1's coverage page shows the road walked and those nobody walked, by road and by grid, and exports CSV", { timeout: 60_000 }, async () => {
    const page = await openPage();
    await signIn(page, origin, 'chief1', 'chief');
    const loaded = await whileCalling(page, 'GET', /^\/coverage\?/, () => page.getByTestId('menu-coverage').click());
    assert.equal(loaded.status(), 200);
    await page.waitForURL(/#\/coverage$/);
    // inspector2 walked 中街路 (the step before); the demo's other three roads nobody walked: they come first.
    const walked = row(page, 'coverage-row', { key: '中街路' });
    await walked.waitFor();
    assert.ok(Number(await walked.getAttribute('data-walked')) > 500, await walked.getAttribute('data-walked'));
    assert.equal(await walked.getAttribute('data-days'), '0');
    const keys = await page.getByTestId('coverage-row').evaluateAll((els) => els.map((e) => e.getAttribute('data-key')));
    assert.deepEqual(keys.slice(-1), ['中街路'], `never walked first: ${keys}`);
    assert.equal(keys.length, 4);
    for (const never of ['正阳街', '朝阳街', '北顺城路']) assert.equal(await row(page, 'coverage-row', { key: never }).getAttribute('data-days'), '');
    await page.locator('[data-testid="coverage-summary"][data-walked="1"][data-total="4"]').waitFor();
    await page.locator('[data-testid="coverage-map"][data-tracks="4"]').waitFor();
    await shot(page, 'console-coverage-roads');

    // The same as CSV, as the server writes it.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('coverage-export-csv').click()]);
    const csv = readFileSync(await download.path(), 'utf8');
    assert.ok(csv.startsWith('key,name,owner,walked_m,visits,last_walked_at,days_since_walked,findings\n'), csv);
    assert.ok(csv.includes('\n中街路,中街路,chief1,'), csv);

    // By grid: chief1's team holds the two southern grids of the demo; the walk crossed both.
    const byGrid = await whileCalling(page, 'GET', /^\/coverage\?.*by=grid/, () => page.getByTestId('coverage-by-grid').click());
    assert.equal(byGrid.status(), 200);
    await row(page, 'coverage-row', { key: '210103002' }).waitFor();
    const grids = await page.getByTestId('coverage-row').evaluateAll((els) => els.map((e) => [e.getAttribute('data-key'), Number(e.getAttribute('data-walked'))]));
    assert.deepEqual(grids.map(([k]) => k).sort(), ['210103001', '210103002']);
    assert.ok(grids.every(([, m]) => m > 0), JSON.stringify(grids));
    await page.locator('[data-testid="coverage-map"][data-areas="2"]').waitFor();
    await shot(page, 'console-coverage-grids');
    assertNoPageErrors(page);
  });

  it("chief1's heat map shows where the team's reports are, filtered by category", { timeout: 60_000 }, async () => {
    const page = await openPage();
    await signIn(page, origin, 'chief1', 'chief');
    const loaded = await whileCalling(page, 'GET', /^\/heatmap\?/, () => page.getByTestId('menu-heatmap').click());
    assert.equal(loaded.status(), 200);
    const { points } = await loaded.json();
    assert.ok(points.length >= 2, JSON.stringify(points));
    await page.locator(`[data-testid="heatmap-count"][data-n="${points.length}"]`).waitFor();
    await page.locator(`[data-testid="heatmap-map"][data-heat="${points.length}"]`).waitFor();
    // The reports at PLACE lie in the demo's grid 210103002.
    const inGrid = points.filter((p) => p.grid === '210103002').length;
    assert.ok(inGrid > 0);
    await row(page, 'heatmap-grid', { grid: '210103002', n: inGrid }).waitFor();
    // Only the manhole covers: none were reported.
    await page.getByTestId('heatmap-category').click();
    const filtered = await whileCalling(page, 'GET', /^\/heatmap\?.*category=C0101/, () =>
      page.locator('.el-select-dropdown__item:visible', { hasText: 'C0101' }).first().click(),
    );
    assert.equal((await filtered.json()).points.length, 0);
    await page.locator('[data-testid="heatmap-count"][data-n="0"]').waitFor();
    await page.getByTestId('heatmap-category').click();
    await whileCalling(page, 'GET', /^\/heatmap\?/, () => page.locator('.el-select-dropdown__item:visible').first().click());
    await page.locator(`[data-testid="heatmap-map"][data-heat="${points.length}"]`).waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid="heatmap-map"] canvas.leaflet-heatmap-layer') !== null);
    await shot(page, 'console-heatmap');
    assertNoPageErrors(page);
  });

  it('admin previews a grid file on the grids page: a broken feature is named, a sound file is imported; a road gets its chief', { timeout: 60_000 }, async () => {
    const dir = tempDir('grids');
    // The demo district in two grids, west and east of 123.432.
    const square = (code, name, [w, s2, e, n]) => ({
      type: 'Feature',
      properties: { code, name, team: '一中队', inspectors: ['inspector1'] },
      geometry: { type: 'Polygon', coordinates: [[[w, s2], [e, s2], [e, n], [w, n], [w, s2]]] },
    });
    const good = { type: 'FeatureCollection', features: [
      square('210103101', '沈河西网格', [123.4255, 41.7895, 123.432, 41.8025]),
      square('210103102', '沈河东网格', [123.432, 41.7895, 123.4405, 41.8025]),
    ] };
    const broken = structuredClone(good);
    broken.features[1].geometry.coordinates = [[[123.432, 41.7895], [123.4405, 41.8025], [123.4405, 41.7895], [123.432, 41.8025], [123.432, 41.7895]]];
    const goodFile = path.join(dir, 'grids.geojson');
    const brokenFile = path.join(dir, 'broken.geojson');
    writeFileSync(goodFile, JSON.stringify(good));
    writeFileSync(brokenFile, JSON.stringify(broken));

    const page = await openPage();
    await signIn(page, origin, 'admin', 'admin');
    await page.getByTestId('menu-grids').click();
    await page.waitForURL(/#\/admin\/grids$/);
    // The demo's four grids.
    await page.locator('[data-testid="grid-row"][data-code="210103004"]').waitFor();

    const refused = await whileCalling(page, 'PUT', '/grids?dry_run=true', () => page.getByTestId('grids-file').setInputFiles(brokenFile));
    assert.equal(refused.status(), 422);
    await page.locator('[data-testid="grids-refused"][data-feature="1"]', { hasText: 'self-intersection' }).waitFor();
    await page.locator('[data-testid="grids-preview"][data-n="2"]').waitFor();
    assert.equal(await page.getByTestId('grids-import').count(), 0, 'no import of a refused file');

    const checked = await whileCalling(page, 'PUT', '/grids?dry_run=true', () => page.getByTestId('grids-file').setInputFiles(goodFile));
    assert.equal(checked.status(), 200);
    await page.getByTestId('grids-checked').waitFor();
    await page.locator('[data-testid="grids-map"][data-areas="2"]').waitFor();
    await shot(page, 'console-grids-preview');
    const before = (await api.get('/dictionary', 'admin')).version;
    await page.getByTestId('grids-import').click();
    const imported = await whileCalling(page, 'PUT', '/grids', () => page.locator('.el-message-box__btns .el-button--primary').click());
    assert.equal(imported.status(), 200);
    await page.locator('[data-testid="grid-row"][data-code="210103102"]').waitFor();
    assert.equal(await page.getByTestId('grid-row').count(), 2);
    const after = await api.get('/dictionary', 'admin');
    assert.equal(after.version, before + 1);
    assert.deepEqual(after.grids.map((g) => g.code), ['210103101', '210103102']);

    // 朝阳街's chief becomes chief1.
    await trOf(page, row(page, 'road-row', { name: '朝阳街' })).getByTestId('road-edit').click();
    await page.getByTestId('road-edit-chief').click();
    await page.locator('.el-select-dropdown__item:visible', { hasText: '(chief1)' }).click();
    const saved = await whileCalling(page, 'POST', '/dictionary', () => page.getByTestId('owners-save').click());
    assert.equal(saved.status(), 200);
    await row(page, 'road-row', { name: '朝阳街', chief: 'chief1' }).waitFor();
    const roads = (await api.get('/dictionary', 'admin')).roads;
    assert.equal(roads.find((r) => r.name === '朝阳街').chief, 'chief1');
    await shot(page, 'console-grids');
    assertNoPageErrors(page);
  });

  it("dispatcher1 reassigns a handled case's open verification task in the case drawer, then cancels it", { timeout: 90_000 }, async () => {
    // A second case, taken to "handled" through the API: its verification goes to its reporter, inspector2.
    const finding = await report(s.dev2, { ...ELSEWHERE, description: '暴露垃圾 正阳街' });
    await patrolOk(s.dev2.home, 'sync');
    const approved = await api.call('POST', `/findings/${finding}/review`, { as: 'chief1', json: { decision: 'approve' } });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    const caseNo = approved.body.finding.case_no;
    for (const [as, body] of [
      ['dispatcher1', { action: 'dispatch', department: 'HW' }],
      ['dept-hw', { action: 'accept' }],
      ['dept-hw', { action: 'handle', note: '已清运' }],
    ]) {
      const r = await api.call('POST', `/cases/${caseNo}/actions`, { as, json: body });
      assert.equal(r.status, 200, `${body.action}: ${JSON.stringify(r.body)}`);
    }
    const task = (await caseOf(caseNo)).tasks.find((t) => t.state === 'open');
    assert.equal(task?.assignee, 'inspector2');

    const page = await openPage();
    await signIn(page, origin, 'dispatcher1', 'dispatcher');
    await page.waitForURL(/#\/cases$/);
    await page.getByTestId('tab-open').click();
    const caseRow = row(page, 'case-row', { 'case-no': caseNo, state: 'handled' });
    await caseRow.waitFor();
    const opened = await whileCalling(page, 'GET', `/cases/${caseNo}`, () => caseRow.click());
    assert.equal(opened.status(), 200);
    const drawer = page.getByTestId('case-drawer');
    // (Page-rooted, as `trOf` looks for it inside a row.)
    const openTask = row(page, 'case-task', { id: task.id, state: 'open', assignee: 'inspector2' });
    await openTask.waitFor();

    // Reassign: from the list of inspectors if the dispatcher may list users, else by username.
    const users = await whileCalling(page, 'GET', '/users', () => trOf(page, openTask).getByTestId('task-reassign').click());
    const dialog = page.locator('.el-dialog[data-testid="task-dialog"][data-kind="reassign"]:visible');
    await dialog.waitFor();
    assert.equal((await dialog.getByTestId('task-current').textContent()).trim(), 'inspector2');
    if (users.status() === 403) {
      await dialog.getByTestId('task-assignee-input').fill('inspector1');
    } else {
      assert.equal(users.status(), 200);
      await dialog.getByTestId('task-assignee').click();
      await page.locator('.el-select-dropdown__item:visible').filter({ hasText: '(inspector1)' }).click();
    }
    await dialog.getByTestId('task-note').fill('李娜今日休假, 改由张伟核查');
    await shot(page, '18-dispatcher1-task-reassign');
    const reassigned = await whileCalling(page, 'POST', `/tasks/${task.id}/reassign`, () => dialog.getByTestId('task-confirm').click());
    assert.equal(reassigned.status(), 200, await reassigned.text());
    assert.deepEqual(reassigned.request().postDataJSON(), { assignee: 'inspector1', note: '李娜今日休假, 改由张伟核查' });
    await dialog.waitFor({ state: 'hidden' });

    // The drawer shows the case as the server answered it: the task with inspector1, the step in the history.
    const answered = (await reassigned.json()).tasks.find((t) => t.state === 'open');
    assert.equal(answered?.assignee, 'inspector1');
    const newTask = row(page, 'case-task', { id: answered.id, state: 'open', assignee: 'inspector1' });
    await newTask.waitFor();
    const reassignEntry = drawer.locator('[data-testid="case-history-entry"][data-action="task_reassign"]');
    await reassignEntry.filter({ hasText: '改派核查' }).waitFor();
    await reassignEntry.scrollIntoViewIfNeeded();
    await shot(page, '19-dispatcher1-task-reassigned');
    let c = await caseOf(caseNo);
    assert.deepEqual(
      c.tasks.filter((t) => t.state === 'open').map((t) => t.assignee),
      ['inspector1'],
    );
    assert.equal(c.history.filter((h) => h.action === 'task_reassign').length, 1);

    // Cancel it, with a reason.
    await trOf(page, newTask).getByTestId('task-cancel').click();
    const cancelDialog = page.locator('.el-dialog[data-testid="task-dialog"][data-kind="cancel"]:visible');
    await cancelDialog.waitFor();
    assert.equal(await cancelDialog.getByTestId('task-confirm').isDisabled(), true, 'a reason is needed');
    await cancelDialog.getByTestId('task-note').fill('部门已现场复核, 无需核查');
    const cancelled = await whileCalling(page, 'POST', `/tasks/${answered.id}/cancel`, () =>
      cancelDialog.getByTestId('task-confirm').click(),
    );
    assert.equal(cancelled.status(), 200, await cancelled.text());
    assert.deepEqual(cancelled.request().postDataJSON(), { note: '部门已现场复核, 无需核查' });
    await cancelDialog.waitFor({ state: 'hidden' });
    await drawer.locator(`[data-testid="case-task"][data-id="${answered.id}"][data-state="cancelled"]`).waitFor();
    const cancelEntry = drawer.locator('[data-testid="case-history-entry"][data-action="task_cancel"]');
    await cancelEntry.filter({ hasText: '取消核查' }).waitFor();
    await cancelEntry.scrollIntoViewIfNeeded();
    assert.equal(await drawer.locator('tr [data-testid="task-reassign"]').count(), 0, 'no open task is left');
    await shot(page, '20-dispatcher1-task-cancelled');
    c = await caseOf(caseNo);
    assert.equal(c.tasks.filter((t) => t.state === 'open').length, 0);
    assertNoPageErrors(page);
  });

  it('dispatcher1 supervises a case; dept-hw asks for more time; dispatcher1 approves it: lights, counts and history', { timeout: 90_000 }, async () => {
    // A fresh case of HW, approved by the chief and dispatched through the API.
    const finding = await report(s.dev2, { ...ELSEWHERE, description: '暴露垃圾 督办' });
    await patrolOk(s.dev2.home, 'sync');
    const approved = await api.call('POST', `/findings/${finding}/review`, { as: 'chief1', json: { decision: 'approve' } });
    const caseNo = approved.body.case.case_no;
    await api.call('POST', `/cases/${caseNo}/actions`, { as: 'dispatcher1', json: { action: 'dispatch', department: 'HW' } });

    const page = await openPage();
    await signIn(page, origin, 'dispatcher1', 'dispatcher');
    await page.getByTestId('menu-dispatch').click();
    await whileCalling(page, 'GET', /^\/cases/, () => page.getByTestId('tab-open').click());
    const caseRow = row(page, 'case-row', { 'case-no': caseNo });
    await caseRow.waitFor();
    await trOf(page, caseRow).locator('[data-testid="case-light"][data-light="green"]').waitFor();
    await page.locator('[data-testid="light-counts"][data-red="0"]').waitFor();

    // 督办, with a note.
    await trOf(page, caseRow).getByTestId('case-action-supervise').click();
    const supervise = actionDialog(page, 'supervise');
    await supervise.waitFor();
    assert.equal(await supervise.getByTestId('action-confirm').isDisabled(), true, 'a note is needed');
    await supervise.getByTestId('action-note').fill('市民再次来电, 请今日处理');
    const supervised = await whileCalling(page, 'POST', `/cases/${caseNo}/actions`, () => supervise.getByTestId('action-confirm').click());
    assert.equal(supervised.status(), 200, await supervised.text());
    await trOf(page, caseRow).getByTestId('case-supervisions').filter({ hasText: '督办 1 次' }).waitFor();

    // The department asks for 48 more hours.
    const dept = await openPage();
    await signIn(dept, origin, 'dept-hw', 'department');
    await dept.waitForURL(/#\/department$/);
    const deptRow = row(dept, 'case-row', { 'case-no': caseNo });
    await deptRow.waitFor();
    await trOf(dept, deptRow).getByTestId('case-supervisions').waitFor();
    await trOf(dept, deptRow).getByTestId('case-action-request_extension').click();
    const ask = actionDialog(dept, 'request_extension');
    await ask.waitFor();
    await ask.locator('[data-testid="action-hours"] input').fill('48');
    await ask.getByTestId('action-note').fill('需协调环卫车辆');
    const asked = await whileCalling(dept, 'POST', `/cases/${caseNo}/actions`, () => ask.getByTestId('action-confirm').click());
    assert.equal(asked.status(), 200, await asked.text());
    assert.deepEqual(asked.request().postDataJSON(), { action: 'request_extension', hours: 48, note: '需协调环卫车辆' });
    const before = (await caseOf(caseNo)).due_at;
    assertNoPageErrors(dept);

    // The dispatcher sees the request in the case's drawer and approves it: the deadline moves.
    await whileCalling(page, 'GET', /^\/cases/, () => page.getByTestId('cases-refresh').click());
    await trOf(page, caseRow).getByTestId('case-action-approve_request').click();
    const decide = actionDialog(page, 'approve_request');
    await decide.waitFor();
    await decide.getByTestId('action-note').fill('同意延期');
    const decided = await whileCalling(page, 'POST', `/cases/${caseNo}/actions`, () => decide.getByTestId('action-confirm').click());
    assert.equal(decided.status(), 200, await decided.text());
    const after = await caseOf(caseNo);
    assert.ok(after.due_at > before, `${after.due_at} after ${before}`);
    assert.deepEqual(after.requests.map((r) => [r.kind, r.state, r.decided_by]), [['extension', 'approved', 'dispatcher1']]);
    assert.deepEqual(after.history.slice(-3).map((h) => h.action), ['request_extension', 'approve_request', 'extend']);
    await caseRow.click();
    const drawer = page.locator('.el-drawer:visible');
    await drawer.locator('[data-testid="case-request"][data-kind="extension"][data-state="approved"]').waitFor();
    await shot(page, 'console-supervise-request');
    assertNoPageErrors(page);
  });

  it('dispatcher1 takes a 12345 report on the intake page; inspector2 confirms it on the device and it is filed; the caller stays private', { timeout: 90_000 }, async () => {
    const page = await openPage();
    await signIn(page, origin, 'dispatcher1', 'dispatcher');
    await whileCalling(page, 'GET', /^\/reports/, () => page.getByTestId('menu-intake').click());
    await page.getByTestId('report-new').click();
    const dialog = page.locator('.el-dialog[data-testid="report-dialog"]:visible');
    await dialog.waitFor();
    assert.equal(await dialog.getByTestId('report-send').isDisabled(), true, 'a place is needed');
    await dialog.getByTestId('report-ref').fill('12345-E2E-0001');
    await dialog.getByTestId('report-description').fill('市民来电: 中街路人行道堆放垃圾');
    // A click on the map places a pin; cleared again, the address alone places it (the road it names).
    await dialog.getByTestId('report-map').click();
    await dialog.getByTestId('report-pin').filter({ hasText: /41\.\d+, 123\.\d+/ }).waitFor();
    await dialog.getByTestId('report-pin').getByRole('button').click();
    await dialog.getByTestId('report-address').fill('沈河区中街路 66号门前');
    await dialog.getByTestId('upload-input').setInputFiles(HANDLING_PHOTO);
    await dialog.getByTestId('upload-item').waitFor();
    await dialog.getByTestId('report-contact-name').fill('王先生');
    await dialog.getByTestId('report-contact-phone').fill('13800138000');
    // The grids were re-imported by an earlier step: the centre names who goes.
    await dialog.getByTestId('report-assignee').fill('inspector2');
    const sent = await whileCalling(page, 'POST', '/reports', () => dialog.getByTestId('report-send').click());
    assert.equal(sent.status(), 201, await sent.text());
    const body = sent.request().postDataJSON();
    assert.equal(body.location, null);
    assert.deepEqual([body.channel, body.verify, body.photos.length, body.contact.phone], ['hotline', true, 1, '13800138000']);
    const { report: taken } = await sent.json();
    assert.deepEqual([taken.state, taken.assignee], ['verifying', 'inspector2']);
    assert.ok(taken.location && Math.abs(taken.location.lat - 41.797) < 0.001, 'placed on 中街路 by its address');
    const reportRow = row(page, 'report-row', { id: taken.id });
    await reportRow.waitFor();
    await trOf(page, reportRow).getByTestId('report-contact').filter({ hasText: '13800138000' }).waitFor();

    // On inspector2's phone: the 核实 task, confirmed with a photo and the category found there.
    await patrolOk(s.dev2.home, 'sync');
    const tasks = JSON.parse((await patrolOk(s.dev2.home, 'tasks', '--json')).stdout);
    const confirm = tasks.find((t) => t.task_type === 'confirm' && t.state === 'open');
    assert.ok(confirm, JSON.stringify(tasks));
    await patrolOk(s.dev2.home, 'task-complete', confirm.id, '--result', 'confirmed', '--category', 'E0102', '--photo', photo('orientation-portrait-3.jpg'));
    await patrolOk(s.dev2.home, 'sync');
    await whileCalling(page, 'GET', /^\/reports/, () => page.getByTestId('intake-refresh').click());
    await row(page, 'report-row', { id: taken.id, state: 'filed' }).waitFor();
    await trOf(page, reportRow).getByTestId('report-case').waitFor();

    // A spot check for inspector2, done on the phone with a photo.
    await page.getByTestId('task-new').click();
    const taskDialog = page.locator('.el-dialog[data-testid="task-dialog"]:visible');
    await taskDialog.getByTestId('task-assignee').fill('inspector2');
    const given = await whileCalling(page, 'POST', '/tasks', () => taskDialog.getByTestId('task-send').click());
    assert.equal(given.status(), 201, await given.text());
    const spot = await given.json();
    await row(page, 'task-item', { id: spot.id, state: 'open' }).waitFor();
    await patrolOk(s.dev2.home, 'sync');
    await patrolOk(s.dev2.home, 'task-complete', spot.id, '--result', 'done', '--note', '在中街路口', '--photo', photo('orientation-portrait-3.jpg'));
    await patrolOk(s.dev2.home, 'sync');
    await whileCalling(page, 'GET', /^\/tasks/, () => page.getByTestId('intake-refresh').click());
    await row(page, 'task-item', { id: spot.id, state: 'done' }).waitFor();
    await page.getByTestId('tab-reports').click();
    await shot(page, 'console-intake');
    assertNoPageErrors(page);

    // chief1 sees the report, not the caller.
    const chief = await openPage();
    await signIn(chief, origin, 'chief1', 'chief');
    await whileCalling(chief, 'GET', /^\/reports/, () => chief.getByTestId('menu-intake').click());
    const chiefRow = row(chief, 'report-row', { id: taken.id });
    await chiefRow.waitFor();
    assert.equal(await trOf(chief, chiefRow).getByTestId('report-contact').count(), 0);
    assert.ok(!(await chief.content()).includes('13800138000'), 'the caller reached a chief');
    assertNoPageErrors(chief);
  });

  it("admin reads the audit log: the day's sign-ins, a refused one among them, and exports it as CSV", { timeout: 60_000 }, async () => {
    const page = await openPage();
    await signIn(page, origin, 'admin', 'admin');
    await whileCalling(page, 'GET', /^\/audit/, () => page.getByTestId('menu-audit').click());
    await row(page, 'audit-row', { action: 'sign_in', outcome: 'ok' }).first().waitFor();
    // The wrong password of the sign-in step is there, refused.
    await row(page, 'audit-row', { action: 'sign_in', outcome: 'refused' }).first().waitFor();
    await row(page, 'audit-row', { action: 'device.revoke' }).first().waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('audit-csv').click()]);
    const csv = readFileSync(await download.path(), 'utf8');
    assert.match(csv, /^at,actor,role,action,target,detail,address,outcome\n/);
    assert.match(csv, /,sign_in,/);
    await shot(page, 'console-audit');
    assertNoPageErrors(page);
  });

  it("dispatcher1's map of open cases, each coloured by how close its deadline is, opens a case's drawer", { timeout: 60_000 }, async () => {
    const page = await openPage();
    await signIn(page, origin, 'dispatcher1', 'dispatcher');
    await page.getByTestId('menu-dispatch').click();
    await page.waitForURL(/#\/cases$/);
    const listed = await whileCalling(page, 'GET', /^\/cases/, () => page.getByTestId('tab-open').click());
    const open = (await listed.json()).cases.filter((c) => !['closed', 'voided'].includes(c.state));
    assert.ok(open.length > 0, 'open cases after the steps before');
    await page.getByTestId('dispatch-mode-map').click();
    await page.locator(`[data-testid="dispatch-map"][data-points="${open.length}"][data-areas="2"]`).waitFor();
    await shot(page, 'console-dispatch-map');
    await page.getByTestId('dispatch-mode-list').click();
    await page.getByTestId('case-table').waitFor();
    assertNoPageErrors(page);
  });

  it('chief2 turns on two-factor sign-in with an authenticator app; the next sign-in asks for its code; the admin resets it', { timeout: 60_000 }, async () => {
    const page = await openPage();
    await signIn(page, origin, 'chief2', 'chief');
    await page.getByTestId('menu-account').click();
    await page.locator('[data-testid="totp-state"][data-enabled="false"]').waitFor();
    await whileCalling(page, 'POST', '/me/totp', () => page.getByTestId('totp-begin').click());
    const secret = (await page.getByTestId('totp-secret').textContent()).trim();
    await page.getByTestId('totp-qr').waitFor();
    const app = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 });
    await page.getByTestId('totp-code').fill(app.generate());
    await shot(page, 'console-two-factor-setup');
    await whileCalling(page, 'POST', '/me/totp/confirm', () => page.getByTestId('totp-confirm').click());
    await page.locator('[data-testid="totp-state"][data-enabled="true"]').waitFor();

    // Signed out and in again: the password, then the code (of the next step: the first one is spent).
    await page.getByTestId('sign-out').click();
    await page.getByTestId('username').fill('chief2');
    await page.getByTestId('password').fill('demo1234');
    const first = await whileCalling(page, 'POST', '/sessions', () => page.getByTestId('sign-in-submit').click());
    assert.equal(first.status(), 401);
    await page.getByTestId('totp').fill(app.generate({ timestamp: Date.now() + 30_000 }));
    const second = await whileCalling(page, 'POST', '/sessions', () => page.getByTestId('sign-in-submit').click());
    assert.equal(second.status(), 201);
    await page.locator('[data-testid="welcome"][data-role="chief"]').waitFor();
    assertNoPageErrors(page);

    const admin = await openPage();
    await signIn(admin, origin, 'admin', 'admin');
    const user = row(admin, 'user-row', { username: 'chief2' });
    await trOf(admin, user).getByTestId('user-totp').waitFor();
    await trOf(admin, user).getByTestId('user-reset-totp').click();
    await whileCalling(admin, 'DELETE', '/users/chief2/totp', () => admin.locator('.el-message-box__btns .el-button--primary').click());
    await trOf(admin, user).getByTestId('user-totp').waitFor({ state: 'detached' });
    assertNoPageErrors(admin);
  });

  it("admin registers a system webhook on the integrations page; its test message reaches a receiver, signed, and is listed as delivered", { timeout: 90_000 }, async () => {
    // The receiver: a local HTTP server that keeps every request it gets and answers 200.
    const received = [];
    const receiver = createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        received.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
      });
    });
    await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const hookUrl = `http://127.0.0.1:${receiver.address().port}/tiejiaoban/hook`;
    try {
      const page = await openPage();
      await signIn(page, origin, 'admin', 'admin');
      await whileCalling(page, 'GET', '/webhooks', () => page.getByTestId('menu-integrations').click());
      await page.waitForURL(/#\/admin\/integrations$/);

      // A system endpoint: URL, one event, a secret generated in the browser and read off the form.
      await page.getByTestId('webhook-add').click();
      const dialog = page.locator('.el-dialog[data-testid="webhook-dialog"]:visible');
      await dialog.waitFor();
      await dialog.getByTestId('webhook-url').fill(hookUrl);
      await dialog.locator('[data-testid="webhook-event"][data-event="case.filed"]').click();
      await dialog.getByTestId('webhook-secret-generate').click();
      const secret = await dialog.getByTestId('webhook-secret').inputValue();
      assert.match(secret, /^[A-Za-z0-9]{32}$/);
      await dialog.getByTestId('webhook-description').fill('e2e 接收方');
      await shot(page, 'console-integrations-add');
      const created = await whileCalling(page, 'POST', '/webhooks', () => dialog.getByTestId('webhook-save').click());
      assert.equal(created.status(), 201);
      assert.deepEqual(created.request().postDataJSON(), {
        url: hookUrl,
        format: 'json',
        events: ['case.filed'],
        secret,
        department: null,
        description: 'e2e 接收方',
      });
      const hook = await created.json();
      assert.equal(hook.signed, true);
      assert.equal(hook.secret, undefined, 'the server never answers the secret');
      await dialog.waitFor({ state: 'hidden' });
      const hookRow = row(page, 'webhook-row', { id: hook.id, format: 'json', active: 'true' });
      await hookRow.waitFor();
      await trOf(page, hookRow).getByTestId('webhook-signed').waitFor();

      // 测试: a ping, queued, then posted to the receiver with the signature of its body.
      const pinged = await whileCalling(page, 'POST', `/webhooks/${hook.id}/ping`, () =>
        trOf(page, hookRow).getByTestId('webhook-ping').click(),
      );
      assert.equal(pinged.status(), 202);
      const { delivery_id: deliveryId } = await pinged.json();
      const [post] = await until(() => received.length > 0 && received, { timeout: 30_000, message: 'the ping at the receiver' });
      assert.equal(post.method, 'POST');
      assert.equal(post.url, '/tiejiaoban/hook');
      const signature = post.headers['x-tiejiaoban-signature'];
      assert.ok(signature, `no X-Tiejiaoban-Signature in ${JSON.stringify(post.headers)}`);
      assert.equal(signature, `sha256=${createHmac('sha256', secret).update(post.body).digest('hex')}`);
      assert.equal(JSON.parse(post.body.toString('utf8')).event, 'ping');

      // 投递记录: the ping, delivered (the drawer asks again while a delivery is due), its try answered 200.
      await trOf(page, hookRow).getByTestId('webhook-deliveries').click();
      const drawer = page.getByTestId('deliveries-drawer');
      const delivered = row(page, 'delivery-row', { id: deliveryId, event: 'ping', state: 'delivered' });
      await delivered.waitFor({ timeout: 30_000 });
      await trOf(page, delivered).getByTestId('delivery-state').filter({ hasText: '已送达' }).waitFor();
      await trOf(page, delivered).locator('.el-table__expand-icon').click();
      const tried = drawer.locator('[data-testid="delivery-try"][data-status="200"]');
      await tried.waitFor();
      assert.match(await tried.textContent(), /ok/);
      await shot(page, 'console-integrations-deliveries');
      const { deliveries } = await api.get(`/webhooks/${hook.id}/deliveries`, 'admin');
      assert.deepEqual(
        deliveries.map((d) => [d.id, d.event, d.state]),
        [[deliveryId, 'ping', 'delivered']],
      );

      // Closing the drawer refreshes the counts; 停用 stops the endpoint after confirming.
      await drawer.locator('.el-drawer__close-btn').click();
      await row(page, 'webhook-row', { id: hook.id, delivered: 1, pending: 0, failed: 0 }).waitFor();
      await trOf(page, hookRow).getByTestId('webhook-stop').click();
      const stopped = await whileCalling(page, 'DELETE', `/webhooks/${hook.id}`, () =>
        page.locator('.el-message-box__btns .el-button--primary').click(),
      );
      assert.equal(stopped.status(), 204);
      await row(page, 'webhook-row', { id: hook.id, active: 'false' }).waitFor();
      assert.equal((await api.get('/webhooks', 'admin')).webhooks.find((h) => h.id === hook.id).active, false);
      await shot(page, 'console-integrations');

      // A group robot's message links to the department page with `?case=`: the case opens in its drawer.
      assert.ok(s.caseNo, 'needs the case of the previous steps');
      await page.goto(`${origin}/console/#/department?case=${s.caseNo}`);
      await page.locator('[data-testid="case-drawer"] [data-testid="case-state"]').waitFor();
      assert.match(await page.getByTestId('case-drawer').textContent(), new RegExp(s.caseNo));
      assertNoPageErrors(page);
    } finally {
      // The server's HTTP client keeps its connection open: closed here, or `close` would wait for it.
      receiver.closeAllConnections();
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it("dispatcher1 exports this month's cases as CSV and downloads the file; admin issues an API token for dispatcher1, shown once", { timeout: 90_000 }, async () => {
    const page = await openPage();
    await signIn(page, origin, 'dispatcher1', 'dispatcher');
    await whileCalling(page, 'GET', '/exports', () => page.getByTestId('menu-exports').click());
    await page.waitForURL(/#\/exports$/);

    // The form's defaults: this month's cases, as CSV, without photos.
    const form = page.locator('[data-testid="export-form"][data-kind="cases"]');
    await form.waitFor();
    const begun = await whileCalling(page, 'POST', '/exports', () => page.getByTestId('export-start').click());
    assert.equal(begun.status(), 202);
    const month = today().slice(0, 7);
    const asked = begun.request().postDataJSON();
    assert.equal(asked.kind, 'cases');
    assert.equal(asked.format, 'csv');
    assert.equal(asked.photos, false);
    assert.equal(asked.from, `${month}-01`);
    assert.ok(asked.to.startsWith(month), asked.to);
    const job = await begun.json();
    assert.equal(job.file_name, `cases-${asked.from}-${asked.to}.csv`);

    // Followed until done (the page asks after it), then downloaded with the session's token.
    const done = row(page, 'export-row', { id: job.id, state: 'done' });
    await done.waitFor({ timeout: 30_000 });
    await trOf(page, done).getByTestId('export-state').filter({ hasText: '完成' }).waitFor();
    assert.equal(await done.getAttribute('data-rows'), await done.getAttribute('data-total'));
    await shot(page, 'console-exports');
    const [download] = await Promise.all([page.waitForEvent('download'), trOf(page, done).getByTestId('export-download').click()]);
    assert.equal(download.suggestedFilename(), job.file_name);
    const csv = readFileSync(await download.path(), 'utf8').replace(/^\uFEFF/, '');
    assert.ok(csv.startsWith('case_no,state,category'), csv.slice(0, 200));
    assertNoPageErrors(page);

    // 集成 → 接口令牌: a token for dispatcher1, its secret shown once with the warning.
    const admin = await openPage();
    await signIn(admin, origin, 'admin', 'admin');
    await whileCalling(admin, 'GET', '/webhooks', () => admin.getByTestId('menu-integrations').click());
    await whileCalling(admin, 'GET', '/integrations', () => admin.getByTestId('tab-tokens').click());
    await admin.getByTestId('token-add').click();
    const dialog = admin.locator('.el-dialog[data-testid="token-dialog"]:visible');
    await dialog.waitFor();
    await dialog.getByTestId('token-name').fill('12345 热线');
    await dialog.getByTestId('token-username').click();
    await admin.locator('.el-select-dropdown__item:visible', { hasText: '(dispatcher1)' }).click();
    const issued = await whileCalling(admin, 'POST', '/integrations', () => dialog.getByTestId('token-save').click());
    assert.equal(issued.status(), 201);
    assert.deepEqual(issued.request().postDataJSON(), { name: '12345 热线', username: 'dispatcher1' });
    const { id, secret } = await issued.json();
    assert.match(secret, /^tjb_int_/);
    const shown = admin.locator('.el-dialog[data-testid="token-secret-dialog"]:visible');
    await shown.waitFor();
    assert.equal(await shown.getByTestId('token-secret').inputValue(), secret);
    assert.match(await shown.getByTestId('token-once').textContent(), /仅显示一次/);
    await shot(admin, 'console-integration-token');
    // It is dispatcher1's bearer token.
    const me = await fetch(`${origin}/api/v1/me`, { headers: { Authorization: `Bearer ${secret}` } });
    assert.equal(me.status, 200);
    assert.equal((await me.json()).user.username, 'dispatcher1');

    // Closed, it is not shown again; the list holds the token in force, which 吊销 ends at once.
    await shown.getByTestId('token-secret-close').click();
    await shown.waitFor({ state: 'hidden' });
    assert.ok(!(await admin.content()).includes(secret), 'the secret is still on the page');
    const tokenRow = row(admin, 'token-row', { id, username: 'dispatcher1', revoked: 'false' });
    await tokenRow.waitFor();
    await trOf(admin, tokenRow).getByTestId('token-revoke').click();
    const revoked = await whileCalling(admin, 'DELETE', `/integrations/${id}`, () =>
      admin.locator('.el-message-box__btns .el-button--primary').click(),
    );
    assert.equal(revoked.status(), 204);
    await row(admin, 'token-row', { id, revoked: 'true' }).waitFor();
    const after = await fetch(`${origin}/api/v1/me`, { headers: { Authorization: `Bearer ${secret}` } });
    assert.equal(after.status, 401);
    assertNoPageErrors(admin);
  });
});
