// The category dictionary as the report page needs it: names in the current language, big classes, search,
// and the inspector's recently used categories (kept on the phone in localStorage).
import type { Dictionary, DictionaryCategory } from '../shared/types';

export interface CategoryClass {
  code: string;
  name: string;
  name_en: string;
}

const RECENT_KEY = 'tiejiaoban.recentCategories';
export const RECENT_MAX = 8;

export function localName(item: { name: string; name_en: string }, locale: string): string {
  return locale === 'en' && item.name_en ? item.name_en : item.name;
}

export function findCategory(dict: Dictionary | null, code: string): DictionaryCategory | undefined {
  return dict?.categories.find((c) => c.code === code);
}

/** "上水井盖" for a known code, the code itself for one the dictionary no longer has. */
export function categoryLabel(dict: Dictionary | null, code: string, locale: string): string {
  const category = findCategory(dict, code);
  return category ? localName(category, locale) : code;
}

/** The big class (大类) a category belongs to: its parent, else the first three characters of its code (C0101 → C01). */
export function classCode(category: DictionaryCategory): string {
  return category.parent || category.code.slice(0, 3);
}

/**
 * The big classes in dictionary order. An older dictionary without `classes` still groups by the
 * categories' parent codes, named by the code.
 */
export function classesOf(dict: Dictionary | null): CategoryClass[] {
  if (!dict) return [];
  if (dict.classes && dict.classes.length > 0) return dict.classes;
  const seen: CategoryClass[] = [];
  for (const category of dict.categories) {
    const code = classCode(category);
    if (!seen.some((c) => c.code === code)) {
      seen.push({ code, name: code, name_en: code });
    }
  }
  return seen;
}

/** Categories whose code, Chinese or English name contains the query (case-insensitive). */
export function searchCategories(dict: Dictionary | null, query: string): DictionaryCategory[] {
  const q = query.trim().toLowerCase();
  if (!dict || !q) return [];
  return dict.categories.filter(
    (c) => c.code.toLowerCase().includes(q) || c.name.includes(q) || c.name_en.toLowerCase().includes(q),
  );
}

export function recentCategories(): string[] {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(RECENT_KEY) ?? '[]');
    return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string').slice(0, RECENT_MAX) : [];
  } catch {
    return [];
  }
}

/** Moves `code` to the front of the recent list. */
export function rememberCategory(code: string): string[] {
  const list = [code, ...recentCategories().filter((c) => c !== code)].slice(0, RECENT_MAX);
  try {
    localStorage.setItem(RECENT_KEY, JSON.stringify(list));
  } catch {
    // Storage unavailable: the list lasts for this run only.
  }
  return list;
}
