// Waiting on a real condition, for the console's browser tests and the app's end-to-end tests alike.

/**
 * Polls `probe` until it returns a truthy value (which is returned). Each probe is a real query (a file, the
 * API, an element); the pause between probes only spaces them out, it never decides when the wait ends. Fails
 * with the last value seen (or error thrown) after `timeout` ms.
 */
export async function until(probe, { timeout = 15_000, interval = 100, message = 'a condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const seen = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeout} ms waiting for ${message} (last seen: ${seen})`);
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
