// Where the report is: the inspector's manual pin, else the draft's saved position, else the GPS fix. The
// position is watched while the report screen is open.
import { computed, onMounted, onUnmounted, ref } from 'vue';
import { useI18n } from 'vue-i18n';
import { showFailToast } from 'vant';
import type { GpsFix, Location } from '../../../shared/types';
import { formatCoordinate } from '../../format';
import { acquire, isFresh, position, POOR_ACCURACY_M, release } from '../../position';

export function useReportPosition() {
  const { t } = useI18n();

  /** Where the draft was saved; it stands for the finding's place until a manual pin or "use GPS". */
  const draftLocation = ref<Location | null>(null);
  const manual = ref<Location | null>(null);
  const showManual = ref(false);
  const manualLat = ref('');
  const manualLon = ref('');

  /** The phone's fix kept with a draft placed by hand. */
  const draftGps = ref<GpsFix | null>(null);

  const location = computed<Location | null>(() => manual.value ?? draftLocation.value ?? position.fix);
  /**
   * The phone's own fix, sent beside a pin placed by hand so that both are on record: the fix at hand when
   * the pin is set, the draft's when the draft's pin stands, none when the report is at the GPS position.
   */
  const gps = computed<GpsFix | null>(() => {
    if (!manual.value) return location.value?.source === 'manual' ? draftGps.value : null;
    const fix = position.fix;
    if (!fix || fix.source === 'manual') return null;
    return { lat: fix.lat, lon: fix.lon, accuracy_m: fix.accuracy_m, fixed_at: fix.fixed_at };
  });
  const fromDraft = computed(() => !manual.value && !!draftLocation.value);
  // The last fix is kept when the GPS goes quiet (tunnels, arcades): say so rather than pretend it is current.
  // (A draft's position is old on purpose: it is where the problem was seen.)
  const stale = computed(
    () => !!location.value && location.value.source !== 'manual' && !fromDraft.value && !isFresh(location.value),
  );
  const poorAccuracy = computed(
    () => !!location.value && location.value.source !== 'manual' && location.value.accuracy_m > POOR_ACCURACY_M,
  );

  onMounted(() => acquire('report'));
  onUnmounted(() => release('report'));

  /** The pin the map shows while placing by hand: the typed coordinates when they are valid. */
  const pinAt = computed<[number, number] | null>(() => {
    const lat = Number(manualLat.value);
    const lon = Number(manualLon.value);
    if (!manualLat.value.trim() || !manualLon.value.trim() || !(Math.abs(lat) <= 90) || !(Math.abs(lon) <= 180)) {
      return null;
    }
    return [lat, lon];
  });

  /** The pin dragged or tapped on the map (WGS-84): it fills the coordinates. */
  function placePin(lat: number, lon: number): void {
    manualLat.value = formatCoordinate(lat);
    manualLon.value = formatCoordinate(lon);
  }

  function openManual(): void {
    const current = location.value;
    manualLat.value = current ? formatCoordinate(current.lat) : '';
    manualLon.value = current ? formatCoordinate(current.lon) : '';
    showManual.value = true;
  }

  function applyManual(): void {
    const lat = Number(manualLat.value);
    const lon = Number(manualLon.value);
    if (!manualLat.value.trim() || !manualLon.value.trim() || !(Math.abs(lat) <= 90) || !(Math.abs(lon) <= 180)) {
      showFailToast(t('app.position.invalidManual'));
      return;
    }
    manual.value = { lat, lon, accuracy_m: 0, source: 'manual', fixed_at: new Date().toISOString() };
    showManual.value = false;
  }

  /** Back to the GPS: drops the manual pin and the draft's position. */
  function clearManual(): void {
    manual.value = null;
    draftLocation.value = null;
    draftGps.value = null;
    showManual.value = false;
  }

  return {
    draftLocation,
    draftGps,
    gps,
    manual,
    showManual,
    manualLat,
    manualLon,
    location,
    fromDraft,
    stale,
    poorAccuracy,
    pinAt,
    placePin,
    openManual,
    applyManual,
    clearManual,
  };
}
