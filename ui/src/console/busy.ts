// A flag that is true while some work runs (a page loading, a dialog sending), the work's failure shown as
// a toast unless the caller handles it itself.
import { ref, type Ref } from 'vue';
import { notifyError } from './feedback';

export interface Busy {
  busy: Ref<boolean>;
  /** Runs `work` with `busy` set; a failure goes to `onError` (by default a toast). */
  run: (work: () => Promise<void>, onError?: (error: unknown) => void) => Promise<void>;
}

export function useBusy(): Busy {
  const busy = ref(false);
  async function run(work: () => Promise<void>, onError: (error: unknown) => void = notifyError): Promise<void> {
    busy.value = true;
    try {
      await work();
    } catch (e) {
      onError(e);
    } finally {
      busy.value = false;
    }
  }
  return { busy, run };
}

/** A page's `loading` flag and its `load`, which runs `work` with the flag set (a failure is a toast). */
export function useLoader(work: () => Promise<void>): { loading: Ref<boolean>; load: () => Promise<void> } {
  const { busy, run } = useBusy();
  return { loading: busy, load: () => run(work) };
}
