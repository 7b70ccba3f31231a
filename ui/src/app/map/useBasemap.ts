// The installed base map a screen draws under a place: the package covering it, else the first installed,
// else none (the dictionary's roads then). The list is read from Rust when the screen opens and on `reload`.
import { computed, onMounted, ref } from 'vue';
import type { Basemap } from '../../shared/types';
import * as ipc from '../ipc';
import { chooseBasemap } from './layers';

export function useBasemap(place: () => [number, number] | null) {
  const installed = ref<Basemap[]>([]);
  async function reload(): Promise<void> {
    installed.value = await ipc.basemapsInstalled().catch(() => []);
  }
  onMounted(reload);
  const basemap = computed(() => chooseBasemap(installed.value, place()));
  return { basemap, reload };
}
