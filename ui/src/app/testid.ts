// Vant's Field and Search put unknown attributes on their wrapper, but an end-to-end test wants to type into
// the <input>/<textarea> itself (Playwright's `fill` refuses a <div>). `v-input-testid="'name'"` puts the
// `data-testid` on the inner control.
import type { Directive } from 'vue';

function apply(el: HTMLElement, id: string): void {
  const control = el.matches('input, textarea') ? el : el.querySelector('input, textarea');
  control?.setAttribute('data-testid', id);
}

export const vInputTestid: Directive<HTMLElement, string> = {
  mounted: (el, binding) => apply(el, binding.value),
  updated: (el, binding) => apply(el, binding.value),
};
