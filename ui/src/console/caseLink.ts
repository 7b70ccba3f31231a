// A case named in the page's URL (`#/department?case=NO`: the link in a group robot's message, or one a
// colleague sent) opens in the page's case drawer; closing the drawer takes it off the URL, so that a
// reload or the back button does not open it again.
import { watch, type Ref } from 'vue';
import { useRoute, useRouter } from 'vue-router';

export function useCaseLink(openCaseNo: Ref<string | null>): void {
  const route = useRoute();
  const router = useRouter();
  watch(
    () => route.query.case,
    (no) => {
      if (typeof no === 'string' && no.trim() !== '') openCaseNo.value = no.trim();
    },
    { immediate: true },
  );
  watch(openCaseNo, (no) => {
    if (no !== null || route.query.case === undefined) return;
    const query = { ...route.query };
    delete query.case;
    void router.replace({ query });
  });
}
