/// <reference types="node" />
// Unit tests of the console's pure pieces: the API client's new calls, teams and user edits, verification
// tasks, the case actions offered, patrol roads, webhooks, integration tokens, exports, labels and messages.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Team, UserInfo } from '../../shared/types';
import zhCN from '../../shared/i18n/zh-CN';
import en from '../../shared/i18n/en';
import { setLocale } from '../../shared/i18n';
import { hasMessage, literalKeys } from '../../shared/testing/messages';
import {
  ApiError,
  addTeam,
  beginExport,
  cancelTask,
  exportFile,
  getExport,
  issueIntegrationToken,
  listDepartments,
  listExports,
  listIntegrationTokens,
  listPatrols,
  listDeliveries,
  listTeams,
  reassignTask,
  refusedField,
  retryDelivery,
  revokeIntegrationToken,
  setToken,
  updateUser,
} from '../api';
import { allowedActions, NEEDS_HOURS, NEEDS_NOTE } from '../cases';
import { emptyExportForm, exportBody, exportField, exportKinds, exportPercent, thisMonth } from '../exports';
import { emptyWebhookForm, formField, newSecret, shortUrl, tokenUsers, webhookBody, webhookFormReady } from '../integrations';
import {
  actionLabel,
  deliveryStateLabel,
  exportFormatLabel,
  exportKindLabel,
  exportStateLabel,
  taskStateLabel,
  taskStateType,
  webhookEventLabel,
  webhookFormatLabel,
} from '../labels';
import { splitRoads } from '../patrols';
import { canManageTasks, isUsername, reassignCandidates } from '../tasks';
import { formOf, membersOf, patchOf, teamNames } from '../teams';
import { caseOf, consoleUser, delivery, exportJob, integrationToken, task } from './fixtures';
import { answer, fakeServer } from './harness';

afterEach(() => {
  setToken(null);
  setLocale('zh-CN');
});

describe('API client', () => {
  it('lists and adds teams with the session token', async () => {
    const server = fakeServer({
      'GET /api/v1/teams': () => answer(200, { teams: [{ name: '一中队', members: 3, created_at: '2026-11-22T08:00:00+08:00' }] }),
      'POST /api/v1/teams': () => answer(201, { name: '三中队', members: 0, created_at: '2026-11-22T09:00:00+08:00' }),
    });
    setToken('tok');
    expect(await listTeams()).toEqual([{ name: '一中队', members: 3, created_at: '2026-11-22T08:00:00+08:00' }]);
    expect((await addTeam('三中队')).members).toBe(0);
    expect(server.calls.map((c) => [c.method, c.path, c.auth])).toEqual([
      ['GET', '/api/v1/teams', 'Bearer tok'],
      ['POST', '/api/v1/teams', 'Bearer tok'],
    ]);
    expect(server.calls[1].body).toEqual({ name: '三中队' });
  });

  it("turns a 409 into an ApiError with the server's code and message", async () => {
    fakeServer({
      'POST /api/v1/teams': () => answer(409, { error: { code: 'conflict', message: 'team 一中队 exists', field: 'name' } }),
    });
    const error = await addTeam('一中队').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 409, code: 'conflict', serverMessage: 'team 一中队 exists' });
  });

  it('patches a user by username, only with the fields given', async () => {
    const server = fakeServer({
      'PATCH /api/v1/users/inspector3': () => answer(200, consoleUser('inspector3', { team: '三中队' })),
    });
    const updated = await updateUser('inspector3', { team: '三中队' });
    expect(updated.team).toBe('三中队');
    expect(server.calls[0].body).toEqual({ team: '三中队' });
    expect(server.calls[0].contentType).toBe('application/json');
  });

  it('lists the departments', async () => {
    fakeServer({
      'GET /api/v1/departments': () => answer(200, { departments: [{ code: 'HW', name: '环卫所', users: 1, open_cases: 4 }] }),
    });
    expect(await listDepartments()).toEqual([{ code: 'HW', name: '环卫所', users: 1, open_cases: 4 }]);
  });

  it('reassigns and cancels a task, answering the case', async () => {
    const detail = caseOf({ tasks: [task({ assignee: 'inspector2' })] });
    const server = fakeServer({
      'POST /api/v1/tasks/task-1/reassign': () => answer(200, detail),
      'POST /api/v1/tasks/task-1/cancel': () => answer(200, caseOf({ tasks: [task({ state: 'cancelled' })] })),
    });
    expect((await reassignTask('task-1', { assignee: 'inspector2', note: '就近' })).tasks?.[0].assignee).toBe('inspector2');
    expect((await cancelTask('task-1', '重复任务')).tasks?.[0].state).toBe('cancelled');
    expect(server.calls.map((c) => c.body)).toEqual([{ assignee: 'inspector2', note: '就近' }, { note: '重复任务' }]);
  });

  it('keeps the roads of a patrol', async () => {
    fakeServer({
      'GET /api/v1/patrols?date=2026-11-22': () =>
        answer(200, {
          patrols: [
            {
              id: 'p1',
              user: { username: 'inspector1', display_name: '张伟' },
              team: '一中队',
              started_at: '2026-11-22T08:00:00+08:00',
              ended_at: null,
              distance_m: 500,
              findings: 1,
              points: [],
              roads: [{ name: '人民路', distance_m: 412.5 }],
            },
          ],
        }),
    });
    expect((await listPatrols('2026-11-22'))[0].roads).toEqual([{ name: '人民路', distance_m: 412.5 }]);
  });
});

describe('webhooks', () => {
  it('lists deliveries by state and sends one again, with the refused field of an error at hand', async () => {
    const id = '6f1c2a52-0000-4000-8000-000000000001';
    const server = fakeServer({
      [`GET /api/v1/webhooks/${id}/deliveries?state=failed`]: () => answer(200, { deliveries: [delivery({ state: 'failed' })] }),
      [`POST /api/v1/webhooks/${id}/deliveries/1/retry`]: () =>
        answer(409, { error: { code: 'conflict', message: 'the webhook is stopped' } }),
    });
    expect((await listDeliveries(id, { state: 'failed' })).map((d) => d.state)).toEqual(['failed']);
    const refused = await retryDelivery(id, 1).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 409, serverMessage: 'the webhook is stopped' });
    expect(refusedField(refused)).toBeNull();
    expect(server.calls.map((c) => [c.method, c.path])).toEqual([
      ['GET', `/api/v1/webhooks/${id}/deliveries?state=failed`],
      ['POST', `/api/v1/webhooks/${id}/deliveries/1/retry`],
    ]);
    expect(refusedField(new ApiError(422, 'invalid', 'ping is sent on request', { field: 'events[1]' }))).toBe('events[1]');
    expect(formField('events[1]')).toBe('events');
    expect(formField('url')).toBe('url');
  });

  it('sends a system endpoint its events and secret, a robot its department, a WeCom robot no secret', () => {
    const form = { ...emptyWebhookForm(), url: ' https://x.example/hook ', events: ['task.completed', 'case.filed'] as const, secret: ' s ' };
    expect(webhookFormReady({ ...form, events: [...form.events] })).toBe(true);
    expect(webhookBody({ ...form, events: [...form.events] })).toEqual({
      url: 'https://x.example/hook',
      format: 'json',
      events: ['case.filed', 'task.completed'],
      secret: 's',
      department: null,
      description: '',
    });
    // Without a secret or events a system endpoint is not ready; a robot needs its department.
    expect(webhookFormReady({ ...emptyWebhookForm(), url: 'https://x.example/', events: ['case.filed'] })).toBe(false);
    const wecom = { ...emptyWebhookForm(), format: 'wecom' as const, url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k', secret: 'left over', events: ['case.filed' as const] };
    expect(webhookFormReady(wecom)).toBe(false);
    expect(webhookBody({ ...wecom, department: 'HW' })).toEqual({
      url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k',
      format: 'wecom',
      events: [],
      secret: '',
      department: 'HW',
      description: '',
    });
  });

  it('makes secrets of 32 letters and digits, each new', () => {
    const secrets = new Set(Array.from({ length: 50 }, () => newSecret()));
    expect(secrets.size).toBe(50);
    for (const s of secrets) expect(s).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(newSecret(8)).toHaveLength(8);
  });

  it("shortens a URL to host and path, leaving a robot's key out", () => {
    expect(shortUrl('https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6')).toBe('qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…');
    expect(shortUrl('https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1')).toBe(
      'oapi.dingtalk.com/robot/send?access_token=…&…',
    );
    expect(shortUrl('http://127.0.0.1:8080/')).toBe('127.0.0.1:8080');
    const long = shortUrl('https://integration.example.gov.cn/api/v2/tiejiaoban/events/receive/all');
    expect(long).toHaveLength(48);
    expect(long.startsWith('integration.example.gov.cn/api/v2/')).toBe(true);
    expect(long.endsWith('…')).toBe(true);
    expect(shortUrl('not a url')).toBe('not a url');
  });

  it('names events, kinds and delivery states in both languages', () => {
    expect(webhookEventLabel('case.filed')).toBe('立案');
    expect(webhookEventLabel('finding.rejected')).toBe('审核不通过');
    expect(webhookFormatLabel('wecom')).toBe('企业微信群机器人');
    expect(deliveryStateLabel('failed')).toBe('已放弃');
    setLocale('en');
    expect(webhookEventLabel('case.overdue')).toBe('Case overdue');
    expect(webhookFormatLabel('dingtalk')).toBe('DingTalk group robot');
    // An event newer than this build is shown as sent.
    expect(webhookEventLabel('case.merged')).toBe('case.merged');
  });
});

describe('integration tokens', () => {
  it('are listed, issued and revoked with the session token', async () => {
    const id = '0c4e7a10-0000-4000-8000-000000000001';
    const server = fakeServer({
      'GET /api/v1/integrations': () => answer(200, { tokens: [integrationToken()] }),
      'POST /api/v1/integrations': () => answer(201, { ...integrationToken(), secret: 'tjb_int_abc' }),
      [`DELETE /api/v1/integrations/${id}`]: () => new Response(null, { status: 204 }),
    });
    setToken('tok');
    expect((await listIntegrationTokens()).map((t) => t.name)).toEqual(['12345 热线']);
    expect((await issueIntegrationToken({ name: '12345 热线', username: 'dispatcher1' })).secret).toBe('tjb_int_abc');
    await revokeIntegrationToken(id);
    expect(server.calls.map((c) => [c.method, c.path, c.auth])).toEqual([
      ['GET', '/api/v1/integrations', 'Bearer tok'],
      ['POST', '/api/v1/integrations', 'Bearer tok'],
      ['DELETE', `/api/v1/integrations/${id}`, 'Bearer tok'],
    ]);
  });

  it('act as active users who are not admins, the dispatchers first', () => {
    const users = [
      consoleUser('inspector2'),
      consoleUser('admin', { role: 'admin' }),
      consoleUser('dept-hw', { role: 'department' }),
      consoleUser('dispatcher2', { role: 'dispatcher', active: false }),
      consoleUser('dispatcher1', { role: 'dispatcher' }),
      consoleUser('chief1', { role: 'chief' }),
    ];
    expect(tokenUsers(users).map((u) => u.username)).toEqual(['dispatcher1', 'chief1', 'dept-hw', 'inspector2']);
  });
});

describe('exports', () => {
  it('begin, list, follow and download through the API with the session token; an unfinished file is a 409', async () => {
    const id = exportJob().id;
    const server = fakeServer({
      'POST /api/v1/exports': () => answer(202, exportJob({ state: 'running', rows: 0 })),
      'GET /api/v1/exports': () => answer(200, { exports: [exportJob()] }),
      [`GET /api/v1/exports/${id}`]: () => answer(200, exportJob()),
      [`GET /api/v1/exports/${id}/file`]: () =>
        answer(409, { error: { code: 'conflict', message: 'the export is not finished: 40 of 100 rows' } }),
    });
    setToken('tok');
    expect((await beginExport(exportBody(emptyExportForm(new Date(2026, 11, 4))))).state).toBe('running');
    expect((await listExports()).map((j) => j.id)).toEqual([id]);
    expect((await getExport(id)).state).toBe('done');
    const refused = await exportFile(id).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 409, serverMessage: 'the export is not finished: 40 of 100 rows' });
    expect(server.calls.every((c) => c.auth === 'Bearer tok')).toBe(true);
    expect(server.calls[0].body).toEqual({
      kind: 'cases',
      format: 'csv',
      from: '2026-12-01',
      to: '2026-12-31',
      state: null,
      category: null,
      department: null,
      grid: null,
      photos: false,
    });
  });

  it('cover this month by default, from its first day to its last', () => {
    expect(thisMonth(new Date(2026, 11, 4))).toEqual(['2026-12-01', '2026-12-31']);
    expect(thisMonth(new Date(2028, 1, 29, 23, 59))).toEqual(['2028-02-01', '2028-02-29']);
    expect(thisMonth(new Date(2027, 0, 1, 0, 0))).toEqual(['2027-01-01', '2027-01-31']);
  });

  it('send the filters given, trimmed, and no department for findings', () => {
    const form = { ...emptyExportForm(new Date(2026, 11, 4)), format: 'geojson' as const, state: 'closed', category: ' E0102 ', department: 'HW', grid: '210103002' };
    expect(exportBody(form)).toMatchObject({ kind: 'cases', format: 'geojson', state: 'closed', category: 'E0102', department: 'HW', grid: '210103002' });
    expect(exportBody({ ...form, kind: 'findings', state: 'filed' })).toMatchObject({ kind: 'findings', state: 'filed', department: null });
    expect(exportBody({ ...form, category: '  ', grid: '' })).toMatchObject({ category: null, grid: null });
  });

  it('name the period for a refused end or start, other fields as they are', () => {
    expect(exportField('to')).toBe('period');
    expect(exportField('from')).toBe('period');
    expect(exportField('department')).toBe('department');
  });

  it('count progress by rows written of those counted, a finished one whole', () => {
    expect(exportPercent(exportJob({ state: 'running', rows: 40, total: 100 }))).toBe(40);
    expect(exportPercent(exportJob({ state: 'running', rows: 2, total: 3 }))).toBe(66);
    // Nothing counted: nothing to show until it is done (an empty period is done at once).
    expect(exportPercent(exportJob({ state: 'running', rows: 0, total: 0 }))).toBe(0);
    expect(exportPercent(exportJob({ state: 'done', rows: 0, total: 0 }))).toBe(100);
    expect(exportPercent(exportJob({ state: 'failed', rows: 10, total: 100 }))).toBe(10);
  });

  it('are of cases alone for a department user', () => {
    expect(exportKinds('department')).toEqual(['cases']);
    for (const role of ['chief', 'dispatcher', 'admin'] as const) expect(exportKinds(role)).toEqual(['cases', 'findings']);
  });

  it('name their states, kinds and formats in both languages', () => {
    expect(exportStateLabel('running')).toBe('导出中');
    expect(exportStateLabel('done')).toBe('完成');
    expect(exportKindLabel('findings')).toBe('上报');
    expect(exportFormatLabel('xlsx')).toBe('Excel');
    setLocale('en');
    expect(exportStateLabel('failed')).toBe('Failed');
    expect(exportKindLabel('cases')).toBe('Cases');
  });
});

describe('teams', () => {
  const users = [
    consoleUser('inspector2', { team: '一中队' }),
    consoleUser('chief1', { role: 'chief', team: '一中队' }),
    consoleUser('inspector1', { team: '一中队' }),
    consoleUser('inspector3', { team: '二中队' }),
    consoleUser('admin', { role: 'admin' }),
  ];

  it("knows the server's teams and those users name", () => {
    const teams: Team[] = [{ name: '三中队', members: 0, created_at: '2026-11-22T08:00:00+08:00' }];
    // In pinyin order: er, san, yi.
    expect(teamNames(teams, users)).toEqual(['二中队', '三中队', '一中队']);
    expect(teamNames([], [])).toEqual([]);
  });

  it('lists a team, its chief first', () => {
    expect(membersOf(users, '一中队').map((u) => u.username)).toEqual(['chief1', 'inspector1', 'inspector2']);
    expect(membersOf(users, '三中队')).toEqual([]);
  });

  it('patches only what the form changed', () => {
    const u = consoleUser('inspector3', { display_name: '王强', team: '二中队' });
    expect(patchOf(u, formOf(u))).toEqual({});
    expect(patchOf(u, { ...formOf(u), display_name: ' 王强强 ', team: '三中队' })).toEqual({ display_name: '王强强', team: '三中队' });
    expect(patchOf(u, { ...formOf(u), team: '' })).toEqual({ team: null });
    expect(patchOf(u, { ...formOf(u), password: 'new-secret' })).toEqual({ password: 'new-secret' });
    expect(patchOf(u, { ...formOf(u), role: 'department', team: '', department: 'HW' })).toEqual({
      role: 'department',
      team: null,
      department: 'HW',
    });
    const dept = consoleUser('dept-hw', { role: 'department', department: 'HW' });
    expect(patchOf(dept, { ...formOf(dept), role: 'dispatcher' })).toEqual({ role: 'dispatcher', department: null });
    expect(patchOf(dept, { ...formOf(dept), department: 'SZ' })).toEqual({ department: 'SZ' });
  });
});

describe('verification tasks', () => {
  const who = (role: UserInfo['role'], team: string | null = null): UserInfo => ({ id: 'u', username: 'u', display_name: 'u', role, team });

  it('are managed by dispatchers, admins and the chief of the case team', () => {
    const c = caseOf();
    expect(canManageTasks(c, who('dispatcher'))).toBe(true);
    expect(canManageTasks(c, who('admin'))).toBe(true);
    expect(canManageTasks(c, who('chief', '一中队'))).toBe(true);
    expect(canManageTasks(c, who('chief', '二中队'))).toBe(false);
    expect(canManageTasks(c, who('department'))).toBe(false);
    expect(canManageTasks(c, who('inspector', '一中队'))).toBe(false);
    expect(canManageTasks(c, null)).toBe(false);
  });

  it('go to active inspectors other than the current one, those of the case team first', () => {
    const users = [
      consoleUser('inspector3', { team: '二中队' }),
      consoleUser('inspector2', { team: '一中队' }),
      consoleUser('inspector1', { team: '一中队' }),
      consoleUser('inspector4', { team: '一中队', active: false }),
      consoleUser('chief1', { role: 'chief', team: '一中队' }),
    ];
    expect(reassignCandidates(users, task(), '一中队').map((u) => u.username)).toEqual(['inspector2', 'inspector3']);
    expect(reassignCandidates(users, task({ assignee: 'inspector3' }), '二中队').map((u) => u.username)).toEqual([
      'inspector1',
      'inspector2',
    ]);
  });

  it('accept a typed username only in the users form shape', () => {
    expect(isUsername('inspector2')).toBe(true);
    expect(isUsername('a')).toBe(false);
    expect(isUsername('张 伟')).toBe(false);
  });
});

describe('case actions', () => {
  // What each role may do in each state is the server's to say (sync-server/src/policy.rs, whose tests pin
  // the whole table); the console shows what a case carries.
  const user: UserInfo = { id: 'u', username: 'dept-hw', display_name: '环卫处', role: 'department', team: null };

  it("shows the server's actions in the server's order, and none to nobody", () => {
    const c = caseOf({ state: 'dispatched', allowed_actions: ['accept', 'return'] });
    expect(allowedActions(c, user)).toEqual(['accept', 'return']);
    expect(allowedActions(caseOf({ allowed_actions: [] }), user)).toEqual([]);
    expect(allowedActions(c, null)).toEqual([]);
  });

  it('asks for a reason where the server requires a note, and for hours where it requires them', () => {
    // sync-server/src/http/cases.rs, `case_action`: return, extend, void, supervise, the requests and the
    // decisions on them are refused without a note; extend and request_extension without hours.
    expect([...NEEDS_NOTE].sort()).toEqual([
      'approve_request',
      'deny_request',
      'extend',
      'request_extension',
      'request_return',
      'return',
      'supervise',
      'void',
    ]);
    expect([...NEEDS_HOURS].sort()).toEqual(['extend', 'request_extension']);
  });
});

describe('patrol roads', () => {
  it('shows the longest three, the rest folded', () => {
    const roads = [
      { name: '正阳街', distance_m: 120 },
      { name: '中街路', distance_m: 412.5 },
      { name: '朝阳街', distance_m: 300 },
      { name: '北顺城路', distance_m: 80 },
    ];
    const { shown, rest } = splitRoads(roads);
    expect(shown.map((r) => r.name)).toEqual(['中街路', '朝阳街', '正阳街']);
    expect(rest.map((r) => r.name)).toEqual(['北顺城路']);
    expect(splitRoads(undefined)).toEqual({ shown: [], rest: [] });
  });
});

describe('labels', () => {
  it('names task states and the new history actions in both languages', () => {
    expect(taskStateLabel('open')).toBe('待核查');
    expect(actionLabel('task_reassign')).toBe('改派核查');
    expect(actionLabel('task_cancel')).toBe('取消核查');
    setLocale('en');
    expect(taskStateLabel('cancelled')).toBe('Cancelled');
    expect(actionLabel('task_reassign')).toBe('Reassign verification');
    // A state newer than this build is shown as sent.
    expect(taskStateLabel('expired')).toBe('expired');
    expect(taskStateType('passed')).toBe('success');
    expect(taskStateType('open')).toBe('warning');
  });
});

describe('messages', () => {
  // Tests run from ui/ (where package.json is).
  const consoleDir = join(process.cwd(), 'src', 'console');
  // Some messages are lists (the quick reasons).
  const has = (messages: unknown, key: string) => hasMessage(messages, key, true);

  it('has every literal key the console uses, in both languages', () => {
    const keys = literalKeys(consoleDir, ['console', 'common', 'roles']);
    expect(keys.size).toBeGreaterThan(200);
    const missing = [...keys].filter((key) => !has(zhCN, key) || !has(en, key));
    expect(missing).toEqual([]);
  });

  it('has the keys the console builds from states', () => {
    const built = [
      ...['open', 'passed', 'failed', 'cancelled'].map((s) => `console.taskState.${s}`),
      ...['task_reassign', 'task_cancel'].map((a) => `console.caseAction.${a}`),
      'console.users.deactivated',
      'console.users.reactivated',
      ...['case.filed', 'case.changed', 'case.overdue', 'report.changed', 'task.completed', 'finding.rejected', 'ping'].map(
        (e) => `console.integrations.events.${e}`,
      ),
      ...['json', 'wecom', 'dingtalk'].flatMap((f) =>
        ['formats', 'formatHints', 'urlHints'].map((group) => `console.integrations.${group}.${f}`),
      ),
      ...['pending', 'delivered', 'failed', 'cancelled'].map((s) => `console.integrations.deliveryStates.${s}`),
      ...['webhook', 'integration', 'export'].map((a) => `console.audit.actions.${a}`),
      ...['running', 'done', 'failed'].map((s) => `console.exports.states.${s}`),
      ...['cases', 'findings'].map((k) => `console.exports.kinds.${k}`),
      ...['csv', 'xlsx', 'geojson'].map((f) => `console.exports.formats.${f}`),
    ];
    expect(built.filter((key) => !has(zhCN, key) || !has(en, key))).toEqual([]);
  });
});
