// Webhooks and the departments' group robots in the console: the events a system endpoint may want, the
// form that registers an endpoint and the body it sends, a fresh signing secret, and a URL shortened for a
// table (a robot's URL carries its key, which the list need not spell out). And the users an integration
// token may act as.
import type { ConsoleUser, NewWebhook, Role, WebhookEvent, WebhookFormat } from '../shared/types';

/** The events an endpoint may subscribe to, in the server's order (`Event::SUBSCRIBABLE`). */
export const EVENTS: WebhookEvent[] = [
  'case.filed',
  'case.changed',
  'case.overdue',
  'report.changed',
  'task.completed',
  'finding.rejected',
];

export const FORMATS: WebhookFormat[] = ['json', 'wecom', 'dingtalk'];

/** What the add dialog holds; `webhookBody` turns it into the request. */
export interface WebhookForm {
  format: WebhookFormat;
  url: string;
  events: WebhookEvent[];
  secret: string;
  /** A department code, for a group robot. */
  department: string;
  description: string;
}

export function emptyWebhookForm(): WebhookForm {
  return { format: 'json', url: '', events: [], secret: '', department: '', description: '' };
}

/**
 * The request for the form: a system endpoint sends its events and its secret; a group robot its department
 * (the server picks a robot's events itself: dispatches to the department, 督办, overdue cases), and a secret
 * only for DingTalk, whose signing (加签) is optional; a WeCom robot's key is in its URL.
 */
export function webhookBody(form: WebhookForm): NewWebhook {
  const robot = form.format !== 'json';
  return {
    url: form.url.trim(),
    format: form.format,
    events: robot ? [] : EVENTS.filter((e) => form.events.includes(e)),
    secret: form.format === 'wecom' ? '' : form.secret.trim(),
    department: robot ? form.department || null : null,
    description: form.description.trim(),
  };
}

/** Whether the form has what the server requires of its kind (the server checks the rest). */
export function webhookFormReady(form: WebhookForm): boolean {
  if (form.url.trim() === '') return false;
  if (form.format === 'json') return form.events.length > 0 && form.secret.trim() !== '';
  return form.department !== '';
}

/** The form's field a refusal names: `events[1]` is the events' checkboxes. */
export function formField(field: string): string {
  return field.split(/[[.]/)[0];
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
// 4 × 62: a byte from here up would make the first letters likelier than the others.
const UNBIASED = 248;

/** A random secret of letters and digits (32 of them carry about 190 bits), from the browser's CSPRNG. */
export function newSecret(length = 32): string {
  const out: string[] = [];
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length))) {
      if (byte < UNBIASED && out.length < length) out.push(ALPHABET[byte % ALPHABET.length]);
    }
  }
  return out.join('');
}

/** Host and path, cut to `max` characters, with the query's values left out (`?key=…`, `?key=…&…`). */
export function shortUrl(url: string, max = 48): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.length > max ? `${url.slice(0, max - 1)}…` : url;
  }
  const keys = [...new Set(parsed.searchParams.keys())];
  const query = keys.length ? `?${keys[0]}=…${keys.length > 1 ? '&…' : ''}` : '';
  const path = parsed.pathname === '/' ? '' : parsed.pathname;
  let head = parsed.host + path;
  const room = Math.max(max - query.length, parsed.host.length + 2);
  if (head.length > room) head = `${head.slice(0, room - 1)}…`;
  return head + query;
}

/** Whose accounts a token is usually for first: a 12345 system files reports as a dispatcher would. */
const TOKEN_ROLE_ORDER: Role[] = ['dispatcher', 'chief', 'department', 'inspector'];

/**
 * The users a token may act as: active and not an admin (the server refuses both), the dispatchers first,
 * then by username.
 */
export function tokenUsers(users: ConsoleUser[]): ConsoleUser[] {
  const rank = (u: ConsoleUser) => TOKEN_ROLE_ORDER.indexOf(u.role);
  return users
    .filter((u) => u.active && u.role !== 'admin')
    .sort((a, b) => rank(a) - rank(b) || a.username.localeCompare(b.username));
}
