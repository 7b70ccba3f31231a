// DOM helpers shared by the phone app's and the console's component tests.
import { flushPromises } from '@vue/test-utils';

/** Lets pending promises, Vue's scheduler and zero-delay timers (Vant's and Element Plus's transitions) run. */
export async function settle(rounds = 4): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await flushPromises();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

/** The elements with `data-testid="id"` under `root`, in document order. */
export function byTestId<T extends Element = HTMLElement>(id: string, root: ParentNode = document): T[] {
  return Array.from(root.querySelectorAll<T>(`[data-testid="${id}"]`));
}
