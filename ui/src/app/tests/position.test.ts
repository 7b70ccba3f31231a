// Where the position comes from: the simulated source, then tauri-plugin-geolocation, then the webview.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { acquire, position, release, resetPositionSources } from '../position';
import { settle, type Call, type Handler } from './harness';

const HOLDER = 'test';

afterEach(() => {
  release(HOLDER);
  resetPositionSources();
  position.fix = null;
  position.problem = null;
  clearMocks();
});

/** mockIPC with the given answers; a command without one rejects, as an unregistered plugin's does. */
function fakeTauri(handlers: Record<string, Handler>): Call[] {
  const calls: Call[] = [];
  mockIPC((cmd, payload) => {
    const args = (payload ?? {}) as Record<string, unknown>;
    calls.push({ cmd, args });
    const handler = handlers[cmd];
    if (!handler) throw `plugin not found: ${cmd}`;
    return handler(args);
  });
  return calls;
}

/** A stand-in for the webview's navigator.geolocation that hands out fixes on demand. */
function fakeWebview() {
  let onFix: PositionCallback | null = null;
  const geolocation = {
    watchPosition: vi.fn((success: PositionCallback, _error?: PositionErrorCallback | null, _options?: PositionOptions) => {
      onFix = success;
      return 7;
    }),
    clearWatch: vi.fn(),
    getCurrentPosition: vi.fn(),
  };
  vi.spyOn(navigator, 'geolocation', 'get').mockReturnValue(geolocation as unknown as Geolocation);
  return {
    geolocation,
    send(lat: number, lon: number, accuracy: number, heading: number | null = null) {
      onFix?.({ coords: { latitude: lat, longitude: lon, accuracy, heading }, timestamp: Date.now() } as GeolocationPosition);
    },
  };
}

const pluginFix = (lat: number, lon: number, accuracy: number) => ({
  timestamp: Date.now(),
  coords: { latitude: lat, longitude: lon, accuracy, altitude: null, altitudeAccuracy: null, speed: null, heading: null },
});

const granted = () => ({ location: 'granted', coarseLocation: 'granted' });
const plugin = (cmd: string) => `plugin:geolocation|${cmd}`;

type Internals = { runCallback: (id: number, data: unknown) => void };
const internals = () => (window as unknown as { __TAURI_INTERNALS__: Internals }).__TAURI_INTERNALS__;

describe('position sources', () => {
  it('uses the simulated source when Rust has one, and nothing else', async () => {
    const webview = fakeWebview();
    const calls = fakeTauri({ simulated_location: () => ({ lat: 41.79, lon: 123.43, accuracy_m: 8, source: 'gps' }) });
    acquire(HOLDER);
    await settle();
    expect(position.provider).toBe('simulated');
    expect(position.fix).toMatchObject({ lat: 41.79, lon: 123.43, source: 'gps' });
    expect(calls.some((c) => c.cmd.startsWith('plugin:geolocation'))).toBe(false);
    expect(webview.geolocation.watchPosition).not.toHaveBeenCalled();
  });

  it('falls back to the webview when the plugin is absent, and does not ask the plugin again', async () => {
    const webview = fakeWebview();
    // No geolocation handlers: every plugin call rejects, as on desktop where it is not registered.
    const calls = fakeTauri({ simulated_location: () => null });
    acquire(HOLDER);
    await settle();
    expect(calls.map((c) => c.cmd)).toEqual(['simulated_location', plugin('check_permissions')]);
    expect(position.provider).toBe('webview');
    expect(webview.geolocation.watchPosition).toHaveBeenCalledTimes(1);
    expect(webview.geolocation.watchPosition.mock.calls[0][2]).toMatchObject({ enableHighAccuracy: true });

    webview.send(41.8, 123.4, 12);
    expect(position.fix).toMatchObject({ lat: 41.8, lon: 123.4, accuracy_m: 12, source: 'gps' });
    webview.send(41.8, 123.4, 900);
    expect(position.fix).toMatchObject({ accuracy_m: 900, source: 'network' });

    // The next watch goes straight to the webview.
    release(HOLDER);
    expect(webview.geolocation.clearWatch).toHaveBeenCalledWith(7);
    acquire(HOLDER);
    await settle();
    expect(calls.filter((c) => c.cmd.startsWith('plugin:geolocation'))).toHaveLength(1);
    expect(webview.geolocation.watchPosition).toHaveBeenCalledTimes(2);
  });

  it('falls back to the webview when watching through the plugin fails', async () => {
    const webview = fakeWebview();
    const calls = fakeTauri({
      simulated_location: () => null,
      [plugin('check_permissions')]: granted,
      [plugin('watch_position')]: () => {
        throw 'Location disabled.';
      },
    });
    acquire(HOLDER);
    await settle();
    expect(calls.map((c) => c.cmd)).toContain(plugin('watch_position'));
    expect(position.provider).toBe('webview');
    expect(webview.geolocation.watchPosition).toHaveBeenCalledTimes(1);
  });

  it('uses the plugin when it answers, with high accuracy, and stops its watch on release', async () => {
    const webview = fakeWebview();
    let channelId = -1;
    const calls = fakeTauri({
      simulated_location: () => null,
      [plugin('check_permissions')]: granted,
      [plugin('watch_position')]: (args) => {
        channelId = (args.channel as { id: number }).id;
        return null;
      },
      [plugin('get_current_position')]: () => pluginFix(41.7968, 123.4328, 9),
      [plugin('clear_watch')]: () => null,
    });
    acquire(HOLDER);
    await settle();
    expect(position.provider).toBe('plugin');
    expect(webview.geolocation.watchPosition).not.toHaveBeenCalled();
    expect(calls.find((c) => c.cmd === plugin('request_permissions'))).toBeUndefined();
    const watch = calls.find((c) => c.cmd === plugin('watch_position'));
    expect(watch?.args.options).toMatchObject({ enableHighAccuracy: true });
    // The first fix comes from getCurrentPosition…
    expect(position.fix).toMatchObject({ lat: 41.7968, lon: 123.4328, accuracy_m: 9, source: 'gps' });

    // …then the watch's updates; its errors are plain text.
    internals().runCallback(channelId, { index: 0, message: pluginFix(41.8, 123.44, 4) });
    await settle();
    expect(position.fix).toMatchObject({ lat: 41.8, lon: 123.44, accuracy_m: 4, source: 'gps' });
    internals().runCallback(channelId, { index: 1, message: 'Location unavailable.' });
    await settle();
    expect(position.problem).toBe('unavailable');

    release(HOLDER);
    await settle();
    expect(calls.find((c) => c.cmd === plugin('clear_watch'))?.args).toEqual({ channelId });
  });

  it('asks for permission, and uses the webview this time when it is refused', async () => {
    const webview = fakeWebview();
    const calls = fakeTauri({
      simulated_location: () => null,
      [plugin('check_permissions')]: () => ({ location: 'prompt', coarseLocation: 'prompt' }),
      [plugin('request_permissions')]: () => ({ location: 'denied', coarseLocation: 'denied' }),
    });
    acquire(HOLDER);
    await settle();
    expect(calls.find((c) => c.cmd === plugin('request_permissions'))?.args).toEqual({ permissions: ['location'] });
    expect(calls.find((c) => c.cmd === plugin('watch_position'))).toBeUndefined();
    expect(position.provider).toBe('webview');
    expect(webview.geolocation.watchPosition).toHaveBeenCalledTimes(1);

    // A refusal is not remembered: permission may be granted in the system settings meanwhile.
    release(HOLDER);
    acquire(HOLDER);
    await settle();
    expect(calls.filter((c) => c.cmd === plugin('check_permissions'))).toHaveLength(2);
  });
});

describe('heading', () => {
  it('takes the way the source reports, else the way I walked, and forgets it when watching stops', async () => {
    const webview = fakeWebview();
    fakeTauri({ simulated_location: () => null });
    acquire(HOLDER);
    await settle();
    webview.send(41.8, 123.4, 5);
    expect(position.heading).toBeNull();
    // A moving phone reports its course.
    webview.send(41.8, 123.4, 5, 450);
    expect(position.heading).toBe(90);
    // Standing still (no course, a step within the noise): the last heading stays.
    webview.send(41.80002, 123.4, 5, null);
    expect(position.heading).toBe(90);
    // No course reported, but 33 m walked due north.
    webview.send(41.8003, 123.4, 5, Number.NaN);
    expect(position.heading).toBeCloseTo(0, 0);
    // A step shorter than the fix's accuracy is noise, whatever its direction.
    webview.send(41.8001, 123.4, 40, null);
    expect(position.heading).toBeCloseTo(0, 0);
    release(HOLDER);
    expect(position.heading).toBeNull();
  });
});
