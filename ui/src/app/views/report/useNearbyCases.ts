// Open cases near the report's position, shown as possible duplicates. Asked again only after the
// position has moved some way, so a jittering GPS does not query on every fix.
import { computed, ref, watch, type Ref } from 'vue';
import { useI18n } from 'vue-i18n';
import type { Location, NearbyCase } from '../../../shared/types';
import { distanceMetres } from '../../../shared/geo';
import * as ipc from '../../ipc';
import { categoryLabel } from '../../categories';
import { app } from '../../state';

/**
 * Open cases closer than this (metres) are shown as possible duplicates. A choice of the app, not a
 * protocol limit; the `nearby_cases` command (src-tauri/src/commands.rs) defaults to the same radius.
 */
export const NEARBY_RADIUS_M = 50;
/** Ask again for nearby cases only after moving this far (metres). */
const NEARBY_REQUERY_M = 20;

export function useNearbyCases(location: Readonly<Ref<Location | null>>) {
  const { t, locale } = useI18n();
  const nearby = ref<NearbyCase[]>([]);
  let nearbyAt: [number, number] | null = null;

  watch(
    location,
    (loc) => {
      if (!loc) return;
      const here: [number, number] = [loc.lat, loc.lon];
      if (nearbyAt && distanceMetres(nearbyAt, here) < NEARBY_REQUERY_M) return;
      nearbyAt = here;
      ipc
        .nearbyCases(loc.lat, loc.lon, NEARBY_RADIUS_M)
        .then((cases) => (nearby.value = cases))
        .catch(() => (nearby.value = []));
    },
    { immediate: true },
  );

  /** The warning under the nav bar, its radius and cases filled in. */
  const nearbyNotice = computed(() =>
    t('app.report.nearby', {
      m: NEARBY_RADIUS_M,
      cases: nearby.value
        .map((c) =>
          t('app.report.nearbyItem', {
            caseNo: c.case_no,
            category: categoryLabel(app.dictionary, c.category, locale.value),
            distance: Math.round(c.distance_m),
          }),
        )
        .join('；'),
    }),
  );

  return { nearby, nearbyNotice };
}
