// Verification tasks (核查) as the case drawer shows them: who may reassign or cancel one, and which
// inspectors it may go to. The server checks both again; this only hides what would certainly be refused.
import type { Case, CaseTask, ConsoleUser, UserInfo } from '../shared/types';

/** Dispatchers and admins manage every case's tasks; a chief those of their own team's cases. */
export function canManageTasks(c: Case, user: UserInfo | null): boolean {
  if (!user) return false;
  if (user.role === 'dispatcher' || user.role === 'admin') return true;
  if (user.role !== 'chief') return false;
  return !user.team || !c.team || user.team === c.team;
}

export function isOpenTask(task: CaseTask): boolean {
  return task.state === 'open';
}

/**
 * Active inspectors a task may go to, the current one left out: those of the case's team first, then by
 * team and username.
 */
export function reassignCandidates(users: ConsoleUser[], task: CaseTask, team?: string | null): ConsoleUser[] {
  const rank = (u: ConsoleUser) => (team && u.team === team ? 0 : 1);
  return users
    .filter((u) => u.role === 'inspector' && u.active !== false && u.username !== task.assignee)
    .sort(
      (a, b) =>
        rank(a) - rank(b) || (a.team ?? '').localeCompare(b.team ?? '') || a.username.localeCompare(b.username),
    );
}

/** What a username typed by hand must look like (the users form's rule). */
export function isUsername(value: string): boolean {
  return /^[A-Za-z0-9._-]{2,64}$/.test(value);
}
