/// <reference types="node" />
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FindingRow } from '../../shared/types';
import zhCN from '../../shared/i18n/zh-CN';
import en from '../../shared/i18n/en';
import { hasMessage, literalKeys } from '../../shared/testing/messages';
import { photoUrl, toBase64 } from '../ipc';
import { normalizeServer, formatElapsed, formatDistance } from '../format';
import { findingStatus } from '../labels';
import { classesOf, rememberCategory, recentCategories, searchCategories, RECENT_MAX } from '../categories';
import { DICTIONARY, decodeBase64 } from './harness';

afterEach(() => localStorage.clear());

describe('toBase64', () => {
  it('round-trips every byte value and large buffers', () => {
    const bytes = new Uint8Array(100_000).map((_, i) => (i * 31) % 256);
    const text = toBase64(bytes);
    expect(text).toBe(Buffer.from(bytes).toString('base64'));
    expect(decodeBase64(text).every((b, i) => b === bytes[i])).toBe(true);
    expect(toBase64(new Uint8Array(0))).toBe('');
  });
});

describe('photoUrl', () => {
  it('uses the custom scheme, or http://photo.localhost on Android and Windows', () => {
    expect(photoUrl('abc')).toBe('photo://localhost/abc');
    expect(photoUrl('abc', true)).toBe('photo://localhost/abc?thumb=1');
    vi.spyOn(navigator, 'userAgent', 'get').mockReturnValue('Mozilla/5.0 (Linux; Android 12) Chrome/120');
    expect(photoUrl('abc', true)).toBe('http://photo.localhost/abc?thumb=1');
  });
});

describe('normalizeServer', () => {
  it('turns what people type into an origin', () => {
    expect(normalizeServer('192.168.1.10:8080')).toBe('http://192.168.1.10:8080');
    expect(normalizeServer(' https://city.example.cn/console/ ')).toBe('https://city.example.cn');
    expect(normalizeServer('http://')).toBeNull();
    expect(normalizeServer('')).toBeNull();
  });
});

describe('formatting', () => {
  it('formats the patrol figures', () => {
    expect(formatElapsed(3_723_000)).toBe('1:02:03');
    expect(formatDistance(950.4)).toBe('950 m');
    expect(formatDistance(3420)).toBe('3.42 km');
  });
});

describe('findingStatus', () => {
  const row = (fields: Partial<FindingRow>): FindingRow => ({
    id: 'f', local_state: 'received', server_state: null, case_no: null, case_state: null, reason: null,
    category: 'E0102', description: '', observed_at: '2026-11-21T08:00:00Z', photos: 1, grid: null, ...fields,
  });

  it('reads from draft and saved to closed', () => {
    expect(findingStatus(row({ local_state: 'draft' })).text).toBe('草稿·未提交');
    expect(findingStatus(row({ local_state: 'draft' })).key).toBe('draft');
    expect(findingStatus(row({ local_state: 'queued' })).text).toBe('已保存·等待发送');
    expect(findingStatus(row({ server_state: 'pending_review' })).text).toBe('已接收');
    expect(findingStatus(row({ case_no: '20261121-0003', case_state: 'filed' })).text).toBe('已立案 20261121-0003');
    expect(findingStatus(row({ case_no: '1', case_state: 'handled' })).key).toBe('handled');
    expect(findingStatus(row({ server_state: 'merged', case_no: '20261121-0001' })).text).toBe('已合并到 20261121-0001');
    expect(findingStatus(row({ server_state: 'rejected', reason: '重复' })).text).toBe('被驳回：重复');
    expect(findingStatus(row({ local_state: 'rejected' })).text).toBe('被驳回');
  });
});

describe('categories', () => {
  it('searches by code, Chinese and English name', () => {
    expect(searchCategories(DICTIONARY, '井盖').map((c) => c.code)).toEqual(['C0102']);
    expect(searchCategories(DICTIONARY, 'e05').map((c) => c.code)).toEqual(['E0512']);
    expect(searchCategories(DICTIONARY, '  ')).toEqual([]);
  });

  it('derives big classes when the dictionary has none', () => {
    expect(classesOf({ ...DICTIONARY, classes: undefined }).map((c) => c.code)).toEqual(['C01', 'E01', 'E05']);
  });

  it('keeps the last 8 categories, most recent first', () => {
    for (let i = 0; i < 10; i++) rememberCategory(`E05${String(i).padStart(2, '0')}`);
    rememberCategory('E0503');
    const recent = recentCategories();
    expect(recent).toHaveLength(RECENT_MAX);
    expect(recent[0]).toBe('E0503');
    expect(new Set(recent).size).toBe(RECENT_MAX);
  });
});

describe('messages', () => {
  // Tests run from ui/ (where package.json is).
  const appDir = join(process.cwd(), 'src', 'app');
  const has = (messages: unknown, key: string) => hasMessage(messages, key);

  it('has every literal key the phone app uses, in both languages', () => {
    const keys = literalKeys(appDir, ['app', 'common']);
    expect(keys.size).toBeGreaterThan(100);
    const missing = [...keys].filter((key) => !has(zhCN, key) || !has(en, key));
    expect(missing).toEqual([]);
  });

  it('has the keys the screens build from states and codes', () => {
    const built = [
      ...['idle', 'running', 'paused', 'ended'].map((s) => `app.home.patrolState.${s}`),
      ...['filed', 'dispatched', 'accepted', 'handled', 'closed', 'suspended', 'voided'].flatMap((s) => [`app.state.case.${s}`, `app.caseState.${s}`]),
      ...['all', 'queued', 'received', 'rejected'].map((s) => `app.findings.filter.${s}`),
      ...['gps', 'network', 'manual'].map((s) => `app.position.source.${s}`),
      ...['denied', 'unavailable', 'timeout', 'unsupported'].map((s) => `app.position.problem.${s}`),
      ...['garbage', 'stall', 'manhole', 'ads', 'parking', 'road', 'cables', 'dumped'].map((s) => `app.report.phrases.${s}`),
      ...['unsupported_format', 'offline', 'unauthorized', 'device_revoked', 'not_registered', 'invalid_credentials', 'disk_full'].map((s) => `app.errors.${s}`),
      ...['open', 'done', 'cancelled'].map((s) => `app.tasks.state.${s}`),
      ...['pass', 'fail'].flatMap((s) => [`app.tasks.result.${s}`, `app.tasks.confirm.${s}`]),
      ...['photos', 'ops', 'changes', 'done'].map((s) => `app.sync.phase.${s}`),
      ...['before', 'after'].map((s) => `app.detail.photos.${s}`),
      ...['component', 'event'].map((s) => `app.category.branch.${s}`),
      'app.settings.languages.zh',
      'app.settings.languages.en',
    ];
    expect(built.filter((key) => !has(zhCN, key) || !has(en, key))).toEqual([]);
  });
});
