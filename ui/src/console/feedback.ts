// Turning failures into messages the user can act on. Server messages are shown as they come (they are
// data, not UI text); everything the console says itself goes through i18n.
import { ElMessage } from 'element-plus';
import { i18n } from '../shared/i18n';
import { describeError } from '../shared/errors';
import { ApiError } from './api';

export function errorText(error: unknown): string {
  const t = i18n.global.t;
  if (error instanceof ApiError) {
    if (error.status === 403) return t('console.errors.forbidden', { detail: error.serverMessage ?? '' });
    if (error.status === 404 && error.code === 'not_found' && error.serverMessage === 'no such endpoint') {
      return t('console.errors.notAvailable');
    }
    if (error.status === 409 && error.code === 'invalid_transition') {
      return t('console.errors.invalidTransition', { detail: error.serverMessage ?? '' });
    }
    return error.serverMessage ?? t('console.errors.http', { status: error.status });
  }
  return t('console.errors.network', { detail: describeError(error) });
}

/** Shows a failure as a toast; 401 needs none, the sign-in page says the session ended. */
export function notifyError(error: unknown): void {
  if (error instanceof ApiError && error.status === 401) return;
  ElMessage({ type: 'error', message: errorText(error), showClose: true, duration: 6000 });
}

export function notifySuccess(message: string): void {
  ElMessage({ type: 'success', message, duration: 2500 });
}

/** Something the user should do by hand, since the console could not (a copy the browser refused). */
export function notifyWarning(message: string): void {
  ElMessage({ type: 'warning', message, showClose: true, duration: 6000 });
}
