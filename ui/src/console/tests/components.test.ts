// Component tests of the console's team, user, verification-task, integration and export pieces, and of case
// links, against a fake server.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { VueWrapper } from '@vue/test-utils';
import { createMemoryHistory, createRouter } from 'vue-router';
import type { Case, CaseTask, ConsoleUser } from '../../shared/types';
import CaseDrawer from '../components/CaseDrawer.vue';
import CaseTasks from '../components/CaseTasks.vue';
import TeamsView from '../views/admin/TeamsView.vue';
import UsersView from '../views/admin/UsersView.vue';
import PatrolsTab from '../views/review/PatrolsTab.vue';
import FindingDetail from '../views/review/FindingDetail.vue';
import BasemapsView from '../views/admin/BasemapsView.vue';
import IntegrationsView from '../views/admin/IntegrationsView.vue';
import DepartmentView from '../views/DepartmentView.vue';
import ExportsView from '../views/ExportsView.vue';
import { thisMonth } from '../exports';
import { attempt, caseOf, consoleUser, delivery, exportJob, integrationToken, reviewItem, task, webhook } from './fixtures';
import { answer, byTestId, fakeServer, mountConsole, settle, signOut, signedInAs, type } from './harness';

let wrapper: VueWrapper | null = null;

afterEach(() => {
  wrapper?.unmount();
  wrapper = null;
  signOut();
  vi.unstubAllGlobals();
  document.body.innerHTML = '';
});

function handled(tasks: CaseTask[]): Case {
  return caseOf({ history: [], findings: [], tasks });
}

/** A user of 一中队 unless `fields` says otherwise. */
function user(username: string, fields: Partial<ConsoleUser> = {}): ConsoleUser {
  return consoleUser(username, { team: '一中队', ...fields });
}

/** Elements with this testid in the rows of tables (Element Plus renders a column's template once more, hidden). */
function inRows(id: string): HTMLElement[] {
  return byTestId(id).filter((e) => e.closest('tr'));
}

/** The visible buttons and fields of the (teleported) dialog with this testid. */
function dialog(testid: string): HTMLElement {
  const el = document.querySelector<HTMLElement>(`.el-dialog[data-testid="${testid}"]`);
  if (!el) throw new Error(`no dialog ${testid}`);
  return el;
}

/** The `<input>` of an `<el-input>` (which puts the testid on the input itself). */
function inputOf(id: string, root: ParentNode): HTMLInputElement {
  const [el] = byTestId(id, root);
  const input = el?.tagName === 'INPUT' ? el : el?.querySelector('input');
  if (!input) throw new Error(`no input ${id}`);
  return input as HTMLInputElement;
}

function click(el: Element): void {
  (el as HTMLElement).click();
}

describe('CaseTasks', () => {
  const tasks = [
    task({ id: 'old', state: 'failed', result: 'fail', completed_at: '2026-11-22T10:00:00+08:00', note: '未清理干净' }),
    task({ id: 'task-1' }),
  ];

  it("lists the tasks; a department user gets no buttons", async () => {
    signedInAs('department');
    fakeServer({});
    wrapper = await mountConsole(CaseTasks, { target: handled(tasks) });
    expect(inRows('case-task').map((e) => [e.dataset.id, e.dataset.state, e.dataset.assignee])).toEqual([
      ['old', 'failed', 'inspector1'],
      ['task-1', 'open', 'inspector1'],
    ]);
    expect(wrapper.text()).toContain('核查不通过');
    expect(wrapper.text()).toContain('未清理干净');
    expect(inRows('task-reassign')).toHaveLength(0);
  });

  it('lets a dispatcher who may not list users reassign an open task by typing a username', async () => {
    signedInAs('dispatcher');
    const updated = handled([tasks[0], task({ state: 'cancelled' }), task({ id: 'task-2', assignee: 'inspector2' })]);
    const server = fakeServer({
      'GET /api/v1/users': () => answer(403, { error: { code: 'forbidden', message: 'admins only' } }),
      'POST /api/v1/tasks/task-1/reassign': () => answer(200, updated),
    });
    wrapper = await mountConsole(CaseTasks, { target: handled(tasks) });
    // Only the open task offers the actions.
    expect(inRows('task-reassign')).toHaveLength(1);
    click(inRows('task-reassign')[0]);
    await settle();

    const form = dialog('task-dialog');
    expect(form.dataset.kind).toBe('reassign');
    expect(byTestId('task-current', form)[0].textContent).toBe('inspector1');
    // 403 on the users list: a text field, with a word on why.
    const input = inputOf('task-assignee-input', form);
    expect(form.textContent).toContain('无权查看用户列表');
    const confirm = byTestId<HTMLButtonElement>('task-confirm', form)[0];
    expect(confirm.disabled).toBe(true);
    type(input, 'inspector2');
    type(form.querySelector('textarea')!, '就近核查');
    await settle();
    expect(confirm.disabled).toBe(false);
    click(confirm);
    await settle();

    const post = server.calls.find((c) => c.method === 'POST');
    expect(post?.path).toBe('/api/v1/tasks/task-1/reassign');
    expect(post?.body).toEqual({ assignee: 'inspector2', note: '就近核查' });
    expect(wrapper.emitted('changed')).toEqual([[updated]]);
  });

  it('offers an admin the active inspectors other than the current one', async () => {
    signedInAs('admin');
    fakeServer({
      'GET /api/v1/users': () =>
        answer(200, {
          users: [
            user('inspector1'),
            user('inspector2'),
            user('inspector3', { team: '二中队' }),
            user('inspector9', { active: false }),
            user('chief1', { role: 'chief' }),
          ],
        }),
    });
    wrapper = await mountConsole(CaseTasks, { target: handled(tasks) });
    click(inRows('task-reassign')[0]);
    await settle();
    const form = dialog('task-dialog');
    expect(byTestId('task-assignee', form)).toHaveLength(1);
    expect(byTestId('task-assignee-input', form)).toHaveLength(0);
    // The options live in the select's popper; their labels name the user and team.
    const options = [...document.querySelectorAll('.el-select-dropdown__item')].map((e) => e.textContent?.trim());
    expect(options).toEqual(['inspector2 (inspector2) · 一中队', 'inspector3 (inspector3) · 二中队']);
  });

  it("needs a reason to cancel, and shows the server's word when the task is no longer open", async () => {
    signedInAs('chief', '一中队');
    const server = fakeServer({
      'POST /api/v1/tasks/task-1/cancel': () =>
        answer(409, { error: { code: 'invalid_transition', message: 'this task is already passed' } }),
    });
    wrapper = await mountConsole(CaseTasks, { target: handled(tasks) });
    click(inRows('task-cancel')[0]);
    await settle();
    const form = dialog('task-dialog');
    expect(form.dataset.kind).toBe('cancel');
    const confirm = byTestId<HTMLButtonElement>('task-confirm', form)[0];
    expect(confirm.disabled).toBe(true);
    type(form.querySelector('textarea')!, '案件已由部门复核');
    await settle();
    click(confirm);
    await settle();
    expect(server.calls.map((c) => [c.method, c.path, c.body])).toEqual([
      ['POST', '/api/v1/tasks/task-1/cancel', { note: '案件已由部门复核' }],
    ]);
    expect(wrapper.emitted('stale')).toHaveLength(1);
    expect(wrapper.emitted('changed')).toBeUndefined();
    expect(document.querySelector('.el-message')?.textContent).toContain('this task is already passed');
  });
});

describe('TeamsView', () => {
  const teams = [
    { name: '一中队', members: 2, created_at: '2026-11-22T08:00:00+08:00' },
    { name: '二中队', members: 1, created_at: '2026-11-22T08:00:00+08:00' },
  ];
  const users = [user('inspector1'), user('chief1', { role: 'chief' }), user('inspector3', { team: '二中队' }), user('admin', { role: 'admin', team: null })];

  it('lists teams with their members and the departments, and creates a team', async () => {
    signedInAs('admin');
    let created = false;
    const server = fakeServer({
      'GET /api/v1/teams': () =>
        answer(200, { teams: created ? [...teams, { name: '三中队', members: 0, created_at: '2026-11-22T09:00:00+08:00' }] : teams }),
      'GET /api/v1/users': () => answer(200, { users }),
      'GET /api/v1/departments': () => answer(200, { departments: [{ code: 'HW', name: '环卫所', users: 1, open_cases: 4 }] }),
      'POST /api/v1/teams': () => {
        created = true;
        return answer(201, { name: '三中队', members: 0, created_at: '2026-11-22T09:00:00+08:00' });
      },
    });
    wrapper = await mountConsole(TeamsView);
    expect(inRows('team-row').map((e) => [e.dataset.name, e.dataset.members])).toEqual(
      expect.arrayContaining([
        ['一中队', '2'],
        ['二中队', '1'],
      ]),
    );
    // The first team in the list (pinyin order) is open with its members.
    expect(byTestId('team-members')[0].dataset.team).toBe('二中队');
    expect(inRows('team-member').map((e) => e.dataset.username)).toEqual(['inspector3']);
    expect(inRows('department-row').map((e) => [e.dataset.code, e.dataset.openCases])).toEqual([['HW', '4']]);

    click(byTestId('team-add')[0]);
    await settle();
    const form = dialog('team-dialog');
    type(form.querySelector('input')!, ' 三中队 ');
    await settle();
    click(byTestId('team-save', form)[0]);
    await settle();
    expect(server.calls.find((c) => c.method === 'POST')?.body).toEqual({ name: '三中队' });
    // The new team is listed and open, with no members yet.
    expect(inRows('team-row').map((e) => e.dataset.name)).toContain('三中队');
    expect(byTestId('team-members')[0].dataset.team).toBe('三中队');
    expect(inRows('team-member')).toHaveLength(0);
  });

  it('says so when the team exists', async () => {
    signedInAs('admin');
    fakeServer({
      'GET /api/v1/teams': () => answer(200, { teams }),
      'GET /api/v1/users': () => answer(200, { users }),
      'GET /api/v1/departments': () => answer(200, { departments: [] }),
      'POST /api/v1/teams': () => answer(409, { error: { code: 'conflict', message: 'exists' } }),
    });
    wrapper = await mountConsole(TeamsView);
    click(byTestId('team-add')[0]);
    await settle();
    const form = dialog('team-dialog');
    type(form.querySelector('input')!, '一中队');
    await settle();
    click(byTestId('team-save', form)[0]);
    await settle();
    expect(document.querySelector('.el-message')?.textContent).toContain('队伍 一中队 已存在');
  });

  it('shows the teams and their members when the departments cannot be loaded, and says why', async () => {
    signedInAs('admin');
    fakeServer({
      'GET /api/v1/teams': () => answer(200, { teams }),
      'GET /api/v1/users': () => answer(200, { users }),
      'GET /api/v1/departments': () => answer(503, { error: { code: 'unavailable', message: 'the store is busy' } }),
    });
    wrapper = await mountConsole(TeamsView);
    expect(inRows('team-row').map((e) => e.dataset.name)).toEqual(expect.arrayContaining(['一中队', '二中队']));
    expect(inRows('team-member').map((e) => e.dataset.username)).toEqual(['inspector3']);
    expect(inRows('department-row')).toHaveLength(0);
    const errors = Array.from(document.querySelectorAll('.el-message--error'), (e) => e.textContent ?? '');
    expect(errors.some((text) => text.includes('the store is busy'))).toBe(true);
  });
});

describe('UsersView', () => {
  it('disables a user after confirming, and edits a name through PATCH', async () => {
    signedInAs('admin');
    let list = [user('inspector3', { display_name: '王强', team: '二中队' }), user('admin', { role: 'admin', team: null })];
    const server = fakeServer({
      'GET /api/v1/users': () => answer(200, { users: list }),
      'GET /api/v1/teams': () => answer(200, { teams: [] }),
      'GET /api/v1/dictionary': () => answer(200, { version: 1, categories: [], departments: [], roads: [] }),
      'PATCH /api/v1/users/inspector3': (body) => {
        list = list.map((u) => (u.username === 'inspector3' ? { ...u, ...(body as object) } : u));
        return answer(200, list[0]);
      },
    });
    wrapper = await mountConsole(UsersView);
    // No disabling oneself.
    expect(inRows('user-deactivate')).toHaveLength(1);

    click(inRows('user-deactivate')[0]);
    await settle();
    click(document.querySelector('.el-message-box__btns .el-button--primary')!);
    await settle();
    expect(server.calls.filter((c) => c.method === 'PATCH').map((c) => c.body)).toEqual([{ active: false }]);
    expect(inRows('user-reactivate')).toHaveLength(1);
    expect(inRows('user-active').map((e) => e.dataset.active)).toEqual(['false', 'true']);

    click(inRows('user-edit')[0]);
    await settle();
    const form = dialog('user-edit-dialog');
    const save = byTestId<HTMLButtonElement>('user-edit-save', form)[0];
    // Nothing changed yet.
    expect(save.disabled).toBe(true);
    type(inputOf('user-edit-display-name', form), '王强 (三中队)');
    await settle();
    expect(save.disabled).toBe(false);
    click(save);
    await settle();
    expect(server.calls.filter((c) => c.method === 'PATCH').map((c) => c.body)).toEqual([
      { active: false },
      { display_name: '王强 (三中队)' },
    ]);
  });
});

describe('BasemapsView', () => {
  it('lists the offline maps offered and removes one after confirming', async () => {
    signedInAs('admin');
    let removed = false;
    const shenhe = {
      name: 'shenhe',
      format: 'mbtiles',
      datum: 'gcj02',
      bounds: [123.4, 41.77, 123.46, 41.81],
      minzoom: 12,
      maxzoom: 17,
      bytes: 52428800,
      sha256: 'ab'.repeat(32),
      updated_at: '2026-12-04T08:00:00+08:00',
      tile_format: 'png',
    };
    const server = fakeServer({
      'GET /api/v1/basemaps': () => answer(200, { basemaps: removed ? [] : [shenhe] }),
      'DELETE /api/v1/basemaps/shenhe': () => {
        removed = true;
        return new Response(null, { status: 204 });
      },
    });
    wrapper = await mountConsole(BasemapsView);
    expect(inRows('basemap-row').map((e) => [e.dataset.name, e.dataset.datum])).toEqual([['shenhe', 'gcj02']]);
    expect(document.body.textContent).toContain('50.0 MB');
    expect(document.body.textContent).toContain('12–17');
    click(inRows('basemap-remove')[0]);
    await settle();
    click(document.querySelector('.el-message-box__btns .el-button--primary')!);
    await settle(4);
    expect(server.calls.some((c) => c.method === 'DELETE' && c.path === '/api/v1/basemaps/shenhe')).toBe(true);
    expect(inRows('basemap-row')).toHaveLength(0);
  });
});

describe('FindingDetail', () => {
  it('shows the phone fix beside a manual pin, and how far apart they are', async () => {
    signedInAs('chief', '一中队');
    fakeServer({});
    const pinned = reviewItem({
      location: { lat: 41.7968, lon: 123.4328, accuracy_m: 0, source: 'manual', fixed_at: '2026-11-22T08:00:00+08:00' },
      // About 111 m north of the pin.
      gps: { lat: 41.7978, lon: 123.4328, accuracy_m: 9, fixed_at: '2026-11-22T07:59:40+08:00' },
    });
    wrapper = await mountConsole(FindingDetail, { finding: pinned, busy: false }, { PhotoViewer: true });
    const [fix] = byTestId('finding-gps');
    expect(fix.dataset.distance).toBe('111');
    expect(fix.textContent).toContain('41.797800, 123.432800');
    expect(fix.textContent).toContain('距标注点 111 米');
    expect(wrapper.text()).toContain('手动标注');

    await wrapper.setProps({ finding: reviewItem() });
    expect(byTestId('finding-gps')).toHaveLength(0);
  });
});

describe('PatrolsTab', () => {
  it("shows the roads each patrol walked, longest first, the rest folded", async () => {
    signedInAs('chief', '一中队');
    const patrol = (id: string, username: string, roads: { name: string; distance_m: number }[]) => ({
      id,
      user: { username, display_name: username },
      team: '一中队',
      started_at: '2026-11-22T08:00:00+08:00',
      ended_at: '2026-11-22T09:00:00+08:00',
      distance_m: 1500,
      findings: 2,
      points: [
        [41.7968, 123.428, '2026-11-22T08:00:00+08:00'],
        [41.797, 123.4385, '2026-11-22T09:00:00+08:00'],
      ],
      roads,
    });
    fakeServer({
      'GET /api/v1/patrols?date=2026-11-22': () =>
        answer(200, {
          patrols: [
            patrol('p1', 'inspector1', [
              { name: '中街路', distance_m: 880 },
              { name: '正阳街', distance_m: 310 },
              { name: '朝阳街', distance_m: 200 },
              { name: '北顺城路', distance_m: 90 },
            ]),
            patrol('p2', 'inspector2', []),
          ],
        }),
    });
    wrapper = await mountConsole(PatrolsTab, { date: '2026-11-22' }, { MapView: true });
    expect(inRows('patrol-roads').map((e) => [e.dataset.id, e.dataset.count])).toEqual([
      ['p1', '4'],
      ['p2', '0'],
    ]);
    const [first, second] = inRows('patrol-roads');
    expect(byTestId('patrol-road', first).map((e) => e.textContent?.trim())).toEqual([
      '中街路 0.88 公里',
      '正阳街 0.31 公里',
      '朝阳街 0.20 公里',
    ]);
    expect(first.textContent).toContain('另 1 条');
    expect(second.textContent?.trim()).toBe('—');
  });
});

describe('CaseDrawer', () => {
  it('shows the tasks, and after a reassignment the case the server answered, with the new history entry', async () => {
    signedInAs('dispatcher');
    const before = handled([task()]);
    const after: Case = {
      ...handled([task({ state: 'cancelled', completed_at: '2026-11-22T09:00:00+08:00' }), task({ id: 'task-2', assignee: 'inspector2' })]),
      history: [
        {
          at: '2026-11-22T09:00:00+08:00',
          actor: 'dispatcher1',
          role: 'dispatcher',
          action: 'task_reassign',
          from: 'handled',
          to: 'handled',
          note: 'inspector1 → inspector2',
          photos: [],
          due_at: null,
        },
      ],
    };
    const server = fakeServer({
      'GET /api/v1/cases/20261122-0001': () => answer(200, before),
      'GET /api/v1/users': () => answer(403, { error: { code: 'forbidden', message: 'admins only' } }),
      'POST /api/v1/tasks/task-1/reassign': () => answer(200, after),
    });
    wrapper = await mountConsole(CaseDrawer, { caseNo: '20261122-0001' }, { MapView: true, PhotoViewer: true });
    expect(inRows('case-task').map((e) => e.dataset.state)).toEqual(['open']);
    expect(document.body.textContent).toContain('核查任务 (1)');

    click(inRows('task-reassign')[0]);
    await settle();
    const form = dialog('task-dialog');
    type(inputOf('task-assignee-input', form), 'inspector2');
    await settle();
    click(byTestId('task-confirm', form)[0]);
    await settle();

    expect(inRows('case-task').map((e) => [e.dataset.assignee, e.dataset.state])).toEqual([
      ['inspector1', 'cancelled'],
      ['inspector2', 'open'],
    ]);
    const entry = byTestId('case-history-entry').find((e) => e.dataset.action === 'task_reassign');
    expect(entry?.textContent).toContain('改派核查');
    expect(wrapper.emitted('changed')).toEqual([[after]]);
    // The answer was the detail: no second GET.
    expect(server.calls.filter((c) => c.method === 'GET' && c.path.startsWith('/api/v1/cases/'))).toHaveLength(1);
  });
});

/** The option of an open or closed Element Plus select (its popper is in the document) with this text. */
function option(text: string): HTMLElement {
  const found = [...document.querySelectorAll<HTMLElement>('.el-select-dropdown__item')].find((e) => e.textContent?.trim() === text);
  if (!found) throw new Error(`no option ${text}`);
  return found;
}

/** Element Plus shows (and hides) a form item's error 100 ms after its state changes (`refDebounced`). */
async function fieldErrorShown(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 150));
  await settle();
}

describe('IntegrationsView', () => {
  const HOOK = '6f1c2a52-0000-4000-8000-000000000001';
  const WECOM = '6f1c2a52-0000-4000-8000-000000000002';
  const system = webhook({ events: ['case.filed', 'case.overdue'], pending: 2, delivered: 40, description: '区数字城管平台' });
  const wecom = webhook({
    id: WECOM,
    url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa',
    format: 'wecom',
    events: [],
    department: 'HW',
    signed: false,
    delivered: 5,
    failed: 3,
  });
  const stopped = webhook({
    id: '6f1c2a52-0000-4000-8000-000000000003',
    url: 'https://oapi.dingtalk.com/robot/send?access_token=abc',
    format: 'dingtalk',
    events: [],
    department: 'SZ',
    active: false,
  });
  const departments = [
    { code: 'HW', name: '环卫所', users: 1, open_cases: 4 },
    { code: 'SZ', name: '市政所', users: 1, open_cases: 0 },
  ];

  it('lists each endpoint with its kind, what it gets, its signature, state and delivery counts', async () => {
    signedInAs('admin');
    fakeServer({
      'GET /api/v1/webhooks': () => answer(200, { webhooks: [system, wecom, stopped] }),
      'GET /api/v1/departments': () => answer(200, { departments }),
    });
    wrapper = await mountConsole(IntegrationsView);
    const rows = inRows('webhook-row');
    expect(rows.map((e) => [e.dataset.format, e.dataset.active, e.dataset.pending, e.dataset.delivered, e.dataset.failed])).toEqual([
      ['json', 'true', '2', '40', '0'],
      ['wecom', 'true', '0', '5', '3'],
      ['dingtalk', 'false', '0', '0', '0'],
    ]);
    expect(rows.map((e) => e.textContent?.trim())).toEqual(['系统接口', '企业微信群机器人', '钉钉群机器人']);
    // A system endpoint's events by name; a robot's department by name.
    expect(inRows('webhook-subscription').map((e) => e.textContent?.replace(/\s+/g, ' ').trim())).toEqual([
      '立案、案件超期',
      '环卫所',
      '市政所',
    ]);
    // The robot's key is not spelled out in the list.
    const urls = inRows('webhook-url-cell');
    expect(urls.map((e) => e.textContent?.trim())).toEqual([
      'example.gov.cn/tiejiaoban/webhook',
      'qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…',
      'oapi.dingtalk.com/robot/send?access_token=…',
    ]);
    expect(inRows('webhook-signed')).toHaveLength(2);
    expect(inRows('webhook-state').map((e) => e.textContent?.trim())).toEqual(['启用', '启用', '已停用']);
    // Given-up deliveries stand out, only where there are some.
    expect(inRows('webhook-failed').map((e) => [e.textContent, e.classList.contains('failed')])).toEqual([
      ['0', false],
      ['3', true],
      ['0', false],
    ]);
    // A stopped endpoint is neither tested nor stopped again; its deliveries stay readable.
    expect(inRows('webhook-ping')).toHaveLength(2);
    expect(inRows('webhook-stop')).toHaveLength(2);
    expect(inRows('webhook-deliveries')).toHaveLength(3);
    expect(document.body.textContent).toContain('区数字城管平台');
  });

  it('sends a test message, and stops an endpoint after confirming', async () => {
    signedInAs('admin');
    let list = [system];
    const server = fakeServer({
      'GET /api/v1/webhooks': () => answer(200, { webhooks: list }),
      'GET /api/v1/departments': () => answer(200, { departments }),
      [`POST /api/v1/webhooks/${HOOK}/ping`]: () => {
        list = [{ ...system, pending: 3 }];
        return answer(202, { delivery_id: 7 });
      },
      [`DELETE /api/v1/webhooks/${HOOK}`]: () => {
        list = [{ ...system, active: false, pending: 0 }];
        return new Response(null, { status: 204 });
      },
    });
    wrapper = await mountConsole(IntegrationsView);
    click(inRows('webhook-ping')[0]);
    await settle();
    expect(server.calls.filter((c) => c.method === 'POST').map((c) => c.path)).toEqual([`/api/v1/webhooks/${HOOK}/ping`]);
    expect(inRows('webhook-row')[0].dataset.pending).toBe('3');

    click(inRows('webhook-stop')[0]);
    await settle();
    click(document.querySelector('.el-message-box__btns .el-button--primary')!);
    await settle();
    expect(server.calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual([`/api/v1/webhooks/${HOOK}`]);
    expect(inRows('webhook-row')[0].dataset.active).toBe('false');
    expect(inRows('webhook-ping')).toHaveLength(0);
  });

  it("adds a DingTalk robot for a department; a refused URL is named under the URL field", async () => {
    signedInAs('admin');
    let list = [system];
    const robot = webhook({ id: WECOM, url: 'https://oapi.dingtalk.com/robot/send?access_token=t0k', format: 'dingtalk', department: 'HW' });
    const server = fakeServer({
      'GET /api/v1/webhooks': () => answer(200, { webhooks: list }),
      'GET /api/v1/departments': () => answer(200, { departments }),
      'POST /api/v1/webhooks': (body) => {
        if ((body as { url: string }).url.startsWith('oapi')) {
          return answer(422, {
            error: {
              code: 'invalid',
              message: '`oapi.dingtalk.com/robot/send` is not a URL: relative URL without a base',
              details: { field: 'url' },
            },
          });
        }
        list = [system, robot];
        return answer(201, robot);
      },
    });
    wrapper = await mountConsole(IntegrationsView);
    click(byTestId('webhook-add')[0]);
    await settle();
    const form = dialog('webhook-dialog');
    click(option('钉钉群机器人'));
    await settle();
    expect(form.dataset.format).toBe('dingtalk');
    // A robot: no events to choose, a department, DingTalk's optional signing secret, and what it posts.
    expect(byTestId('webhook-event', form)).toHaveLength(0);
    expect(form.textContent).toContain('https://oapi.dingtalk.com/robot/send?access_token=…');
    expect(byTestId('webhook-robot-note', form)[0].textContent).toContain('派遣、督办和超期');
    expect(byTestId('webhook-secret-generate', form)).toHaveLength(0);
    const save = byTestId<HTMLButtonElement>('webhook-save', form)[0];
    type(inputOf('webhook-url', form), 'oapi.dingtalk.com/robot/send?access_token=t0k');
    await settle();
    // No department yet.
    expect(save.disabled).toBe(true);
    click(option('环卫所 (HW)'));
    type(inputOf('webhook-secret', form), 'SEC0123456789abcdef');
    type(inputOf('webhook-description', form), '环卫所工作群');
    await settle();
    expect(save.disabled).toBe(false);
    click(save);
    await settle();
    await fieldErrorShown();

    // Refused: the server's reason under the URL, the dialog still open, no toast.
    const urlItem = byTestId('webhook-url-item', form)[0];
    expect(urlItem.querySelector('.el-form-item__error')?.textContent).toContain('is not a URL');
    expect(form.querySelectorAll('.el-form-item__error')).toHaveLength(1);
    expect(document.querySelector('.el-message--error')).toBeNull();
    // Mending the URL takes the error away; the robot is added.
    type(inputOf('webhook-url', form), 'https://oapi.dingtalk.com/robot/send?access_token=t0k');
    await settle();
    await fieldErrorShown();
    expect(urlItem.querySelector('.el-form-item__error')).toBeNull();
    click(save);
    await settle();
    const posts = server.calls.filter((c) => c.method === 'POST').map((c) => c.body);
    expect(posts).toHaveLength(2);
    expect(posts[1]).toEqual({
      url: 'https://oapi.dingtalk.com/robot/send?access_token=t0k',
      format: 'dingtalk',
      events: [],
      secret: 'SEC0123456789abcdef',
      department: 'HW',
      description: '环卫所工作群',
    });
    expect(inRows('webhook-row').map((e) => e.dataset.format)).toEqual(['json', 'dingtalk']);
  });

  it('generates a secret for a system endpoint and sends the events checked', async () => {
    signedInAs('admin');
    const server = fakeServer({
      'GET /api/v1/webhooks': () => answer(200, { webhooks: [] }),
      'GET /api/v1/departments': () => answer(200, { departments }),
      'POST /api/v1/webhooks': () => answer(201, system),
    });
    wrapper = await mountConsole(IntegrationsView);
    click(byTestId('webhook-add')[0]);
    await settle();
    const form = dialog('webhook-dialog');
    expect(byTestId('webhook-event', form).map((e) => [e.dataset.event, e.textContent?.replace(/\s+/g, ' ').trim()])).toEqual([
      ['case.filed', '立案 case.filed'],
      ['case.changed', '案件变更 case.changed'],
      ['case.overdue', '案件超期 case.overdue'],
      ['report.changed', '上报变更 report.changed'],
      ['task.completed', '任务完成 task.completed'],
      ['finding.rejected', '审核不通过 finding.rejected'],
    ]);
    type(inputOf('webhook-url', form), ' https://example.gov.cn/tiejiaoban/webhook ');
    // Checked out of order: sent in the list's order.
    click(byTestId('webhook-event', form)[5].querySelector('input')!);
    await settle();
    click(byTestId('webhook-event', form)[0].querySelector('input')!);
    click(byTestId('webhook-secret-generate', form)[0]);
    await settle();
    const secret = inputOf('webhook-secret', form).value;
    expect(secret).toMatch(/^[A-Za-z0-9]{32}$/);
    click(byTestId('webhook-save', form)[0]);
    await settle();
    expect(server.calls.find((c) => c.method === 'POST')?.body).toEqual({
      url: 'https://example.gov.cn/tiejiaoban/webhook',
      format: 'json',
      events: ['case.filed', 'finding.rejected'],
      secret,
      department: null,
      description: '',
    });
  });

  it("shows a delivery's tries when unfolded, filters by state, and sends one again", async () => {
    signedInAs('admin');
    const failing = delivery({
      id: 12,
      event: 'case.changed',
      subject: '20261204-0002',
      state: 'failed',
      attempts: 2,
      delivered_at: null,
      tries: [
        attempt({ status: null, error: 'connection refused', answer: null, millis: 3 }),
        attempt({ at: '2026-12-04T08:00:11+08:00', status: 500, error: 'HTTP 500', answer: 'database is down', millis: 120 }),
      ],
    });
    let resent = false;
    const server = fakeServer({
      'GET /api/v1/webhooks': () => answer(200, { webhooks: [{ ...system, failed: resent ? 0 : 1 }] }),
      'GET /api/v1/departments': () => answer(200, { departments }),
      [`GET /api/v1/webhooks/${HOOK}/deliveries`]: () =>
        answer(200, { deliveries: [resent ? { ...failing, state: 'delivered', attempts: 3, tries: [...failing.tries, attempt()] } : failing, delivery()] }),
      [`GET /api/v1/webhooks/${HOOK}/deliveries?state=failed`]: () => answer(200, { deliveries: [failing] }),
      [`POST /api/v1/webhooks/${HOOK}/deliveries/12/retry`]: () => {
        resent = true;
        return answer(202, { delivery_id: 12 });
      },
    });
    wrapper = await mountConsole(IntegrationsView);
    click(inRows('webhook-deliveries')[0]);
    await settle();
    const drawer = document.querySelector<HTMLElement>('.el-drawer[data-testid="deliveries-drawer"]')!;
    expect(inRows('delivery-row').map((e) => [e.dataset.id, e.dataset.state, e.dataset.event, e.dataset.attempts])).toEqual([
      ['12', 'failed', 'case.changed', '2'],
      ['1', 'delivered', 'case.filed', '1'],
    ]);
    expect(inRows('delivery-state').map((e) => e.textContent?.trim())).toEqual(['已放弃', '已送达']);
    expect(drawer.textContent).toContain('20261204-0002');

    // Unfolded: every try with its status, error, answer and time.
    click(drawer.querySelectorAll('.el-table__expand-icon')[0]);
    await settle();
    const tries = byTestId('delivery-try', drawer);
    expect(tries.map((e) => [...e.querySelectorAll('td')].slice(1).map((td) => td.textContent?.trim()))).toEqual([
      ['—', 'connection refused', '—', '3 毫秒'],
      ['500', 'HTTP 500', 'database is down', '120 毫秒'],
    ]);

    // Only the given-up ones.
    click(option('已放弃'));
    await settle();
    expect(server.calls.some((c) => c.path === `/api/v1/webhooks/${HOOK}/deliveries?state=failed`)).toBe(true);
    expect(inRows('delivery-row').map((e) => e.dataset.id)).toEqual(['12']);

    click(inRows('delivery-retry')[0]);
    await settle();
    expect(server.calls.filter((c) => c.method === 'POST').map((c) => c.path)).toEqual([`/api/v1/webhooks/${HOOK}/deliveries/12/retry`]);
    // Asked again after: the drawer's list (still filtered) and the endpoint's counts.
    const after = server.calls.slice(server.calls.findIndex((c) => c.method === 'POST'));
    expect(after.map((c) => c.path)).toEqual(
      expect.arrayContaining([`/api/v1/webhooks/${HOOK}/deliveries?state=failed`, '/api/v1/webhooks']),
    );
    expect(inRows('webhook-row')[0].dataset.failed).toBe('0');
  });
});

describe('IntegrationsView, 接口令牌', () => {
  const TOKEN = '0c4e7a10-0000-4000-8000-000000000001';
  const SECRET = 'tjb_int_q3YzV8pLw2Rk5TnXc7HmJd4Fs9Ga6Be1';
  const users = [
    consoleUser('inspector1', { display_name: '张伟', team: '一中队' }),
    consoleUser('admin', { display_name: '管理员', role: 'admin' }),
    consoleUser('dispatcher1', { display_name: '李娜', role: 'dispatcher' }),
    consoleUser('dept-hw', { display_name: '环卫所', role: 'department', department: 'HW', active: false }),
  ];
  const revoked = integrationToken({ id: '0c4e7a10-0000-4000-8000-000000000002', name: '旧 Open311 客户端', revoked_at: '2026-12-05T10:00:00+08:00' });

  /** The page on its tokens' tab (the webhooks' tab, shown first, asks for its own lists). */
  async function tokensTab(routes: Parameters<typeof fakeServer>[0]) {
    const server = fakeServer({
      'GET /api/v1/webhooks': () => answer(200, { webhooks: [] }),
      'GET /api/v1/departments': () => answer(200, { departments: [] }),
      'GET /api/v1/users': () => answer(200, { users }),
      ...routes,
    });
    wrapper = await mountConsole(IntegrationsView);
    // Not asked for until the tab is opened.
    expect(server.calls.some((c) => c.path === '/api/v1/integrations')).toBe(false);
    click(byTestId('tab-tokens')[0]);
    await settle();
    return server;
  }

  it('explains the tokens, and issues one for a dispatcher whose secret is shown once, with a warning and a copy button', async () => {
    signedInAs('admin');
    let list = [revoked];
    const issued = integrationToken();
    const server = await tokensTab({
      'GET /api/v1/integrations': () => answer(200, { tokens: list }),
      'POST /api/v1/integrations': () => {
        list = [issued, revoked];
        return answer(201, { ...issued, secret: SECRET });
      },
    });
    const help = byTestId('tokens-help')[0].textContent ?? '';
    for (const words of ['Bearer', 'POST /api/v1/reports', '12345', 'api_key', '/open311/v2/', '派遣员']) expect(help).toContain(words);
    expect(inRows('token-row').map((e) => [e.textContent?.trim(), e.dataset.revoked])).toEqual([['旧 Open311 客户端', 'true']]);
    expect(inRows('token-revoke')).toHaveLength(0);

    click(byTestId('token-add')[0]);
    await settle();
    const form = dialog('token-dialog');
    // Who a token may act as: active users who are not admins, the dispatchers first.
    const offered = [...document.querySelectorAll<HTMLElement>('.el-select-dropdown__item')].map((e) => e.textContent?.trim());
    expect(offered).toEqual(['李娜 (dispatcher1) · 派遣员', '张伟 (inspector1) · 巡查员']);
    const save = byTestId<HTMLButtonElement>('token-save', form)[0];
    type(inputOf('token-name', form), ' 12345 热线 ');
    await settle();
    expect(save.disabled).toBe(true);
    click(option('李娜 (dispatcher1) · 派遣员'));
    await settle();
    click(save);
    await settle();
    expect(server.calls.filter((c) => c.method === 'POST').map((c) => c.body)).toEqual([{ name: '12345 热线', username: 'dispatcher1' }]);

    // The token, once: in a field to select, with the warning and a button that copies it.
    const shown = dialog('token-secret-dialog');
    expect(byTestId('token-once', shown)[0].textContent).toContain('仅显示一次');
    expect(byTestId<HTMLTextAreaElement>('token-secret', shown)[0].value).toBe(SECRET);
    expect(shown.textContent).toContain('dispatcher1');
    vi.stubGlobal('isSecureContext', true);
    const copied = vi.spyOn(navigator.clipboard, 'writeText').mockResolvedValue(undefined);
    click(byTestId('token-copy', shown)[0]);
    await settle();
    expect(copied).toHaveBeenCalledWith(SECRET);
    expect(document.querySelector('.el-message--success')?.textContent).toContain('已复制');
    // The list asked again has it, in force, without the secret.
    expect(inRows('token-row').map((e) => [e.dataset.id, e.dataset.revoked])).toEqual([
      [TOKEN, 'false'],
      [revoked.id, 'true'],
    ]);
    expect(inRows('token-revoke')).toHaveLength(1);

    // Closed: the secret is nowhere on the page any more.
    click(byTestId('token-secret-close', shown)[0]);
    await settle();
    expect(document.body.innerHTML).not.toContain(SECRET);
    expect([...document.querySelectorAll<HTMLInputElement>('input, textarea')].some((i) => i.value === SECRET)).toBe(false);
  });

  it('names a refused user under the user field, and issues nothing', async () => {
    signedInAs('admin');
    const server = await tokensTab({
      'GET /api/v1/integrations': () => answer(200, { tokens: [] }),
      'POST /api/v1/integrations': () =>
        answer(422, { error: { code: 'invalid', message: '`inspector1` is deactivated', details: { field: 'username' } } }),
    });
    click(byTestId('token-add')[0]);
    await settle();
    const form = dialog('token-dialog');
    type(inputOf('token-name', form), 'Open311');
    click(option('张伟 (inspector1) · 巡查员'));
    await settle();
    click(byTestId('token-save', form)[0]);
    await settle();
    await fieldErrorShown();
    const userItem = byTestId('token-username-item', form)[0];
    expect(userItem.querySelector('.el-form-item__error')?.textContent).toContain('is deactivated');
    expect(form.querySelectorAll('.el-form-item__error')).toHaveLength(1);
    expect(document.querySelector('.el-message--error')).toBeNull();
    expect(document.querySelector('.el-dialog[data-testid="token-secret-dialog"]')).toBeNull();
    expect(server.calls.filter((c) => c.method === 'POST')).toHaveLength(1);
    // Another user takes the refusal away.
    click(option('李娜 (dispatcher1) · 派遣员'));
    await settle();
    await fieldErrorShown();
    expect(userItem.querySelector('.el-form-item__error')).toBeNull();
  });

  it('revokes a token after confirming', async () => {
    signedInAs('admin');
    let list = [integrationToken()];
    const server = await tokensTab({
      'GET /api/v1/integrations': () => answer(200, { tokens: list }),
      [`DELETE /api/v1/integrations/${TOKEN}`]: () => {
        list = [integrationToken({ revoked_at: '2026-12-05T10:00:00+08:00' })];
        return new Response(null, { status: 204 });
      },
    });
    click(inRows('token-revoke')[0]);
    await settle();
    expect(document.querySelector('.el-message-box')?.textContent).toContain('12345 热线');
    click(document.querySelector('.el-message-box__btns .el-button--primary')!);
    await settle();
    expect(server.calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual([`/api/v1/integrations/${TOKEN}`]);
    expect(inRows('token-row')[0].dataset.revoked).toBe('true');
    expect(inRows('token-state').map((e) => e.textContent?.trim())).toEqual(['已吊销']);
  });
});

describe('ExportsView', () => {
  const RUNNING = '01938f2a-0000-7000-8000-000000000002';
  const running = exportJob({
    id: RUNNING,
    request: { ...exportJob().request, format: 'xlsx', photos: true, state: 'dispatched' },
    file_name: 'cases-2026-12-01-2026-12-31.zip',
    state: 'running',
    rows: 40,
    total: 100,
    photos: 3,
    bytes: 0,
    finished_at: null,
  });
  const done = exportJob();

  /** The radio input of an Element Plus radio button with this testid. */
  function radio(id: string): HTMLInputElement {
    return byTestId(id)[0].querySelector('input')!;
  }

  it('sends the period, the format, the filters and the photos asked for, and lists the export begun', async () => {
    signedInAs('dispatcher');
    const server = fakeServer({
      'GET /api/v1/exports': () => answer(200, { exports: [done] }),
      'POST /api/v1/exports': (body) => answer(202, { ...running, request: body }),
      [`GET /api/v1/exports/${RUNNING}`]: () => answer(200, running),
    });
    wrapper = await mountConsole(ExportsView);
    // Both kinds for a dispatcher; cases, CSV, this month, no photos to begin with.
    expect(byTestId('export-kind-findings')).toHaveLength(1);
    expect(byTestId('export-form')[0].dataset.kind).toBe('cases');
    click(radio('export-format-xlsx'));
    click(byTestId('export-photos')[0]);
    click(option('已派遣'));
    await settle();
    click(byTestId('export-start')[0]);
    await settle();
    const [from, to] = thisMonth();
    expect(server.calls.filter((c) => c.method === 'POST').map((c) => c.body)).toEqual([
      { kind: 'cases', format: 'xlsx', from, to, state: 'dispatched', category: null, department: null, grid: null, photos: true },
    ]);
    expect(inRows('export-row').map((e) => [e.dataset.id, e.dataset.state])).toEqual([
      [RUNNING, 'running'],
      [done.id, 'done'],
    ]);
    expect(inRows('export-what')[0].textContent?.trim()).toBe('案件 · Excel');
  });

  it('names a refused period under the period', async () => {
    signedInAs('dispatcher');
    fakeServer({
      'GET /api/v1/exports': () => answer(200, { exports: [] }),
      'POST /api/v1/exports': () =>
        answer(422, { error: { code: 'invalid', message: 'an export covers at most 366 days', details: { field: 'to' } } }),
    });
    wrapper = await mountConsole(ExportsView);
    click(byTestId('export-start')[0]);
    await settle();
    await fieldErrorShown();
    expect(byTestId('export-period-item')[0].querySelector('.el-form-item__error')?.textContent).toContain('at most 366 days');
    expect(document.querySelector('.el-message--error')).toBeNull();
  });

  it("shows a running export's progress and follows it until done; a done one downloads", async () => {
    signedInAs('dispatcher');
    let now = running;
    const server = fakeServer({
      'GET /api/v1/exports': () => answer(200, { exports: [running, done] }),
      [`GET /api/v1/exports/${RUNNING}`]: () => answer(200, now),
      [`GET /api/v1/exports/${done.id}/file`]: () => new Response('case_no,state,category\n', { status: 200, headers: { 'Content-Type': 'text/csv' } }),
    });
    const saved = vi.spyOn(URL, 'createObjectURL').mockReturnValue('blob:export');
    wrapper = await mountConsole(ExportsView);
    // Running: the bar at 40 %, rows and photos so far, nothing to download yet.
    const [first, second] = inRows('export-row');
    expect([first.dataset.state, first.dataset.rows, first.dataset.total, first.dataset.photos]).toEqual(['running', '40', '100', '3']);
    expect(inRows('export-state').map((e) => e.textContent?.trim())).toEqual(['导出中', '完成']);
    const bars = inRows('export-progress');
    expect(bars).toHaveLength(1);
    expect(bars[0].getAttribute('aria-valuenow')).toBe('40');
    expect(inRows('export-counts').map((e) => e.textContent?.replace(/\s+/g, ' ').trim())).toEqual(['40 / 100 行 · 照片 3 张', '120 / 120 行']);
    expect(second.dataset.state).toBe('done');
    const downloads = inRows('export-download');
    expect(downloads).toHaveLength(1);
    expect(downloads[0].closest('tr')?.contains(second)).toBe(true);

    // Asked after until done; then no more.
    now = { ...running, state: 'done', rows: 100, photos: 12, bytes: 2_500_000, finished_at: '2026-12-04T09:01:00+08:00' };
    await new Promise((resolve) => setTimeout(resolve, 1_700));
    await settle();
    expect(inRows('export-row')[0].dataset.state).toBe('done');
    expect(inRows('export-progress')).toHaveLength(0);
    expect(inRows('export-download')).toHaveLength(2);
    const polls = () => server.calls.filter((c) => c.path === `/api/v1/exports/${RUNNING}`).length;
    const asked = polls();
    expect(asked).toBeGreaterThanOrEqual(1);
    await new Promise((resolve) => setTimeout(resolve, 1_700));
    expect(polls()).toBe(asked);

    // The file, fetched with the session's token and offered as a download under its name.
    click(inRows('export-download')[1]);
    await settle();
    const fetched = server.calls.find((c) => c.path === `/api/v1/exports/${done.id}/file`);
    expect(fetched?.auth).toBe('Bearer tok');
    expect(saved).toHaveBeenCalledTimes(1);
  });

  it('offers a department user cases only, of its own department', async () => {
    signedInAs('department');
    fakeServer({ 'GET /api/v1/exports': () => answer(200, { exports: [] }) });
    wrapper = await mountConsole(ExportsView);
    expect(byTestId('export-kind-cases')).toHaveLength(1);
    expect(byTestId('export-kind-findings')).toHaveLength(0);
    expect(byTestId('export-department')).toHaveLength(0);
  });
});

describe('case links', () => {
  it("opens the case of `?case=` in the department page's drawer, and takes it off the URL when closed", async () => {
    signedInAs('department');
    const server = fakeServer({
      'GET /api/v1/cases/20261122-0001': () => answer(200, caseOf({ state: 'dispatched', history: [], findings: [], tasks: [] })),
    });
    const router = createRouter({
      history: createMemoryHistory(),
      routes: [{ path: '/department', component: DepartmentView }],
    });
    await router.push('/department?case=20261122-0001');
    wrapper = await mountConsole(DepartmentView, {}, { MapView: true, PhotoViewer: true }, router);
    expect(server.calls.filter((c) => c.path.startsWith('/api/v1/cases/')).map((c) => c.path)).toEqual(['/api/v1/cases/20261122-0001']);
    expect(document.querySelector('[data-testid="case-state"]')?.getAttribute('data-state')).toBe('dispatched');

    // (The drawer tells it is closing from its leave transition, which the tests do without.)
    wrapper.findComponent(CaseDrawer).vm.$emit('close');
    await settle();
    expect(router.currentRoute.value.fullPath).toBe('/department');
    expect(wrapper.findComponent(CaseDrawer).props('caseNo')).toBeNull();
  });
});
