/// <reference types="node" />
// The limits the front-ends enforce (shared/limits.ts) against the Rust protocol crate they mirror: every
// constant there must equal the `const` of the same name in protocol/src/*.rs, so changing a limit on one
// side only fails here.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as limits from '../limits';

// Tests run from ui/ (where package.json is); the protocol crate is its sibling.
const PROTOCOL_SRC = join(process.cwd(), '..', 'protocol', 'src');
const LIMITS_TS = join(process.cwd(), 'src', 'shared', 'limits.ts');

interface RustConst {
  file: string;
  value: number;
}

/** The numeric `const`s of the protocol crate (`pub const NAME: u32 = 9;`, `8 * 1024`, `6_371_008.8`), by name. */
function rustConstants(): Map<string, RustConst[]> {
  const found = new Map<string, RustConst[]>();
  const pattern = /^\s*(?:pub(?:\([^)]*\))?\s+)?const\s+([A-Z][A-Z0-9_]*)\s*:\s*[A-Za-z0-9_]+\s*=\s*([0-9_.*\s]+);/gm;
  for (const name of readdirSync(PROTOCOL_SRC).filter((n) => n.endsWith('.rs'))) {
    const source = readFileSync(join(PROTOCOL_SRC, name), 'utf8');
    for (const match of source.matchAll(pattern)) {
      const value = match[2]
        .split('*')
        .map((factor) => Number(factor.replace(/_/g, '').trim()))
        .reduce((product, factor) => product * factor, 1);
      const list = found.get(match[1]) ?? [];
      list.push({ file: `protocol/src/${name}`, value });
      found.set(match[1], list);
    }
  }
  return found;
}

describe('limits', () => {
  const rust = rustConstants();

  it('reads the protocol crate', () => {
    // A parser that finds nothing would pass every comparison below.
    expect(rust.size).toBeGreaterThan(3);
    expect(rust.get('MAX_PHOTOS')?.[0]?.value).toBeGreaterThan(0);
  });

  it('equal the Rust constants of the same names', () => {
    const entries = Object.entries(limits);
    expect(entries.length).toBeGreaterThan(0);
    for (const [name, value] of entries) {
      const matches = rust.get(name) ?? [];
      expect(matches, `${name}: one \`const ${name}\` in protocol/src/*.rs`).toHaveLength(1);
      expect(value, `${name} (limits.ts) against ${matches[0].file}`).toBe(matches[0].value);
    }
  });

  it('say in their comment which Rust file each mirrors', () => {
    const source = readFileSync(LIMITS_TS, 'utf8');
    for (const name of Object.keys(limits)) {
      const file = rust.get(name)?.[0]?.file;
      const doc = source.match(new RegExp(`/\\*\\*((?:(?!\\*/)[\\s\\S])*)\\*/\\s*export const ${name}\\b`))?.[1] ?? '';
      expect(doc, `the comment of ${name}`).toContain(`${file} \`${name}\``);
    }
  });
});
