// Photos are behind the bearer token, so an <img src> cannot load them: they are fetched with the header and
// shown through object URLs. The URLs are kept (photos never change: they are addressed by their hash) up
// to a bound, and released on sign-out.
import { getBlob } from './api';

const MAX_CACHED = 300;
const cache = new Map<string, Promise<string>>();

/** An object URL for the photo; the same promise for every caller of the same hash. */
export function blobUrl(sha256: string): Promise<string> {
  const hit = cache.get(sha256);
  if (hit) {
    // Re-insert to mark it recently used.
    cache.delete(sha256);
    cache.set(sha256, hit);
    return hit;
  }
  const pending = getBlob(sha256).then((blob) => URL.createObjectURL(blob));
  pending.catch(() => cache.delete(sha256));
  cache.set(sha256, pending);
  while (cache.size > MAX_CACHED) {
    const [oldest, url] = cache.entries().next().value as [string, Promise<string>];
    cache.delete(oldest);
    url.then((u) => URL.revokeObjectURL(u)).catch(() => undefined);
  }
  return pending;
}

export function clearBlobCache(): void {
  for (const url of cache.values()) url.then((u) => URL.revokeObjectURL(u)).catch(() => undefined);
  cache.clear();
}
