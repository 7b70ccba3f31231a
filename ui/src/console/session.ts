// The signed-in session. The token lives in sessionStorage: it survives a reload of the tab but not the
// closing of the browser, and is not shared with other tabs (a shared office PC is the usual setting).
import { resetServerBasemap } from './basemap';
import { computed, ref } from 'vue';
import type { SessionResponse } from '../shared/types';
import { setToken } from './api';

const STORAGE_KEY = 'tiejiaoban.console.session';

function load(): SessionResponse | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as SessionResponse;
    if (parsed.expires_at && Date.parse(parsed.expires_at) <= Date.now()) return null;
    return typeof parsed.token === 'string' && parsed.user ? parsed : null;
  } catch {
    return null;
  }
}

const current = ref<SessionResponse | null>(load());
setToken(current.value?.token ?? null);

/** Why the last session ended without the user signing out, shown on the sign-in page. */
export const sessionEndedReason = ref<'expired' | null>(null);

export const session = computed(() => current.value);
export const user = computed(() => current.value?.user ?? null);

export function startSession(value: SessionResponse): void {
  current.value = value;
  sessionEndedReason.value = null;
  setToken(value.token);
  try {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(value));
  } catch {
    // Without storage the session lasts for this page only.
  }
}

/** The session's second factor is set up: it is a whole session now (the server freed it too). */
export function secondFactorSetUp(): void {
  if (current.value?.enrol_second_factor) startSession({ ...current.value, enrol_second_factor: false });
}

export function endSession(reason: 'expired' | null = null): void {
  current.value = null;
  sessionEndedReason.value = reason;
  setToken(null);
  resetServerBasemap();
  try {
    sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // Nothing stored.
  }
}
