// What the console offers on a case: the actions its state allows (protocol.md, case states) intersected
// with what the signed-in role may do. The server checks both again; this only hides buttons that would
// certainly be refused.
import type { Case, CaseAction, CaseState, UserInfo } from '../shared/types';

const BY_STATE: Record<CaseState, CaseAction[]> = {
  filed: ['dispatch', 'suspend', 'void'],
  // `dispatch` on a dispatched case is a redispatch to another department.
  dispatched: ['accept', 'return', 'dispatch', 'extend', 'suspend', 'void'],
  accepted: ['handle', 'return', 'extend', 'suspend', 'void'],
  handled: ['close', 'suspend', 'void'],
  suspended: ['resume', 'void'],
  closed: [],
  voided: [],
};

const BY_ROLE: Record<string, CaseAction[]> = {
  dispatcher: ['dispatch', 'suspend', 'resume', 'extend', 'close', 'void'],
  chief: ['close', 'void'],
  department: ['accept', 'return', 'handle'],
};

export const OPEN_STATES: CaseState[] = ['filed', 'dispatched', 'accepted', 'handled', 'suspended'];

export function isOpen(c: Case): boolean {
  return OPEN_STATES.includes(c.state);
}

export function allowedActions(c: Case, user: UserInfo | null): CaseAction[] {
  if (!user) return [];
  const byState = BY_STATE[c.state] ?? [];
  if (user.role === 'admin') return byState;
  const byRole = BY_ROLE[user.role] ?? [];
  if (user.role === 'department' && user.department && c.department && user.department !== c.department) {
    return [];
  }
  if (user.role === 'chief' && user.team && c.team && user.team !== c.team) return [];
  return byState.filter((a) => byRole.includes(a));
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

/** Actions whose form needs a written reason. */
export const NEEDS_NOTE: CaseAction[] = ['return', 'suspend', 'void', 'extend'];
