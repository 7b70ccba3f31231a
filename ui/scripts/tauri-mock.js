// A stand-in for the Tauri shell in a plain browser: answers the phone app's IPC commands from memory so
// the built app can be looked at (screenshots) without Rust. Injected before the page's scripts (Playwright
// `addInitScript`); `window.__TIEJIAOBAN_MOCK__ = {registered, syncRunning}` set earlier picks the scenario.
// Not shipped: only scripts/app-screenshots.mjs loads it.
(() => {
  const options = Object.assign({ registered: true, syncRunning: false }, window.__TIEJIAOBAN_MOCK__ || {});
  const now = Date.now();
  const iso = (msAgo) => new Date(now - msAgo).toISOString();
  const sha = (n) => String(n).repeat(64).slice(0, 64);

  const categories = [
    ['C0101', '上水井盖', 'water-supply manhole cover', 'component', 'C01', true],
    ['C0102', '污水井盖', 'sewage manhole cover', 'component', 'C01', true],
    ['C0118', '路灯', 'street light', 'component', 'C01', false],
    ['C0305', '垃圾箱', 'litter bin', 'component', 'C03', false],
    ['C0402', '行道树', 'street tree', 'component', 'C04', false],
    ['E0102', '暴露垃圾', 'exposed garbage', 'event', 'E01', false],
    ['E0104', '道路不洁', 'dirty road', 'event', 'E01', false],
    ['E0201', '非法小广告', 'illegal small ads', 'event', 'E02', false],
    ['E0302', '工地扬尘', 'construction site dust', 'event', 'E03', false],
    ['E0401', '路面塌陷', 'road collapse', 'event', 'E04', true],
    ['E0405', '道路破损', 'damaged road surface', 'event', 'E04', false],
    ['E0505', '机动车乱停放', 'badly parked motor vehicle', 'event', 'E05', false],
    ['E0512', '占道经营', 'street stall occupying the road', 'event', 'E05', false],
  ].map(([code, name, name_en, branch, parent, urgent]) => ({
    code, name, name_en, branch, parent, department: 'ZF', time_limit_hours: 24, review: urgent ? 'auto' : 'chief', urgent,
  }));
  const dictionary = {
    version: 3,
    categories,
    departments: [{ code: 'ZF', name: '城管执法' }],
    roads: [{ name: '中山路', grid: 'G01', points: [[41.7968, 123.4300], [41.7968, 123.4400]] }],
    classes: [
      { code: 'C01', name: '公用设施', name_en: 'Public utilities' },
      { code: 'C03', name: '市容环境', name_en: 'City appearance' },
      { code: 'C04', name: '园林绿化', name_en: 'Landscaping' },
      { code: 'E01', name: '市容环境', name_en: 'City appearance' },
      { code: 'E02', name: '宣传广告', name_en: 'Advertising' },
      { code: 'E03', name: '施工管理', name_en: 'Construction' },
      { code: 'E04', name: '突发事件', name_en: 'Emergencies' },
      { code: 'E05', name: '街面秩序', name_en: 'Street order' },
    ],
  };

  const row = (id, local_state, server_state, case_no, case_state, reason, category, description, agoMin, photos) => ({
    id, local_state, server_state, case_no, case_state, reason, category, description, observed_at: iso(agoMin * 60000), photos,
  });
  const findings = [
    row('f-001', 'queued', null, null, null, null, 'E0102', '路面有垃圾，约两平方米', 3, 2),
    row('f-002', 'received', 'pending_review', null, null, null, 'E0512', '占道经营', 25, 1),
    row('f-003', 'received', 'filed', '20261121-0003', 'filed', null, 'C0102', '井盖缺失/破损', 60, 3),
    row('f-004', 'received', 'filed', '20261121-0002', 'dispatched', null, 'E0201', '乱张贴小广告', 90, 2),
    row('f-005', 'received', 'filed', '20261120-0011', 'handled', null, 'E0405', '路面破损', 1500, 2),
    row('f-006', 'received', 'filed', '20261119-0007', 'closed', null, 'C0118', '路灯不亮', 2900, 1),
    row('f-007', 'received', 'rejected', null, null, '照片不清晰，请重新拍摄', 'E0505', '车辆乱停放', 180, 1),
    row('f-008', 'rejected', null, null, null, '分类已停用: E0999', 'E0104', '道路不洁', 240, 1),
  ];
  const tasks = [
    { id: 't-1', case_no: '20261120-0011', state: 'open', due_at: iso(-3 * 3600000), result: null, category: 'E0405', description: '中山路 12 号门前路面破损，已修补', address: '中山路 12 号', lat: 41.7969, lon: 123.4321 },
    { id: 't-2', case_no: '20261118-0004', state: 'open', due_at: iso(2 * 3600000), result: null, category: 'E0102', description: '垃圾已清运', address: '北二路与中山路交口', lat: 41.798, lon: 123.433 },
    { id: 't-3', case_no: '20261117-0002', state: 'done', due_at: iso(30 * 3600000), result: 'pass', category: 'C0305', description: '垃圾箱已更换', address: null, lat: null, lon: null },
  ];
  let settings = { photo_max_edge: 1600, photo_quality: 85, wifi_only_photos: true, stamp: true, language: options.language || 'zh-CN' };
  let patrol = { id: 'p-1', started_at: iso(83 * 60000 + 12000), ended_at: null, distance_m: 3420, points: 412, paused: false };
  let registered = options.registered;
  let uploads = 0;
  const progress = { phase: 'photos', photos_done: 2, photos_total: 5, bytes_done: 1800000, bytes_total: 4200000, ops_done: 0, ops_total: 12 };
  const lastReport = { photos_uploaded: 4, photo_bytes_sent: 3100000, ops_sent: 9, applied: 8, duplicate: 1, rejected: [[41, '分类已停用: E0999']], retry: 0, changes_received: 5, remaining: 3, photo_errors: [] };
  const syncState = () => ({
    running: options.syncRunning,
    progress: options.syncRunning ? progress : null,
    last_report: lastReport,
    last_error: null,
    last_sync_at: iso(7 * 60000),
  });

  const callbacks = new Map();
  const listeners = new Map();
  let nextId = 1;

  const handlers = {
    status: () => ({
      registered,
      server_url: registered ? 'http://192.168.1.10:8080' : null,
      username: registered ? 'inspector1' : null,
      device_id: registered ? '5f0c2d9e-8a41-4b7e-9a0e-3c1f6d2b7a11' : null,
      pending_ops: 3,
      pending_photo_bytes: 2457600,
      findings: findings.length,
      rejected: 1,
      dictionary_version: 3,
      last_sync_at: iso(7 * 60000),
      clock_offset_ms: 1200,
      patrol: registered ? patrol : null,
      open_tasks: 2,
    }),
    register: (args) => {
      registered = true;
      return { device_id: 'dev-1', user: { id: 'u1', username: args.username, display_name: '张巡查', role: 'inspector', team: 'T1' } };
    },
    dictionary: () => dictionary,
    photo_begin: () => `upload-${++uploads}`,
    photo_append: (args) => Math.floor((args.chunk.length * 3) / 4),
    photo_finish: () => ({ sha256: sha((uploads % 9) + 1), width: 1600, height: 1200, bytes: 420000, taken_at: iso(0) }),
    report: () => 'f-new',
    findings: (args) => {
      let list = findings;
      if (args.state) list = list.filter((f) => f.local_state === args.state);
      return list.slice(args.offset, args.offset + args.limit);
    },
    finding: (args) => {
      const r = findings.find((f) => f.id === args.id) || findings[2];
      return {
        row: r,
        finding: {
          id: r.id, category: r.category, description: r.description, urgent: true, fixed_on_spot: true,
          location: { lat: 41.796812, lon: 123.432791, accuracy_m: 8, source: 'gps', fixed_at: r.observed_at },
          address: '中山路 12 号门前', road: '中山路', facility_code: '2101020102000031', observed_at: r.observed_at,
          photos: [
            { sha256: sha(1), role: 'before', taken_at: r.observed_at, width: 1600, height: 1200, bytes: 400000 },
            { sha256: sha(2), role: 'before', taken_at: r.observed_at, width: 1600, height: 1200, bytes: 400000 },
            { sha256: sha(3), role: 'after', taken_at: r.observed_at, width: 1600, height: 1200, bytes: 400000 },
          ],
        },
      };
    },
    tasks: () => tasks,
    complete_task: () => null,
    patrol_start: () => (patrol = { id: 'p-2', started_at: iso(0), ended_at: null, distance_m: 0, points: 0, paused: false }),
    patrol_pause: () => (patrol = { ...patrol, paused: true }),
    patrol_resume: () => (patrol = { ...patrol, paused: false }),
    patrol_end: () => (patrol = { ...patrol, ended_at: iso(0) }),
    patrol_track: () => true,
    sync_now: () => new Promise(() => {}),
    sync_state: syncState,
    notify_network: () => null,
    settings_get: () => settings,
    settings_set: (args) => (settings = args.settings),
    nearby_cases: () => [{ case_no: '20261121-0003', category: 'C0102', distance_m: 23.4 }],
    simulated_location: () => ({ lat: 41.796812, lon: 123.432791, accuracy_m: 65, source: 'gps' }),
    'plugin:event|listen': (args) => {
      if (!listeners.has(args.event)) listeners.set(args.event, []);
      listeners.get(args.event).push(args.handler);
      return args.handler;
    },
    'plugin:event|unlisten': () => null,
  };

  window.__TAURI_INTERNALS__ = {
    metadata: { currentWindow: { label: 'main' }, currentWebview: { windowLabel: 'main', label: 'main' } },
    transformCallback(callback, once) {
      const id = nextId++;
      callbacks.set(id, (data) => {
        if (once) callbacks.delete(id);
        return callback && callback(data);
      });
      return id;
    },
    unregisterCallback(id) {
      callbacks.delete(id);
    },
    runCallback(id, data) {
      const callback = callbacks.get(id);
      if (callback) callback(data);
    },
    callbacks,
    async invoke(cmd, args) {
      const handler = handlers[cmd];
      if (!handler) throw { code: 'unknown_command', message: `mock: no command ${cmd}` };
      return handler(args || {});
    },
  };
  window.__TAURI_EVENT_PLUGIN_INTERNALS__ = { unregisterListener() {} };
})();
