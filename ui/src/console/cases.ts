// Cases in the console: which are open, how near their deadline, which actions need a written reason. What
// the signed-in user may do with a case is the server's to say (`allowed_actions` in every case it sends,
// from its lifecycle and its policy); the console shows those buttons and no others.
import type { Case, CaseAction, CaseState, UserInfo } from '../shared/types';

export const OPEN_STATES: CaseState[] = ['filed', 'dispatched', 'accepted', 'handled', 'suspended'];

export function isOpen(c: Case): boolean {
  return OPEN_STATES.includes(c.state);
}

/** The actions the server offers the signed-in user on the case, in the server's order. */
export function allowedActions(c: Case, user: UserInfo | null): CaseAction[] {
  return user ? c.allowed_actions : [];
}

/** Cases due within this window are highlighted as near their deadline. */
export const NEAR_DEADLINE_MS = 2 * 60 * 60 * 1000;

export type DeadlineStatus = 'overdue' | 'near' | 'ok' | 'none';

export function deadlineStatus(c: Case, now = Date.now()): DeadlineStatus {
  if (!isOpen(c) || c.state === 'suspended') return c.overdue && isOpen(c) ? 'overdue' : 'none';
  if (c.overdue) return 'overdue';
  if (!c.due_at) return 'none';
  const left = Date.parse(c.due_at) - now;
  if (left < 0) return 'overdue';
  return left <= NEAR_DEADLINE_MS ? 'near' : 'ok';
}

/** Actions whose form needs a written reason: those the server refuses without a note (the note check of
 * `case_action`, sync-server/src/http/cases.rs). */
export const NEEDS_NOTE: CaseAction[] = [
  'return',
  'extend',
  'void',
  'supervise',
  'request_extension',
  'request_return',
  'approve_request',
  'deny_request',
];

/** Actions whose form asks for hours: the extension, and the department's request for one. */
export const NEEDS_HOURS: CaseAction[] = ['extend', 'request_extension'];

/** The lights' colours (红黄绿灯): red overdue, yellow with 80 % of the time used. */
export const LIGHT_COLORS = { green: '#67c23a', yellow: '#e6a23c', red: '#f56c6c' } as const;
