// The console's tests against a fake sync server: `fetch` answers from a table of routes, and every call is
// recorded so a test can check what the console sent.
import { mount } from '@vue/test-utils';
import { vi } from 'vitest';
import type { Component } from 'vue';
import type { Router } from 'vue-router';
import { i18n } from '../../shared/i18n';
import { byTestId, settle } from '../../shared/testing/dom';
import type { UserInfo } from '../../shared/types';
import { endSession, startSession } from '../session';

export interface Call {
  method: string;
  /** Path and query, e.g. /api/v1/teams */
  path: string;
  auth: string | null;
  contentType: string | null;
  body: unknown;
}

/** Answers `METHOD /path?query`; the request body, parsed as JSON when it is. */
export type Route = (body: unknown) => Response;

export function answer(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

/** Replaces `fetch` (restored after the test by `restoreMocks`); an unknown route answers 404. */
export function fakeServer(routes: Record<string, Route>): { calls: Call[] } {
  const calls: Call[] = [];
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), 'http://console.test');
    const method = init?.method ?? 'GET';
    const headers = new Headers(init?.headers);
    let body: unknown = init?.body ?? null;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        // Not JSON: kept as sent.
      }
    }
    const path = url.pathname + url.search;
    calls.push({ method, path, auth: headers.get('Authorization'), contentType: headers.get('Content-Type'), body });
    const route = routes[`${method} ${path}`];
    return route ? route(body) : answer(404, { error: { code: 'not_found', message: 'no such endpoint' } });
  });
  return { calls };
}

export function signedInAs(role: UserInfo['role'], team: string | null = null): void {
  startSession({ token: 'tok', user: { id: `id-${role}`, username: role === 'admin' ? 'admin' : `${role}1`, display_name: role, role, team } });
}

export function signOut(): void {
  endSession();
}

/**
 * Mounts a component with the console's i18n, attached to the document (dialogs teleport to its body);
 * `stubs` replaces child components by name (the Leaflet map, which needs a real canvas); `router` is
 * installed for a page that reads its URL.
 */
export async function mountConsole(
  component: Component,
  props: Record<string, unknown> = {},
  stubs: Record<string, boolean> = {},
  router?: Router,
) {
  const plugins = router ? [i18n, router] : [i18n];
  const wrapper = mount(component, { props, attachTo: document.body, global: { plugins, stubs } });
  await settle();
  return wrapper;
}

export { byTestId, settle };

/** Types into an input the way a user does (Vue listens for `input`). */
export function type(input: HTMLInputElement | HTMLTextAreaElement, value: string): void {
  input.value = value;
  input.dispatchEvent(new Event('input'));
}
