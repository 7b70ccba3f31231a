// What the console offers on a case: the actions its state allows intersected with what the signed-in role
// may do on it. Both restate the server: the states from `CaseAction::next` (sync-server/src/domain/
// lifecycle.rs), the roles, teams and departments from `Principal::may` (sync-server/src/policy.rs). The
// server checks both again; this only hides buttons that would certainly be refused. tests/units.test.ts
// pins the whole table.
import type { Case, CaseAction, CaseState, Role, UserInfo } from '../shared/types';

/** The actions each state allows (`CaseAction::next`), in the order the buttons show. */
const BY_STATE: Record<CaseState, CaseAction[]> = {
  filed: ['dispatch', 'extend', 'suspend', 'void'],
  // `dispatch` on a dispatched case is a redispatch to another department.
  dispatched: ['accept', 'return', 'dispatch', 'extend', 'suspend', 'void'],
  accepted: ['handle', 'return', 'extend', 'suspend', 'void'],
  handled: ['close', 'suspend', 'void'],
  suspended: ['resume', 'extend', 'void'],
  closed: [],
  voided: [],
};

/** The actions each role may ask for at all (`action_roles` in policy.rs); an admin may ask for every one. */
const BY_ROLE: Record<Exclude<Role, 'admin'>, CaseAction[]> = {
  dispatcher: ['dispatch', 'suspend', 'resume', 'extend', 'close', 'void'],
  chief: ['close', 'void'],
  department: ['accept', 'return', 'handle'],
  inspector: [],
};

/** Whether the user's department or team owns the case, as the policy requires of department users and chiefs. */
function owns(c: Case, user: UserInfo): boolean {
  if (user.role === 'department') return !!user.department && user.department === c.department;
  if (user.role === 'chief') return !!user.team && user.team === (c.team ?? null);
  return true;
}

export const OPEN_STATES: CaseState[] = ['filed', 'dispatched', 'accepted', 'handled', 'suspended'];

export function isOpen(c: Case): boolean {
  return OPEN_STATES.includes(c.state);
}

export function allowedActions(c: Case, user: UserInfo | null): CaseAction[] {
  if (!user) return [];
  const byState = BY_STATE[c.state] ?? [];
  if (user.role === 'admin') return byState;
  if (!owns(c, user)) return [];
  const byRole = BY_ROLE[user.role] ?? [];
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

/** Actions whose form needs a written reason: those the server refuses without a note (the note check of
 * `case_action`, sync-server/src/http/cases.rs). */
export const NEEDS_NOTE: CaseAction[] = ['return', 'extend', 'void'];
