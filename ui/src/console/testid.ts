// Test ids for Element Plus components that do not pass attributes on to their fields: the date pickers
// hand theirs to a popper that is rendered only once opened, so a `data-testid` written on
// `<el-date-picker>` lands nowhere a test can find before it opens the panel. Written on a wrapping
// element, `v-testid-in="[selector, id]"` puts the id on the first element inside that matches `selector`
// (the picker's `<input>`, or the box of a range picker).
import type { Directive } from 'vue';

type Binding = [selector: string, testid: string];

function apply(el: HTMLElement, [selector, testid]: Binding): void {
  const target = el.querySelector(selector);
  if (target && target.getAttribute('data-testid') !== testid) target.setAttribute('data-testid', testid);
}

export const vTestidIn: Directive<HTMLElement, Binding> = {
  mounted: (el, binding) => apply(el, binding.value),
  updated: (el, binding) => apply(el, binding.value),
};
