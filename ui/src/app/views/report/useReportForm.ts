// The report's own fields: photos, category, description, flags, facility, address and road. The road
// follows the position (the dictionary's road within reach, as Rust finds it) until the inspector edits it;
// the unit grid (单元网格) always follows it (the device and the server place the report by the same rule).
import { computed, ref, watch, type Ref } from 'vue';
import { useI18n } from 'vue-i18n';
import type { FindingDetail, Location, PhotoRef, PhotoRole, PlaceAt, ReportInput, StagedPhoto } from '../../../shared/types';
import { MAX_PHOTOS } from '../../../shared/limits';
import { placeAt, type PhotoStamp } from '../../ipc';
import { findCategory, recentCategories } from '../../categories';
import { app } from '../../state';

export const PHRASES = ['garbage', 'stall', 'manhole', 'ads', 'parking', 'road', 'cables', 'dumped'] as const;
export type Phrase = (typeof PHRASES)[number];

function stagedOf(photos: PhotoRef[], role: PhotoRole): StagedPhoto[] {
  return photos
    .filter((p) => p.role === role)
    .map(({ sha256, width, height, bytes, taken_at }) => ({ sha256, width, height, bytes, taken_at }));
}

export function useReportForm(location: Readonly<Ref<Location | null>>) {
  const { t } = useI18n();

  const before = ref<StagedPhoto[]>([]);
  const after = ref<StagedPhoto[]>([]);
  const stagingBefore = ref(false);
  const stagingAfter = ref(false);
  const category = ref<string | null>(null);
  const showPicker = ref(false);
  const recent = ref<string[]>(recentCategories());
  const description = ref('');
  const urgent = ref(false);
  const urgentTouched = ref(false);
  const fixedOnSpot = ref(false);
  const facilityCode = ref('');
  const address = ref('');
  const road = ref('');
  const roadTouched = ref(false);

  /** The grid the report will carry, with its name: display only. */
  const grid = ref<Pick<PlaceAt, 'grid' | 'grid_name'> | null>(null);

  // Rust answers from the dictionary the phone holds, by the rules it applies to a report sent without a
  // road, and to every report's grid; an answer for a position the form has since left is dropped.
  let placeAsked = 0;
  watch(
    location,
    async (loc) => {
      if (!loc) return;
      const asked = ++placeAsked;
      const place = await placeAt(loc.lat, loc.lon).catch(() => null);
      if (asked !== placeAsked) return;
      grid.value = place?.grid ? { grid: place.grid, grid_name: place.grid_name } : null;
      if (!roadTouched.value) road.value = place?.road ?? '';
    },
    { immediate: true },
  );

  const selectedCategory = computed(() => (category.value ? findCategory(app.dictionary, category.value) : undefined));

  function selectCategory(code: string): void {
    category.value = code;
    // Urgent categories (manhole covers, bursts) default to urgent, unless the inspector already decided.
    if (!urgentTouched.value) urgent.value = findCategory(app.dictionary, code)?.urgent ?? false;
  }

  function onUrgent(value: boolean): void {
    urgent.value = value;
    urgentTouched.value = true;
  }

  function addPhrase(key: Phrase): void {
    const phrase = t(`app.report.phrases.${key}`);
    const text = description.value.trim();
    if (text.includes(phrase)) return;
    description.value = text ? `${text}${/[，。,.;；!！]$/.test(text) ? '' : t('app.report.phraseSeparator')}${phrase}` : phrase;
  }

  const photoCount = computed(() => before.value.length + (fixedOnSpot.value ? after.value.length : 0));
  /** Room left for "before" photos, and for "after" photos, under the protocol's cap for both together. */
  const maxBefore = computed(() => MAX_PHOTOS - (fixedOnSpot.value ? after.value.length : 0));
  const maxAfter = computed(() => MAX_PHOTOS - before.value.length);

  /**
   * What the photos taken now are stamped with: the report's position and its place (the address, else the
   * road, as the patrol CLI stamps). None while no position is known: the photo then shows the time only.
   */
  const stamp = computed<PhotoStamp | null>(() => {
    const loc = location.value;
    if (!loc) return null;
    return { lat: loc.lat, lon: loc.lon, accuracy_m: loc.accuracy_m, place: address.value.trim() || road.value.trim() || null };
  });

  /** Everything but the position, as the commands take it; a draft may have no category and no photos. */
  function fields(): Omit<ReportInput, 'location'> {
    return {
      category: category.value ?? '',
      description: description.value.trim(),
      urgent: urgent.value,
      fixed_on_spot: fixedOnSpot.value,
      address: address.value.trim() || null,
      road: road.value.trim() || null,
      facility_code: facilityCode.value.trim() || null,
      photos: [
        ...before.value.map((p) => ({ sha256: p.sha256, role: 'before' as const })),
        ...(fixedOnSpot.value ? after.value.map((p) => ({ sha256: p.sha256, role: 'after' as const })) : []),
      ],
    };
  }

  /** Fills the fields from a saved draft (its position is the caller's). */
  function fill(finding: FindingDetail['finding']): void {
    before.value = stagedOf(finding.photos, 'before');
    after.value = stagedOf(finding.photos, 'after');
    category.value = finding.category || null;
    description.value = finding.description;
    urgent.value = finding.urgent;
    urgentTouched.value = true;
    fixedOnSpot.value = finding.fixed_on_spot;
    facilityCode.value = finding.facility_code ?? '';
    address.value = finding.address ?? '';
    road.value = finding.road ?? '';
    roadTouched.value = finding.road !== null;
  }

  /** Whether a new report holds anything leaving would lose. */
  const hasContent = computed(() => before.value.length > 0 || after.value.length > 0 || !!description.value.trim());

  return {
    before,
    after,
    stagingBefore,
    stagingAfter,
    category,
    showPicker,
    recent,
    description,
    urgent,
    fixedOnSpot,
    facilityCode,
    address,
    road,
    roadTouched,
    grid,
    selectedCategory,
    selectCategory,
    onUrgent,
    addPhrase,
    photoCount,
    maxBefore,
    maxAfter,
    stamp,
    fields,
    fill,
    hasContent,
  };
}

export type ReportForm = ReturnType<typeof useReportForm>;
