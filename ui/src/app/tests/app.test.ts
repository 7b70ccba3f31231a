import { afterEach, describe, expect, it } from 'vitest';
import { emit } from '@tauri-apps/api/event';
import type { FindingDetail, FindingRow, SyncProgress, SyncReport } from '../../shared/types';
import { PHOTO_CHUNK_BYTES } from '../ipc';
import { startBackground } from '../state';
import PhoneMap from '../map/PhoneMap.vue';
import { byTestId, chooseFiles, decodeBase64, mountApp, resetApp, settle, statusOf, toastText } from './harness';

afterEach(resetApp);

/** Opens the report's category picker and searches it; the options found. */
async function searchCategory(query: string): Promise<HTMLElement[]> {
  byTestId('report-category')[0].click();
  await settle();
  const [search] = byTestId<HTMLInputElement>('category-search');
  search.value = query;
  search.dispatchEvent(new Event('input'));
  await settle();
  return byTestId('category-option');
}

const SHA = 'ab'.repeat(32);

/** photo_begin / photo_append / photo_finish that keep the bytes they were sent. */
function photoHandlers(received: Uint8Array[][] = []) {
  let uploads = 0;
  return {
    photo_begin: () => {
      received.push([]);
      return `upload-${++uploads}`;
    },
    photo_append: (args: Record<string, unknown>) => {
      const chunks = received[received.length - 1];
      chunks.push(decodeBase64(args.chunk as string));
      return chunks.reduce((n, c) => n + c.length, 0);
    },
    photo_finish: () => ({ sha256: uploads === 1 ? SHA : 'cd'.repeat(32), width: 1600, height: 1200, bytes: 400000, taken_at: null }),
  };
}

function fileOf(size: number, name = 'IMG_0001.jpg'): { file: File; bytes: Uint8Array } {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + 3) % 256;
  return { file: new File([bytes], name, { type: 'image/jpeg' }), bytes };
}

describe('register', () => {
  it('sends the server origin, account and device name, then opens the home screen', async () => {
    let registered = false;
    const { callsOf, router } = await mountApp('/home', {
      status: () => statusOf({ registered, server_url: registered ? 'http://192.168.1.10:8080' : null }),
      register: () => {
        registered = true;
        return { device_id: 'dev-9', user: { id: 'u1', username: 'inspector1', display_name: '张巡查', role: 'inspector', team: 'T1' } };
      },
    });
    expect(router.currentRoute.value.name).toBe('register');

    const [server] = byTestId<HTMLInputElement>('register-server');
    server.value = '192.168.1.10:8080/';
    server.dispatchEvent(new Event('input'));
    const [username] = byTestId<HTMLInputElement>('register-username');
    username.value = 'inspector1';
    username.dispatchEvent(new Event('input'));
    const [password] = byTestId<HTMLInputElement>('register-password');
    password.value = 'demo1234';
    password.dispatchEvent(new Event('input'));
    byTestId('register-form')[0].dispatchEvent(new Event('submit'));
    await settle(8);

    expect(callsOf('register')).toHaveLength(1);
    expect(callsOf('register')[0].args).toEqual({
      server: 'http://192.168.1.10:8080',
      username: 'inspector1',
      password: 'demo1234',
      deviceName: '巡查手机',
      totp: null,
    });
    expect(router.currentRoute.value.name).toBe('home');
    expect(byTestId('home-report')).toHaveLength(1);
  });

  it('shows the error of a failed registration', async () => {
    const { router } = await mountApp('/register', {
      status: () => statusOf({ registered: false }),
      register: () => {
        throw { code: 'invalid_credentials', message: 'bad password' };
      },
    });
    for (const [id, value] of [['register-server', 'http://10.0.0.1:8080'], ['register-username', 'x'], ['register-password', 'y']]) {
      const [input] = byTestId<HTMLInputElement>(id);
      input.value = value;
      input.dispatchEvent(new Event('input'));
    }
    byTestId('register-form')[0].dispatchEvent(new Event('submit'));
    await settle(8);
    expect(byTestId('register-error')[0].textContent).toContain('用户名或密码错误');
    expect(router.currentRoute.value.name).toBe('register');
  });

  it('asks for the authenticator code of an account with two-factor sign-in, then sends it', async () => {
    const sent: unknown[] = [];
    await mountApp('/register', {
      status: () => statusOf({ registered: false }),
      register: (args: { totp?: string | null }) => {
        sent.push(args.totp ?? null);
        if (!args.totp) throw { code: 'totp_required', message: 'enter the 6-digit code of your authenticator app' };
        throw { code: 'unreachable', message: 'stop here' };
      },
    });
    const fill = (id: string, value: string) => {
      const [input] = byTestId<HTMLInputElement>(id);
      input.value = value;
      input.dispatchEvent(new Event('input'));
    };
    for (const [id, value] of [['register-server', 'http://10.0.0.1:8080'], ['register-username', 'x'], ['register-password', 'y']]) {
      fill(id, value);
    }
    expect(byTestId('register-totp')).toHaveLength(0);
    byTestId('register-form')[0].dispatchEvent(new Event('submit'));
    await settle(8);
    expect(byTestId('register-error')[0].textContent).toContain('两步验证');
    fill('register-totp', '123456');
    byTestId('register-form')[0].dispatchEvent(new Event('submit'));
    await settle(8);
    expect(sent).toEqual([null, '123456']);
  });
});

describe('report', () => {
  it('sends photos in base64 pieces of at most 256 KiB, then saves the report with its input', async () => {
    const received: Uint8Array[][] = [];
    localStorage.setItem('tiejiaoban.recentCategories', JSON.stringify(['E0102', 'C0102']));
    const { callsOf, router } = await mountApp('/report', {
      ...photoHandlers(received),
      report: () => 'finding-1',
    });

    const size = 2 * PHOTO_CHUNK_BYTES + 1000;
    const { file, bytes } = fileOf(size);
    await chooseFiles(byTestId<HTMLInputElement>('report-photo-input')[0], [file]);

    // Chunks: ≤ 256 KiB each, in order, adding up to the file.
    expect(callsOf('photo_begin')).toHaveLength(1);
    const appends = callsOf('photo_append');
    expect(appends).toHaveLength(3);
    expect(appends.every((c) => c.args.uploadId === 'upload-1')).toBe(true);
    const pieces = received[0];
    expect(pieces.map((p) => p.length)).toEqual([PHOTO_CHUNK_BYTES, PHOTO_CHUNK_BYTES, 1000]);
    const joined = new Uint8Array(size);
    let offset = 0;
    for (const piece of pieces) {
      joined.set(piece, offset);
      offset += piece.length;
    }
    // (A loop: deep equality of half a million elements is slow.)
    expect(joined.every((b, i) => b === bytes[i])).toBe(true);
    // Stamped with the report's position (the simulated fix); no address or road yet, so no place.
    expect(callsOf('photo_finish')[0].args).toEqual({ uploadId: 'upload-1', lat: 41.7968, lon: 123.4328, accuracy: 8, place: null });
    expect(byTestId('report-photo-item').map((e) => e.getAttribute('data-sha256'))).toEqual([SHA]);

    // The position came from the simulated source; nearby cases were asked for 50 m around it.
    expect(byTestId('report-position')[0].getAttribute('data-source')).toBe('gps');
    expect(callsOf('nearby_cases')[0].args).toEqual({ lat: 41.7968, lon: 123.4328, radiusM: 50 });

    // A recent category chip, then a quick phrase and some text.
    (byTestId('report-recent-category').find((e) => e.getAttribute('data-code') === 'C0102') as HTMLElement).click();
    await settle();
    expect(byTestId('report-category')[0].getAttribute('data-code')).toBe('C0102');
    (byTestId('report-phrase').find((e) => e.getAttribute('data-phrase') === 'manhole') as HTMLElement).click();
    await settle();
    const [description] = byTestId<HTMLTextAreaElement>('report-description');
    expect(description.value).toBe('井盖缺失/破损');
    description.value = '井盖缺失/破损，有行人经过';
    description.dispatchEvent(new Event('input'));
    const [facility] = byTestId<HTMLInputElement>('report-facility');
    facility.value = '2101020102000031';
    facility.dispatchEvent(new Event('input'));

    byTestId('report-save')[0].click();
    await settle(6);

    const reports = callsOf('report');
    expect(reports).toHaveLength(1);
    const { input } = reports[0].args as { input: Record<string, unknown> };
    expect(input).toMatchObject({
      category: 'C0102',
      description: '井盖缺失/破损，有行人经过',
      // C0102 is an urgent category: urgent by default.
      urgent: true,
      fixed_on_spot: false,
      address: null,
      road: null,
      facility_code: '2101020102000031',
      photos: [{ sha256: SHA, role: 'before' }],
    });
    expect(input.location).toMatchObject({ lat: 41.7968, lon: 123.4328, accuracy_m: 8, source: 'gps' });
    expect(typeof (input.location as { fixed_at: string }).fixed_at).toBe('string');
    expect(input.gps ?? null).toBeNull(); // at the GPS position there is no second fix to keep
    expect(toastText()).toContain('已保存，等待发送');
    expect(router.currentRoute.value.name).toBe('home');
    expect(JSON.parse(localStorage.getItem('tiejiaoban.recentCategories') ?? '[]')[0]).toBe('C0102');
  });

  it('adds "after" photos only when fixed on the spot, and uses a manual pin', async () => {
    const { callsOf } = await mountApp(
      '/report',
      {
        ...photoHandlers(),
        simulated_location: () => ({ lat: 41.7968, lon: 123.4328, accuracy_m: 120, source: 'network' }),
        report: () => 'finding-2',
        basemaps_installed: () => [],
      },
      { PhoneMap: true },
    );
    expect(byTestId('report-accuracy-warning')).toHaveLength(1);

    await chooseFiles(byTestId<HTMLInputElement>('report-photo-input')[0], [fileOf(1000).file]);
    byTestId('report-fixed')[0].click();
    await settle();
    await chooseFiles(byTestId<HTMLInputElement>('report-after-photo-input')[0], [fileOf(2000, 'after.jpg').file]);

    byTestId('report-manual')[0].click();
    await settle();
    const [lat] = byTestId<HTMLInputElement>('report-manual-lat');
    lat.value = '41.8';
    lat.dispatchEvent(new Event('input'));
    const [lon] = byTestId<HTMLInputElement>('report-manual-lon');
    lon.value = '123.4';
    lon.dispatchEvent(new Event('input'));
    byTestId('report-manual-apply')[0].click();
    await settle();
    expect(byTestId('report-accuracy-warning')).toHaveLength(0);

    const options = await searchCategory('占道');
    expect(options.map((o) => o.getAttribute('data-code'))).toEqual(['E0512']);
    options[0].click();
    await settle();

    byTestId('report-save')[0].click();
    await settle(6);
    const { input } = callsOf('report')[0].args as { input: Record<string, unknown> };
    expect(input).toMatchObject({
      category: 'E0512',
      urgent: false,
      fixed_on_spot: true,
      photos: [
        { sha256: SHA, role: 'before' },
        { sha256: 'cd'.repeat(32), role: 'after' },
      ],
    });
    expect(input.location).toMatchObject({ lat: 41.8, lon: 123.4, source: 'manual' });
    // The phone's own fix goes beside the pin, so the console shows both.
    expect(input.gps).toMatchObject({ lat: 41.7968, lon: 123.4328, accuracy_m: 120 });
    expect(typeof (input.gps as { fixed_at: string }).fixed_at).toBe('string');
  });

  it('places the pin on the map: a tap or a drag fills the coordinates, which the report then uses', async () => {
    const { wrapper, callsOf } = await mountApp(
      '/report',
      {
        ...photoHandlers(),
        simulated_location: () => ({ lat: 41.7968, lon: 123.4328, accuracy_m: 9, source: 'gps' }),
        basemaps_installed: () => [],
        report: () => 'finding-3',
      },
      { PhoneMap: true },
    );
    await chooseFiles(byTestId<HTMLInputElement>('report-photo-input')[0], [fileOf(1000).file]);
    byTestId('report-manual')[0].click();
    await settle();
    const map = wrapper.findComponent(PhoneMap);
    // The map opens with the pin where the report stands now, and my fix beside it.
    expect(map.props('pin')).toEqual([41.7968, 123.4328]);
    expect(map.props('here')).toMatchObject({ lat: 41.7968, lon: 123.4328 });
    map.vm.$emit('pin', 41.79712345678, 123.43398765432);
    await settle();
    expect(byTestId<HTMLInputElement>('report-manual-lat')[0].value).toBe('41.797123');
    expect(byTestId<HTMLInputElement>('report-manual-lon')[0].value).toBe('123.433988');
    expect(map.props('pin')).toEqual([41.797123, 123.433988]);
    byTestId('report-manual-apply')[0].click();
    await settle();
    (await searchCategory('占道'))[0].click();
    await settle();
    byTestId('report-save')[0].click();
    await settle(6);
    const { input } = callsOf('report')[0].args as { input: Record<string, unknown> };
    expect(input.location).toMatchObject({ lat: 41.797123, lon: 123.433988, source: 'manual' });
    expect(input.gps).toMatchObject({ lat: 41.7968, lon: 123.4328, accuracy_m: 9 });
  });

  it('stamps photos with the position and the address, else the road, as the patrol CLI does', async () => {
    const { callsOf } = await mountApp('/report', {
      ...photoHandlers(),
      simulated_location: () => ({ lat: 41.8012, lon: 123.4011, accuracy_m: 12, source: 'network' }),
    });
    const [road] = byTestId<HTMLInputElement>('report-road');
    road.value = '中山路';
    road.dispatchEvent(new Event('input'));
    await settle();
    await chooseFiles(byTestId<HTMLInputElement>('report-photo-input')[0], [fileOf(1000).file]);
    expect(callsOf('photo_finish')[0].args).toEqual({ uploadId: 'upload-1', lat: 41.8012, lon: 123.4011, accuracy: 12, place: '中山路' });

    const [address] = byTestId<HTMLInputElement>('report-address');
    address.value = '  中山路 12 号 ';
    address.dispatchEvent(new Event('input'));
    await settle();
    await chooseFiles(byTestId<HTMLInputElement>('report-photo-gallery-input')[0], [fileOf(2000, 'IMG_0002.jpg').file]);
    expect(callsOf('photo_finish')[1].args).toEqual({ uploadId: 'upload-2', lat: 41.8012, lon: 123.4011, accuracy: 12, place: '中山路 12 号' });
    expect(byTestId('report-photo-item')).toHaveLength(2);
  });

  it('fills in the road and shows the grid Rust finds for the position, the road until the inspector types one', async () => {
    const { callsOf } = await mountApp('/report', {
      simulated_location: () => ({ lat: 41.7968, lon: 123.4328, accuracy_m: 8, source: 'gps' }),
      place_at: ({ lat }) =>
        lat === 41.7968
          ? { road: '中山路', grid: '210103001', grid_name: '中山路北网格' }
          : { road: null, grid: null, grid_name: null },
    });
    expect(callsOf('place_at')[0].args).toEqual({ lat: 41.7968, lon: 123.4328 });
    const [road] = byTestId<HTMLInputElement>('report-road');
    expect(road.value).toBe('中山路');
    const [grid] = byTestId('report-grid');
    expect(grid.dataset.code).toBe('210103001');
    expect(grid.textContent).toContain('中山路北网格');
    road.value = '解放街';
    road.dispatchEvent(new Event('input'));
    await settle();
    expect(road.value).toBe('解放街');
  });

  it('takes a photo stamped with the time only while no position is known', async () => {
    const { callsOf } = await mountApp('/report', { ...photoHandlers(), simulated_location: () => null });
    expect(byTestId('report-position')).toHaveLength(0);
    expect(byTestId('report-position-problem')).toHaveLength(1);
    await chooseFiles(byTestId<HTMLInputElement>('report-photo-input')[0], [fileOf(1000).file]);
    expect(callsOf('photo_finish')[0].args).toEqual({ uploadId: 'upload-1', lat: null, lon: null, accuracy: null, place: null });
    expect(byTestId('report-photo-item').map((e) => e.getAttribute('data-sha256'))).toEqual([SHA]);
  });

  it("warns of open cases within the nearby radius, and takes a description as long as the protocol's", async () => {
    await mountApp('/report', { nearby_cases: () => [{ case_no: '20261121-0003', category: 'C0102', distance_m: 23.4 }] });
    const [notice] = byTestId('report-nearby');
    expect(notice.getAttribute('data-count')).toBe('1');
    expect(notice.textContent).toContain('附近 50 米内已有未结案件');
    expect(notice.textContent).toContain('20261121-0003 污水井盖 (23 米)');
    // Vant cuts the text at `maxlength` as it is typed.
    const [description] = byTestId<HTMLTextAreaElement>('report-description');
    description.value = '井'.repeat(2100);
    description.dispatchEvent(new Event('input'));
    await settle();
    expect(description.value).toHaveLength(2000);
  });

  it('shows a readable message for an unsupported photo and saves nothing without a photo', async () => {
    const { callsOf } = await mountApp('/report', {
      photo_begin: () => 'u1',
      photo_append: () => 10,
      photo_finish: () => {
        throw { code: 'unsupported_format', message: 'HEIC is not supported' };
      },
      report: () => 'x',
    });
    await chooseFiles(byTestId<HTMLInputElement>('report-photo-input')[0], [fileOf(10, 'IMG.HEIC').file]);
    expect(toastText()).toContain('不支持的照片格式');
    expect(byTestId('report-photo-item')).toHaveLength(0);
    byTestId('report-save')[0].click();
    await settle();
    expect(callsOf('report')).toHaveLength(0);
    expect(toastText()).toContain('请至少拍一张照片');
  });
});

describe('drafts', () => {
  const DRAFT_LOCATION = { lat: 41.801, lon: 123.401, accuracy_m: 6, source: 'gps' as const, fixed_at: '2026-11-21T08:00:00Z' };
  const draftRow = (fields: Partial<FindingRow> = {}): FindingRow => ({
    id: 'd1', local_state: 'draft', server_state: null, case_no: null, case_state: null, reason: null,
    category: '', description: '井盖松动', observed_at: '2026-11-21T08:00:00Z', photos: 1, grid: null, ...fields,
  });
  const draftDetail = (): FindingDetail => ({
    row: draftRow(),
    finding: {
      id: 'd1', category: '', description: '井盖松动', urgent: false, fixed_on_spot: false, location: DRAFT_LOCATION,
      address: '中山路 12 号', road: null, grid: null, facility_code: null, observed_at: '2026-11-21T08:00:00Z',
      patrol_id: null,
      photos: [{ sha256: SHA, role: 'before', width: 1600, height: 1200, bytes: 400000, taken_at: null }],
    },
  });

  it('saves a draft from the report screen without a category or photos', async () => {
    const { callsOf, router } = await mountApp('/report', { draft_save: () => 'd-new' });
    const [description] = byTestId<HTMLTextAreaElement>('report-description');
    description.value = '路边有占道摊位';
    description.dispatchEvent(new Event('input'));
    const [address] = byTestId<HTMLInputElement>('report-address');
    address.value = '中山路 12 号';
    address.dispatchEvent(new Event('input'));
    byTestId('report-urgent')[0].click();
    await settle();

    byTestId('report-save-draft')[0].click();
    await settle(6);

    expect(callsOf('report')).toHaveLength(0);
    expect(callsOf('draft_save')).toHaveLength(1);
    const { id, input } = callsOf('draft_save')[0].args as { id: string | null; input: Record<string, unknown> };
    expect(id).toBeNull();
    expect(input).toMatchObject({
      category: '',
      description: '路边有占道摊位',
      urgent: true,
      fixed_on_spot: false,
      address: '中山路 12 号',
      road: null,
      facility_code: null,
      photos: [],
    });
    expect(input.location).toMatchObject({ lat: 41.7968, lon: 123.4328, accuracy_m: 8, source: 'gps' });
    expect(toastText()).toContain('草稿已保存');
    expect(router.currentRoute.value.name).toBe('home');
  });

  it('opens a draft from my reports in the report screen and submits it', async () => {
    const { callsOf, router } = await mountApp('/findings', {
      findings: (args) => (args.offset === 0 && args.state === 'draft' ? [draftRow()] : []),
      finding: () => draftDetail(),
      draft_submit: () => 'd1',
    });
    byTestId('findings-filter-draft')[0].click();
    await settle();
    expect(callsOf('findings').at(-1)?.args).toMatchObject({ state: 'draft', offset: 0 });
    const [row] = byTestId('findings-row');
    expect(row.getAttribute('data-local-state')).toBe('draft');
    expect(byTestId('findings-row-state')[0].getAttribute('data-key')).toBe('draft');
    expect(byTestId('findings-row-state')[0].textContent).toContain('草稿');
    expect(row.textContent).toContain('未选分类');

    row.click();
    await settle(6);
    expect(router.currentRoute.value.name).toBe('report');
    expect(router.currentRoute.value.query.draft).toBe('d1');
    expect(callsOf('finding')[0].args).toEqual({ id: 'd1' });

    // The draft's fields, photos (as photo:// thumbnails) and the position it was saved with.
    expect(byTestId<HTMLTextAreaElement>('report-description')[0].value).toBe('井盖松动');
    expect(byTestId<HTMLInputElement>('report-address')[0].value).toBe('中山路 12 号');
    const photos = byTestId('report-photo-item');
    expect(photos.map((p) => p.getAttribute('data-sha256'))).toEqual([SHA]);
    expect(photos[0].querySelector('img')?.getAttribute('src')).toBe(`photo://localhost/${SHA}?thumb=1`);
    expect(byTestId('report-position')[0].getAttribute('data-lat')).toBe('41.801');
    expect(byTestId('report-position-draft')).toHaveLength(1);
    expect(byTestId('report-draft-delete')).toHaveLength(1);

    // Submitting needs a category, as any report.
    byTestId('report-save')[0].click();
    await settle();
    expect(callsOf('draft_submit')).toHaveLength(0);
    expect(toastText()).toContain('请选择问题分类');
    const [search] = byTestId<HTMLInputElement>('category-search');
    search.value = '井盖';
    search.dispatchEvent(new Event('input'));
    await settle();
    byTestId('category-option')[0].click();
    await settle();

    byTestId('report-save')[0].click();
    await settle(6);
    expect(callsOf('report')).toHaveLength(0);
    expect(callsOf('draft_save')).toHaveLength(0);
    expect(callsOf('draft_submit')).toHaveLength(1);
    const { id, input } = callsOf('draft_submit')[0].args as { id: string; input: Record<string, unknown> };
    expect(id).toBe('d1');
    expect(input).toMatchObject({
      category: 'C0102',
      description: '井盖松动',
      urgent: false,
      address: '中山路 12 号',
      photos: [{ sha256: SHA, role: 'before' }],
      location: DRAFT_LOCATION,
    });
    expect(toastText()).toContain('已保存，等待发送');
    expect(router.currentRoute.value.name).toBe('findings');
    expect(router.currentRoute.value.query.state).toBe('draft');
  });

  it('deletes a draft after a confirmation', async () => {
    const { callsOf, router } = await mountApp('/report?draft=d1', {
      finding: () => draftDetail(),
      draft_delete: () => null,
    });
    expect(byTestId('report-form')[0].getAttribute('data-draft')).toBe('d1');
    byTestId('report-draft-delete')[0].click();
    await settle();
    expect(callsOf('draft_delete')).toHaveLength(0);
    (document.querySelector('.van-dialog__confirm') as HTMLElement).click();
    await settle(6);
    expect(callsOf('draft_delete').map((c) => c.args)).toEqual([{ id: 'd1' }]);
    expect(router.currentRoute.value.name).toBe('findings');
  });

  it('asks before leaving a draft only when something changed', async () => {
    const { router } = await mountApp('/report?draft=d1', { finding: () => draftDetail() });
    expect(byTestId<HTMLTextAreaElement>('report-description')[0].value).toBe('井盖松动');
    await router.push('/home');
    await settle();
    expect(router.currentRoute.value.name).toBe('home');

    await router.push('/report?draft=d1');
    await settle(6);
    const [description] = byTestId<HTMLTextAreaElement>('report-description');
    description.value = '井盖松动，已设警示';
    description.dispatchEvent(new Event('input'));
    await settle();
    void router.push('/home');
    await settle();
    expect(document.querySelector('.van-dialog')?.textContent).toContain('草稿保留上次保存的内容');
    (document.querySelector('.van-dialog__cancel') as HTMLElement).click();
    await settle();
    expect(router.currentRoute.value.name).toBe('report');
  });

  it('shows the number of drafts on the home screen', async () => {
    const { callsOf } = await mountApp('/home', { status: () => statusOf({ findings: 5, drafts: 2 }) });
    expect(callsOf('findings')).toHaveLength(0);
    expect(byTestId('home-drafts')[0].getAttribute('data-count')).toBe('2');
    expect(byTestId('home-drafts')[0].textContent).toContain('2');
  });
});

describe('my reports', () => {
  const row = (id: string, fields: Partial<FindingRow>): FindingRow => ({
    id,
    local_state: 'received',
    server_state: null,
    case_no: null,
    case_state: null,
    reason: null,
    category: 'E0102',
    description: '路面有垃圾',
    observed_at: '2026-11-21T08:30:00Z',
    photos: 1,
    grid: null,
    ...fields,
  });

  it('shows each report with its sync state and case', async () => {
    const rows = [
      row('f1', { local_state: 'queued' }),
      row('f2', { server_state: 'pending_review' }),
      row('f3', { server_state: 'filed', case_no: '20261121-0003', case_state: 'filed' }),
      row('f4', { server_state: 'filed', case_no: '20261121-0004', case_state: 'dispatched' }),
      row('f5', { server_state: 'filed', case_no: '20261120-0001', case_state: 'closed' }),
      row('f6', { server_state: 'rejected', reason: '照片不清晰' }),
      row('f7', { local_state: 'rejected', reason: '分类已停用' }),
    ];
    const { callsOf } = await mountApp('/findings', {
      findings: (args) => (args.offset === 0 ? rows : []),
    });
    expect(callsOf('findings')[0].args).toMatchObject({ limit: 20, offset: 0 });
    expect(callsOf('findings')[0].args.state ?? null).toBeNull(); // no state filter

    const rendered = byTestId('findings-row');
    expect(rendered.map((r) => r.getAttribute('data-id'))).toEqual(['f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7']);
    expect(rendered.map((r) => r.getAttribute('data-local-state'))).toEqual([
      'queued', 'received', 'received', 'received', 'received', 'received', 'rejected',
    ]);
    expect(rendered[2].getAttribute('data-case-no')).toBe('20261121-0003');
    const states = byTestId('findings-row-state').map((s) => s.textContent?.trim());
    expect(states).toEqual([
      '已保存·等待发送',
      '已接收',
      '已立案 20261121-0003',
      '已派遣 20261121-0004',
      '已结案 20261120-0001',
      '被驳回：照片不清晰',
      '被驳回：分类已停用',
    ]);
    expect(rendered[0].textContent).toContain('暴露垃圾');
  });

  it('filters by state', async () => {
    const { callsOf } = await mountApp('/findings', { findings: () => [] });
    byTestId('findings-filter-rejected')[0].click();
    await settle();
    expect(callsOf('findings').at(-1)?.args).toMatchObject({ state: 'rejected', offset: 0 });
    expect(byTestId('findings-empty')).toHaveLength(1);
  });
});

describe('verification task', () => {
  it('passes a task with its photo and note', async () => {
    const { callsOf, router } = await mountApp('/tasks/t-1', {
      ...photoHandlers(),
      tasks: () => [
        {
          id: 't-1', task_type: 'verify', title: null, photos: [], case_no: '20261120-0011', state: 'open', due_at: '2030-01-01T08:00:00Z', result: null,
          category: 'E0102', description: '垃圾已清运', address: '中山路 12 号', lat: 41.79, lon: 123.43,
        },
      ],
      complete_task: () => null,
    });
    expect(byTestId('task-case-no')[0].textContent).toBe('20261120-0011');

    await chooseFiles(byTestId<HTMLInputElement>('task-photo-input')[0], [fileOf(5000).file]);
    const [note] = byTestId<HTMLTextAreaElement>('task-note');
    note.value = '已清理干净';
    note.dispatchEvent(new Event('input'));
    byTestId('task-pass')[0].click();
    await settle();
    (document.querySelector('.van-dialog__confirm') as HTMLElement).click();
    await settle(6);

    expect(callsOf('complete_task')).toHaveLength(1);
    expect(callsOf('complete_task')[0].args).toEqual({
      taskId: 't-1',
      answer: { result: 'pass', note: '已清理干净', photos: [SHA], category: null, location: null },
    });
    expect(router.currentRoute.value.name).toBe('tasks');
  });

  it('confirms a report that came without a category: the category is chosen, the type\'s own buttons', async () => {
    const { callsOf } = await mountApp('/tasks/t-9', {
      ...photoHandlers(),
      tasks: () => [
        {
          id: 't-9', task_type: 'confirm', title: null, photos: ['cd'.repeat(32)], case_no: null, state: 'open',
          due_at: '2030-01-01T08:00:00Z', result: null, category: '', description: '市民来电: 井盖缺失',
          address: '中街路 88号', lat: 41.7969, lon: 123.433,
        },
      ],
      complete_task: () => null,
    });
    expect(byTestId('task-type')[0].textContent).toContain('核实');
    // The report's photo, fetched by the sync, is shown from the phone's store.
    expect(byTestId('task-sent-photo').map((img) => img.getAttribute('data-sha256'))).toEqual(['cd'.repeat(32)]);
    expect(byTestId('task-pass')).toHaveLength(0);
    expect(byTestId('task-case-no')).toHaveLength(0);
    // Not found needs a note; confirmed needs a photo and a category.
    byTestId('task-not_found')[0].click();
    await settle();
    expect([...document.querySelectorAll('.van-toast__text')].map((e) => e.textContent)).toContain('请填写说明');
    await chooseFiles(byTestId<HTMLInputElement>('task-photo-input')[0], [fileOf(5000).file]);
    byTestId('task-confirmed')[0].click();
    await settle();
    expect(callsOf('complete_task')).toHaveLength(0);
    expect(byTestId('task-category')).toHaveLength(1);
    // The picker opened: choose by searching the code.
    const search = byTestId<HTMLInputElement>('category-search')[0];
    search.value = '井盖';
    search.dispatchEvent(new Event('input'));
    await settle();
    byTestId('category-option')[0].click();
    await settle();
    byTestId('task-confirmed')[0].click();
    await settle();
    (document.querySelector('.van-dialog__confirm') as HTMLElement).click();
    await settle(6);
    expect(callsOf('complete_task')[0].args).toEqual({
      taskId: 't-9',
      answer: { result: 'confirmed', note: '', photos: [SHA], category: 'C0102', location: null },
    });
  });

  it('lists tasks with their case numbers', async () => {
    await mountApp('/tasks', {
      tasks: () => [
        { id: 't-1', task_type: 'verify', title: null, photos: [], case_no: '20261120-0011', state: 'open', due_at: null, result: null, category: 'E0102', description: 'a', address: null, lat: null, lon: null },
        { id: 't-2', task_type: 'verify', title: null, photos: [], case_no: '20261119-0002', state: 'done', due_at: null, result: 'pass', category: 'E0102', description: 'b', address: null, lat: null, lon: null },
      ],
    });
    const rows = byTestId('task-row');
    expect(rows.map((r) => [r.getAttribute('data-case-no'), r.getAttribute('data-state')])).toEqual([
      ['20261120-0011', 'open'],
      ['20261119-0002', 'done'],
    ]);
  });
});

describe('sync', () => {
  const progress = (fields: Partial<SyncProgress>): SyncProgress => ({
    phase: 'photos', photos_done: 0, photos_total: 0, bytes_done: 0, bytes_total: 0, ops_done: 0, ops_total: 0, ...fields,
  });
  const report: SyncReport = {
    photos_uploaded: 5, photo_bytes_sent: 4_000_000, ops_sent: 12, applied: 11, duplicate: 1, rejected: [[7, '分类已停用']],
    retry: 0, changes_received: 3, remaining: 0, photo_errors: [], photos_fetched: 0,
  };

  it('shows the progress sent on the channel, then the result', async () => {
    type Internals = { runCallback: (id: number, data: unknown) => void };
    let channelId = -1;
    let finish: (r: SyncReport) => void = () => undefined;
    const { callsOf } = await mountApp('/sync', {
      status: () => statusOf({ pending_ops: 12, pending_photo_bytes: 4_000_000 }),
      sync_now: (args) => {
        channelId = (args.onProgress as { id: number }).id;
        return new Promise<SyncReport>((resolve) => (finish = resolve));
      },
    });
    expect(byTestId('sync-pending')[0].textContent?.trim()).toBe('12');

    byTestId('sync-now')[0].click();
    await settle();
    expect(callsOf('sync_now')).toHaveLength(1);
    const internals = (window as unknown as { __TAURI_INTERNALS__: Internals }).__TAURI_INTERNALS__;
    internals.runCallback(channelId, { index: 0, message: progress({ photos_done: 2, photos_total: 5, bytes_done: 2_000_000, bytes_total: 4_000_000 }) });
    await settle();
    expect(byTestId('sync-progress')[0].getAttribute('data-percent')).toBe('30');
    expect(byTestId('sync-phase')[0].textContent).toContain('上传照片 2/5');

    internals.runCallback(channelId, { index: 1, message: progress({ phase: 'ops', photos_done: 5, photos_total: 5, ops_done: 6, ops_total: 12 }) });
    await settle();
    expect(byTestId('sync-phase')[0].textContent).toContain('发送记录 6/12');
    expect(byTestId('sync-progress')[0].getAttribute('data-percent')).toBe('78');

    finish(report);
    await settle();
    expect(byTestId('sync-running')).toHaveLength(0);
    expect(byTestId('sync-applied')[0].textContent?.trim()).toBe('11');
    expect(byTestId('sync-rejected-op')[0].textContent).toContain('分类已停用');
  });

  const idle = { running: false, progress: null, last_report: null, last_error: null, last_sync_at: null };

  it('offers to cancel only while a sync runs, and shows a cancelled sync as no failure', async () => {
    const { callsOf } = await mountApp('/sync', { sync_cancel: () => true });
    const stop = startBackground();
    try {
      await settle();
      expect(byTestId('sync-cancel')).toHaveLength(0);
      await emit('sync-state', { ...idle, running: true, progress: progress({ phase: 'ops', ops_done: 1, ops_total: 4 }) });
      await settle();
      expect(byTestId('sync-cancel')).toHaveLength(1);

      byTestId('sync-cancel')[0].click();
      await settle();
      expect(callsOf('sync_cancel')).toHaveLength(1);
      expect(callsOf('sync_cancel')[0].args).toEqual({});

      await emit('sync-state', { ...idle, last_error: { code: 'cancelled', message: 'sync cancelled' } });
      await settle();
      expect(byTestId('sync-cancel')).toHaveLength(0);
      expect(byTestId('sync-error')).toHaveLength(0);
      expect(byTestId('sync-cancelled')[0].textContent).toContain('同步已取消');

      // Home says so as well, without the red of a failure.
      byTestId('tab-home')[0].click();
      await settle();
      expect(byTestId('home-sync-result')[0].getAttribute('data-result')).toBe('cancelled');
    } finally {
      stop();
    }
  });

  it('cancels its own run', async () => {
    let fail: (error: unknown) => void = () => undefined;
    const { callsOf } = await mountApp('/sync', {
      sync_now: () => new Promise((_, reject) => (fail = reject)),
      sync_cancel: () => {
        fail({ code: 'cancelled', message: 'sync cancelled' });
        return true;
      },
    });
    byTestId('sync-now')[0].click();
    await settle();
    byTestId('sync-cancel')[0].click();
    await settle();
    expect(callsOf('sync_cancel')).toHaveLength(1);
    expect(byTestId('sync-cancel')).toHaveLength(0);
    expect(byTestId('sync-error')).toHaveLength(0);
    expect(byTestId('sync-cancelled')).toHaveLength(1);
    expect(byTestId('sync-now')[0].hasAttribute('disabled')).toBe(false);
  });

  it('follows the background sync through the sync-state event', async () => {
    await mountApp('/home', {});
    const stop = startBackground();
    try {
      await settle();
      await emit('sync-state', {
        running: true,
        progress: progress({ phase: 'ops', ops_done: 1, ops_total: 4 }),
        last_report: null,
        last_error: null,
        last_sync_at: null,
      });
      await settle();
      expect(byTestId('home-sync-result')[0].getAttribute('data-result')).toBe('running');
      await emit('sync-state', { running: false, progress: null, last_report: report, last_error: null, last_sync_at: '2026-11-21T09:00:00Z' });
      await settle();
      expect(byTestId('home-sync-result')[0].getAttribute('data-result')).toBe('ok');
      expect(byTestId('home-sync-result')[0].textContent).toContain('12 条记录');
    } finally {
      stop();
    }
  });
});

describe('campaigns', () => {
  it("shows a running campaign's categories first in the category picker, and picks from there", async () => {
    await mountApp('/report', {
      campaigns: () => [
        { id: 'manholes-dec', name: '井盖专项整治月', categories: ['C0102', 'Z9999'], from: '2026-12-01', to: '2026-12-31', grids: [] },
      ],
    });
    byTestId('report-category')[0].click();
    await settle();
    const [section] = byTestId('category-campaign');
    expect(section.dataset.id).toBe('manholes-dec');
    expect(section.textContent).toContain('专项整治: 井盖专项整治月');
    // Codes the dictionary does not know are left out.
    const chips = byTestId('category-campaign-item');
    expect(chips.map((c) => c.dataset.code)).toEqual(['C0102']);
    chips[0].click();
    await settle();
    expect(byTestId('report-category')[0].dataset.code).toBe('C0102');
  });
});
