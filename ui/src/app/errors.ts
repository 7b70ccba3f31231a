// What to show for a failed Tauri command: a translated text for the codes the inspector can act on,
// otherwise the message Rust gave (already readable, often Chinese).
import { i18n } from '../shared/i18n';
import { describeError } from '../shared/errors';
import { isIpcError } from './ipc';

/** Error codes with their own text in `app.errors`. */
const KNOWN_CODES = [
  'unsupported_format',
  'offline',
  'unreachable',
  'unauthorized',
  'device_revoked',
  'not_registered',
  'invalid_credentials',
  'disk_full',
  'no_space',
  'needs_wifi',
  'totp_required',
] as const;
type KnownCode = (typeof KNOWN_CODES)[number];

function isKnownCode(code: string): code is KnownCode {
  return KNOWN_CODES.some((known) => known === code);
}

export function errorText(error: unknown): string {
  const { t } = i18n.global;
  if (isIpcError(error)) {
    if (isKnownCode(error.code)) return t(`app.errors.${error.code}`, { detail: error.message });
    return error.message || error.code;
  }
  return describeError(error);
}
