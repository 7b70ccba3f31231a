// Names of the server's enumerations in the user's language; a value newer than this build is shown as the
// server sends it.
import { i18n } from '../shared/i18n';
import type { CaseState, FindingState } from '../shared/types';

/** The states of a finding and of a case, in the order of their life (the server's `FindingState`, `CaseState`). */
export const FINDING_STATES: FindingState[] = ['pending_review', 'filed', 'merged', 'rejected'];
export const CASE_STATES: CaseState[] = ['filed', 'dispatched', 'accepted', 'handled', 'closed', 'suspended', 'voided'];

function label(prefix: string, value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  const key = `${prefix}.${value}`;
  return i18n.global.te(key) ? i18n.global.t(key) : value;
}

export const roleLabel = (role: string | null | undefined) => label('roles', role);
export const findingStateLabel = (state: string | null | undefined) => label('console.findingState', state);
export const caseStateLabel = (state: string | null | undefined) => label('console.caseState', state);
export const actionLabel = (action: string | null | undefined) => label('console.caseAction', action);
export const taskStateLabel = (state: string | null | undefined) => label('console.taskState', state);
export const webhookEventLabel = (event: string | null | undefined) => label('console.integrations.events', event);
export const webhookFormatLabel = (format: string | null | undefined) => label('console.integrations.formats', format);
export const deliveryStateLabel = (state: string | null | undefined) => label('console.integrations.deliveryStates', state);
export const exportStateLabel = (state: string | null | undefined) => label('console.exports.states', state);
export const exportKindLabel = (kind: string | null | undefined) => label('console.exports.kinds', kind);
export const exportFormatLabel = (format: string | null | undefined) => label('console.exports.formats', format);

/** Element Plus tag colour of a case state. */
export function caseStateType(state: string): 'primary' | 'success' | 'info' | 'warning' | 'danger' {
  switch (state) {
    case 'filed':
      return 'warning';
    case 'dispatched':
    case 'accepted':
      return 'primary';
    case 'handled':
    case 'closed':
      return 'success';
    case 'voided':
      return 'info';
    default:
      return 'danger';
  }
}

export function findingStateType(state: string): 'primary' | 'success' | 'info' | 'warning' | 'danger' {
  switch (state) {
    case 'pending_review':
      return 'warning';
    case 'filed':
      return 'success';
    case 'merged':
      return 'primary';
    case 'rejected':
      return 'info';
    default:
      return 'danger';
  }
}

/** Element Plus tag colour of a verification task's state. */
export function taskStateType(state: string): 'primary' | 'success' | 'info' | 'warning' | 'danger' {
  switch (state) {
    case 'open':
      return 'warning';
    case 'passed':
    case 'confirmed':
    case 'done':
      return 'success';
    case 'failed':
      return 'danger';
    default:
      return 'info';
  }
}

/** Element Plus tag colour of a webhook delivery's state. */
export function deliveryStateType(state: string): 'primary' | 'success' | 'info' | 'warning' | 'danger' {
  switch (state) {
    case 'pending':
      return 'warning';
    case 'delivered':
      return 'success';
    case 'failed':
      return 'danger';
    default:
      return 'info';
  }
}

/** Element Plus tag colour of an export's state. */
export function exportStateType(state: string): 'primary' | 'success' | 'info' | 'warning' | 'danger' {
  switch (state) {
    case 'running':
      return 'primary';
    case 'done':
      return 'success';
    case 'failed':
      return 'danger';
    default:
      return 'info';
  }
}
