// Storing the report: queuing it, keeping it as a draft, or deleting the draft it was opened from. Also
// loads the draft of /report?draft=<id> and asks before leaving when something would be lost.
import { computed, nextTick, onMounted, ref, type Ref } from 'vue';
import { useI18n } from 'vue-i18n';
import { onBeforeRouteLeave, useRoute, useRouter, type RouteLocationRaw } from 'vue-router';
import { showConfirmDialog, showSuccessToast, showToast } from 'vant';
import type { GpsFix, Location, ReportInput } from '../../../shared/types';
import { MAX_PHOTOS } from '../../../shared/limits';
import * as ipc from '../../ipc';
import { whileBusy } from '../../busy';
import { errorText } from '../../errors';
import { rememberCategory } from '../../categories';
import { refreshStatus } from '../../state';
import type { ReportForm } from './useReportForm';

export interface DraftPosition {
  /** The report's position as the screen shows it. */
  location: Readonly<Ref<Location | null>>;
  /** Set to the draft's saved position when a draft is loaded. */
  draftLocation: Ref<Location | null>;
  /** The phone's fix beside a pin placed by hand (sent with the report), and the draft's, set on loading. */
  gps: Readonly<Ref<GpsFix | null>>;
  draftGps: Ref<GpsFix | null>;
}

export function useDraft(form: ReportForm, { location, draftLocation, gps, draftGps }: DraftPosition) {
  const { t } = useI18n();
  const route = useRoute();
  const router = useRouter();

  /** The draft being edited: from the route, or the one a "save draft" made. */
  const draftId = ref<string | null>(typeof route.query.draft === 'string' && route.query.draft ? route.query.draft : null);
  /** Opened from a draft: leaving goes back to the drafts. */
  const editingDraft = draftId.value !== null;
  const loadingDraft = ref(editingDraft);
  const draftError = ref<string | null>(null);
  /** The fields as loaded, to tell whether leaving loses anything. */
  const loadedSnapshot = ref<string | null>(null);
  /** What is being written now: the report, the draft, or the draft's deletion. */
  const saving = ref<'report' | 'draft' | 'delete' | null>(null);
  const saved = ref(false);

  const snapshot = (): string => JSON.stringify({ ...form.fields(), location: location.value });

  const dirty = computed(() => {
    if (saved.value) return false;
    if (editingDraft) return loadedSnapshot.value !== null && snapshot() !== loadedSnapshot.value;
    return form.hasContent.value;
  });

  /** Where to go once the report or draft is stored: the drafts it came from, else home. */
  function exit(): RouteLocationRaw {
    return editingDraft ? { name: 'findings', query: { state: 'draft' } } : { name: 'home' };
  }

  /** Why the report cannot be queued (or, `asDraft`, saved as a draft) yet; null when it can. A draft needs
   * only a position and its photos finished. */
  function problem(asDraft = false): string | null {
    if (form.stagingBefore.value || form.stagingAfter.value) return t('app.report.waitPhotos');
    if (!asDraft && form.before.value.length === 0) return t('app.report.needPhoto');
    if (form.photoCount.value > MAX_PHOTOS) return t('app.photos.tooMany', { max: MAX_PHOTOS });
    if (!asDraft && !form.category.value) return t('app.report.needCategory');
    if (!location.value) return t('app.report.needLocation');
    return null;
  }

  async function save(): Promise<void> {
    if (saving.value) return;
    const why = problem();
    if (why) {
      showToast({ message: why, duration: 2500 });
      if (!form.category.value && form.before.value.length > 0) form.showPicker.value = true;
      return;
    }
    const input: ReportInput = { ...form.fields(), location: location.value!, gps: gps.value };
    await whileBusy(saving, 'report', async () => {
      if (draftId.value) await ipc.draftSubmit(draftId.value, input);
      else await ipc.report(input);
      saved.value = true;
      form.recent.value = rememberCategory(input.category);
      showSuccessToast({ message: t('app.report.saved'), duration: 1500 });
      void refreshStatus();
      await router.replace(exit());
    });
  }

  async function saveDraft(): Promise<void> {
    if (saving.value) return;
    const why = problem(true);
    if (why) {
      showToast({ message: why, duration: 2500 });
      return;
    }
    await whileBusy(saving, 'draft', async () => {
      draftId.value = await ipc.draftSave(draftId.value, { ...form.fields(), location: location.value!, gps: gps.value });
      saved.value = true;
      showSuccessToast({ message: t('app.report.draftSaved'), duration: 1500 });
      await router.replace(exit());
    });
  }

  async function deleteDraft(): Promise<void> {
    const id = draftId.value;
    if (!id || saving.value) return;
    try {
      await showConfirmDialog({
        message: t('app.report.deleteDraftConfirm'),
        confirmButtonText: t('app.report.deleteDraft'),
        confirmButtonColor: '#ee0a24',
      });
    } catch {
      return;
    }
    await whileBusy(saving, 'delete', async () => {
      await ipc.draftDelete(id);
      saved.value = true;
      showSuccessToast({ message: t('app.report.draftDeleted'), duration: 1500 });
      await router.replace(exit());
    });
  }

  async function loadDraft(id: string): Promise<void> {
    try {
      const { row, finding } = await ipc.finding(id);
      if (row.local_state !== 'draft') {
        // Submitted meanwhile (another screen, an older link): it can only be looked at now.
        saved.value = true;
        await router.replace({ name: 'finding', params: { id } });
        return;
      }
      form.fill(finding);
      draftLocation.value = finding.location;
      draftGps.value = finding.gps ?? null;
      // After the watchers (the road follows the position when the draft had none).
      await nextTick();
      loadedSnapshot.value = snapshot();
    } catch (e) {
      draftError.value = errorText(e);
    } finally {
      loadingDraft.value = false;
    }
  }

  onMounted(() => {
    if (draftId.value) void loadDraft(draftId.value);
  });

  onBeforeRouteLeave(async () => {
    if (!dirty.value) return true;
    try {
      await showConfirmDialog({ message: t(editingDraft ? 'app.report.discardDraftConfirm' : 'app.report.discardConfirm') });
      return true;
    } catch {
      return false;
    }
  });

  return { draftId, editingDraft, loadingDraft, draftError, saving, save, saveDraft, deleteDraft };
}
