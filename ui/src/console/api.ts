// Calls to the sync server's API. The console is served by that same server, so paths are absolute.
import type { ApiErrorBody, SessionRequest, SessionResponse } from '../shared/types';

/** A non-success answer of the server. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | null,
    /** The server's own message, when the answer had the contract's error body. */
    readonly serverMessage: string | null,
  ) {
    super(serverMessage ?? `HTTP ${status}`);
    this.name = 'ApiError';
  }
}

function isApiErrorBody(body: unknown): body is ApiErrorBody {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false;
  const error = (body as { error: unknown }).error;
  return typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string';
}

async function readJson(response: Response): Promise<unknown> {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

/** Signs in to the console. Throws `ApiError` for an answer other than 201, and fetch's error offline. */
export async function signIn(request: SessionRequest): Promise<SessionResponse> {
  const response = await fetch('/api/v1/sessions', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(request),
  });
  const body = await readJson(response);
  if (response.status === 201 && body !== null) return body as SessionResponse;
  if (isApiErrorBody(body)) throw new ApiError(response.status, body.error.code, body.error.message);
  throw new ApiError(response.status, null, null);
}
