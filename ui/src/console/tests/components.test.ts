// Component tests of the console's team, user and verification-task pieces, against a fake server.
import { afterEach, describe, expect, it } from 'vitest';
import type { VueWrapper } from '@vue/test-utils';
import type { Case, CaseTask, ConsoleUser } from '../../shared/types';
import CaseDrawer from '../components/CaseDrawer.vue';
import CaseTasks from '../components/CaseTasks.vue';
import TeamsView from '../views/admin/TeamsView.vue';
import UsersView from '../views/admin/UsersView.vue';
import PatrolsTab from '../views/review/PatrolsTab.vue';
import FindingDetail from '../views/review/FindingDetail.vue';
import BasemapsView from '../views/admin/BasemapsView.vue';
import { caseOf, consoleUser, reviewItem, task } from './fixtures';
import { answer, byTestId, fakeServer, mountConsole, settle, signOut, signedInAs, type } from './harness';

let wrapper: VueWrapper | null = null;

afterEach(() => {
  wrapper?.unmount();
  wrapper = null;
  signOut();
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
