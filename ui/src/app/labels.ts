// How a report's progress reads to the inspector, from "draft" and "saved on the phone" to "case closed".
import type { FindingRow } from '../shared/types';
import { i18n } from '../shared/i18n';

export type TagType = 'primary' | 'success' | 'warning' | 'danger' | 'default';

export interface FindingStatus {
  /** Stable name of the step, for styling and tests. */
  key: string;
  text: string;
  type: TagType;
}

export function findingStatus(row: FindingRow): FindingStatus {
  const { t } = i18n.global;
  if (row.local_state === 'draft') return { key: 'draft', text: t('app.state.draft'), type: 'default' };
  if (row.local_state === 'queued') return { key: 'queued', text: t('app.state.queued'), type: 'warning' };
  if (row.local_state === 'rejected' || row.server_state === 'rejected') {
    const text = row.reason ? t('app.state.rejectedReason', { reason: row.reason }) : t('app.state.rejected');
    return { key: 'rejected', text, type: 'danger' };
  }
  if (row.server_state === 'merged') {
    return { key: 'merged', text: t('app.state.merged', { caseNo: row.case_no ?? '' }), type: 'primary' };
  }
  if (row.case_no && row.case_state) {
    const type: TagType = row.case_state === 'closed' ? 'success' : row.case_state === 'voided' ? 'default' : 'primary';
    return { key: row.case_state, text: t(`app.state.case.${row.case_state}`, { caseNo: row.case_no }), type };
  }
  return { key: 'received', text: t('app.state.received'), type: 'success' };
}

/** A case state in words (`app.caseState`); an unknown state as it is. */
export function caseStateLabel(state: string): string {
  const { t, te } = i18n.global;
  const key = `app.caseState.${state}`;
  return te(key) ? t(key) : state;
}
