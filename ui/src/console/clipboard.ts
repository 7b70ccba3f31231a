// Copying a text for the user. The Clipboard API is there only in a secure context (HTTPS, or localhost);
// the console is often served over plain HTTP on the office network, where the older `execCommand('copy')`
// on a selected text still works.

/** Copies `text`; false when the browser would not (the user can still select it by hand). */
export async function copyText(text: string): Promise<boolean> {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Denied (no user gesture, a policy): try the old way.
    }
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.appendChild(area);
  area.select();
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  } finally {
    area.remove();
  }
}
