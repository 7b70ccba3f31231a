// Writing something on the phone from a screen: which button spins meanwhile, and a failure shown as a toast
// long enough to read.
import type { Ref } from 'vue';
import { showFailToast } from 'vant';
import { errorText } from './errors';

export function showError(error: unknown): void {
  showFailToast({ message: errorText(error), duration: 4000 });
}

/** Runs `work` with `flag` set to `value` (the button that spins); a failure is a toast; then `flag` is null. */
export async function whileBusy<T>(flag: Ref<T | null>, value: T, work: () => Promise<void>): Promise<void> {
  flag.value = value;
  try {
    await work();
  } catch (e) {
    showError(e);
  } finally {
    flag.value = null;
  }
}
