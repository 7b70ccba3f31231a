// The console's API types are generated from the server's OpenAPI document, which the server's tests check
// against the Rust types: this fails when src/console/generated/api.ts is older than the document
// (`npm run gen:api` writes it anew).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { apiTypes, outputPath } from '../../../scripts/api-types.mjs';

describe('generated API types', () => {
  it('are what the OpenAPI document gives', async () => {
    expect(readFileSync(outputPath, 'utf8')).toBe(await apiTypes());
  });

  it('name the fields the server sends', () => {
    const text = readFileSync(outputPath, 'utf8');
    expect(text).toContain('export type CaseView = ');
    // Sent always, null or not: required and nullable.
    expect(text).toMatch(/category_name: string \| null;/);
  });
});
