/// <reference types="node" />
// For the tests that check the i18n messages: the source files of a front-end, and whether a key is in a
// language's messages.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The .ts and .vue files under `dir`, its tests left out. */
export function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'tests' ? [] : sourceFiles(path);
    return /\.(ts|vue)$/.test(name) ? [path] : [];
  });
}

/** The keys passed as a literal to `t('…')` in the sources of `dir` whose first part is one of `roots`. */
export function literalKeys(dir: string, roots: string[]): Set<string> {
  const pattern = new RegExp(`\\bt\\('((?:${roots.join('|')})\\.[\\w.]+)'`, 'g');
  const keys = new Set<string>();
  for (const file of sourceFiles(dir)) {
    for (const match of readFileSync(file, 'utf8').matchAll(pattern)) keys.add(match[1]);
  }
  return keys;
}

/** Whether `key` names a message (a string; with `lists`, an array of them too). */
export function hasMessage(messages: unknown, key: string, lists = false): boolean {
  let node: unknown = messages;
  for (const part of key.split('.')) {
    if (typeof node !== 'object' || node === null || !(part in node)) return false;
    node = (node as Record<string, unknown>)[part];
  }
  return typeof node === 'string' || (lists && Array.isArray(node));
}
