// Teams (中队) and their members for the admin pages: the names to choose from, who is in a team, and the
// PATCH that an edit of a user amounts to.
import type { ConsoleUser, Role, Team, UserPatch } from '../shared/types';

/** Roles that belong to a team: the form asks for one. */
export const TEAM_ROLES: Role[] = ['inspector', 'chief'];

/** Every team name known: the server's teams and any a user names (an older server lists none). */
export function teamNames(teams: Team[], users: ConsoleUser[]): string[] {
  const names = new Set(teams.map((t) => t.name));
  for (const u of users) if (u.team) names.add(u.team);
  return [...names].sort((a, b) => a.localeCompare(b, 'zh-CN'));
}

const ROLE_ORDER: Role[] = ['chief', 'inspector', 'dispatcher', 'department', 'admin'];

/** The users of a team, its chiefs first, then by username. */
export function membersOf(users: ConsoleUser[], team: string): ConsoleUser[] {
  return users
    .filter((u) => u.team === team)
    .sort((a, b) => ROLE_ORDER.indexOf(a.role) - ROLE_ORDER.indexOf(b.role) || a.username.localeCompare(b.username));
}

/** The edit form of a user. */
export interface UserForm {
  display_name: string;
  role: Role;
  team: string;
  department: string;
  password: string;
}

export function formOf(user: ConsoleUser): UserForm {
  return {
    display_name: user.display_name,
    role: user.role,
    team: user.team ?? '',
    department: user.department ?? '',
    password: '',
  };
}

/**
 * The fields of the form that differ from the user, as the PATCH body: an empty team is "no team", a
 * department is kept only for the department role, an empty password changes nothing.
 */
export function patchOf(user: ConsoleUser, form: UserForm): UserPatch {
  const patch: UserPatch = {};
  const name = form.display_name.trim();
  if (name !== user.display_name) patch.display_name = name;
  if (form.role !== user.role) patch.role = form.role;
  const team = (form.team ?? '').trim() || null;
  if (team !== (user.team ?? null)) patch.team = team;
  if (form.role === 'department') {
    if (form.department !== (user.department ?? '')) patch.department = form.department || null;
  } else if (user.role === 'department' && user.department) {
    // No longer a department user: no longer of a department either.
    patch.department = null;
  }
  if (form.password) patch.password = form.password;
  return patch;
}
