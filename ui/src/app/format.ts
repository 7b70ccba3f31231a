// Small text helpers of the phone app's screens (the console's live in src/shared/format.ts).

/** "192.168.1.10:8080" or "http://…/path" → "http://192.168.1.10:8080"; null when it is no address. */
export function normalizeServer(input: string): string | null {
  let text = input.trim();
  if (!text || /^https?:\/\/$/i.test(text)) return null;
  if (!/^https?:\/\//i.test(text)) text = `http://${text}`;
  try {
    const url = new URL(text);
    return url.hostname ? url.origin : null;
  } catch {
    return null;
  }
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** Elapsed time as H:MM:SS, for the patrol timer. */
export function formatElapsed(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '0:00:00';
  const seconds = Math.floor(ms / 1000);
  return `${Math.floor(seconds / 3600)}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}`;
}

/** Metres below 1 km, kilometres with two decimals above. */
export function formatDistance(metres: number): string {
  if (!Number.isFinite(metres)) return '—';
  return metres < 1000 ? `${Math.round(metres)} m` : `${(metres / 1000).toFixed(2)} km`;
}

export function formatCoordinate(value: number): string {
  return value.toFixed(6);
}
