import { ref, watch, type Ref } from 'vue';
import { ApiError, refusedField } from './api';
import { errorText, notifyError } from './feedback';

/**
 * A form's refusals, by field: a 422 that names one of `fields` (the server's name mapped by `toField`, e.g.
 * `events[1]` → `events`) is shown under that field, anything else as a toast; a field's refusal goes once the
 * field is changed. Pair it with the `field-errors.css` stylesheet.
 */
export function useFieldErrors<F extends string>(
  fields: readonly F[],
  value: (field: F) => unknown,
  toField: (named: string) => string = (named) => named,
) {
  const errors = ref({}) as Ref<Partial<Record<F, string>>>;
  for (const field of fields) {
    watch(
      () => value(field),
      () => {
        if (errors.value[field]) errors.value = { ...errors.value, [field]: undefined };
      },
    );
  }

  function showRefusal(e: unknown): void {
    const named = refusedField(e);
    const field = named === null ? null : toField(named);
    const shown = fields.find((f) => f === field);
    if (e instanceof ApiError && e.status === 422 && shown !== undefined) {
      errors.value = { [shown]: errorText(e) } as Partial<Record<F, string>>;
    } else {
      notifyError(e);
    }
  }

  function clearErrors(): void {
    errors.value = {};
  }

  return { errors, showRefusal, clearErrors };
}
