// The one i18n instance of both apps. Rule: every user-visible string comes from the message files here.
import { createI18n } from 'vue-i18n';
import type { MessageSchema } from './schema';
import zhCN from './zh-CN';
import en from './en';

declare module 'vue-i18n' {
  // Lets editors complete message keys in `t(...)`. (vue-i18n still accepts any string there: a wrong key
  // shows up as a missing-message warning in the browser console, not as a type error.)
  export interface DefineLocaleMessage extends MessageSchema {}
}

export const LOCALES = ['zh-CN', 'en'] as const;
export type AppLocale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: AppLocale = 'zh-CN';

const STORAGE_KEY = 'tiejiaoban.locale';

function isAppLocale(value: unknown): value is AppLocale {
  return LOCALES.some((l) => l === value);
}

// Only an explicit earlier choice overrides the default: the browser's language is ignored on purpose,
// since the users are Chinese city staff whatever their device is set to.
function savedLocale(): AppLocale {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    return isAppLocale(saved) ? saved : DEFAULT_LOCALE;
  } catch {
    return DEFAULT_LOCALE;
  }
}

export const i18n = createI18n<[MessageSchema], AppLocale, false>({
  legacy: false,
  locale: savedLocale(),
  fallbackLocale: DEFAULT_LOCALE,
  messages: { 'zh-CN': zhCN, en },
});

document.documentElement.lang = i18n.global.locale.value;

export function currentLocale(): AppLocale {
  return i18n.global.locale.value;
}

export function setLocale(locale: AppLocale): void {
  i18n.global.locale.value = locale;
  document.documentElement.lang = locale;
  try {
    localStorage.setItem(STORAGE_KEY, locale);
  } catch {
    // Storage may be unavailable (private mode); the choice then lasts for this page only.
  }
}

/** Switches between the two languages. */
export function toggleLocale(): void {
  setLocale(currentLocale() === 'zh-CN' ? 'en' : 'zh-CN');
}
