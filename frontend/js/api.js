// The Albums API client. Every call carries the raw Cognito ID token in Authorization (no "Bearer"); an expired
// token is refreshed by auth.idToken(), and a 401 is retried once with a forced refresh before giving up.
// Errors arrive as {"error": {"code", "message", "fields", "current"}} and are thrown as ApiError. Every call gives
// up after TIMEOUT_MS (ApiError code "timeout") so a page never waits forever; a caller may also abort it (signal).
import { config } from './app-config.js';
import { NotSignedInError, idToken, refreshedIdToken } from './auth.js';

export class ApiError extends Error {
  constructor(status, { code = 'unknown', message = '', fields = null, current = null, requestId = null } = {}) {
    super(message || `The albums API answered ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fields = fields || {};
    this.current = current;
    // On a 5xx: the function's request id, also in its log line (shown as "Reference: …" so it can be found).
    this.requestId = requestId;
  }
}

function routeUrl(path, query) {
  const url = new URL(`${config.apiUrl}${path}`);
  for (const [key, value] of Object.entries(query || {})) {
    if (value != null && value !== '') url.searchParams.set(key, String(value));
  }
  return url;
}

export const TIMEOUT_MS = 10000;

/** A signal that fires on the caller's abort or after TIMEOUT_MS, whichever comes first. */
function deadline(signal) {
  const timeout = AbortSignal.timeout(TIMEOUT_MS);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}

async function send(method, url, body, token, signal) {
  const headers = { Authorization: token };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const limit = deadline(signal);
  try {
    return await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: limit,
    });
  } catch (err) {
    if (signal?.aborted) throw err; // the caller moved on (e.g. a newer search): not an error to show
    if (limit.aborted) throw new ApiError(0, { code: 'timeout', message: MESSAGES.timeout });
    throw new ApiError(0, { code: 'network', message: MESSAGES.network });
  }
}

async function errorFrom(response) {
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    // Not JSON (e.g. a gateway page): fall through to a status-based error.
  }
  const error = payload && typeof payload.error === 'object' && payload.error ? payload.error : {};
  return new ApiError(response.status, error);
}

// 429 (throttled) and 503 (busy: the local stack queues API calls and turns away what waited too long) mean the
// call did not run, so any method may be sent again: a few times, after the server's Retry-After (capped), with
// some jitter so a burst of clients does not come back in step. Other 5xx are not retried (a write may have run).
const RETRIED_STATUSES = new Set([429, 503]);
const MAX_RETRIES = 3;
const MAX_RETRY_WAIT_MS = 5000;

function retryWaitMs(response, attempt) {
  const seconds = Number(response.headers.get('Retry-After'));
  const base = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 500 * 2 ** attempt;
  return Math.min(base, MAX_RETRY_WAIT_MS) * (0.75 + Math.random() / 2);
}

async function sendWithRetries(method, url, body, token, signal) {
  let response = await send(method, url, body, token, signal);
  for (let attempt = 0; attempt < MAX_RETRIES && RETRIED_STATUSES.has(response.status); attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, retryWaitMs(response, attempt)));
    response = await send(method, url, body, token, signal);
  }
  return response;
}

/** One call of a route of the API (template.yaml's Routes), e.g. request('GET', '/album', { query: { rank: 1 } }). */
async function request(method, path, { query, body, signal } = {}) {
  const url = routeUrl(path, query);
  let response = await sendWithRetries(method, url, body, await idToken(), signal);
  if (response.status === 401) response = await send(method, url, body, await refreshedIdToken(), signal);
  if (response.status === 401) throw new NotSignedInError('Your session has ended');
  if (!response.ok) throw await errorFrom(response);
  if (response.status === 204) return null;
  return response.json();
}

/**
 * One page of the albums matching every word of `q` (in the searchable fields), ordered by `sort` (a sortable field)
 * and `order` (asc|desc): {items, nextToken, start, total, decades: [{decade, count}], skipped}; total and decades count the
 * whole result. nextToken is null when there is nothing more.
 */
export function listAlbums({ limit, nextToken, q, sort, order, signal } = {}) {
  return request('GET', '/album', { query: { limit, nextToken, q, sort, order }, signal });
}

/**
 * What the whole collection holds, whatever the view: {total, genres: [{genre, count}], decades: [{decade, count}],
 * topArtists: [{artist, count}]}, the most albums first (decades ascending).
 */
export function albumStats({ signal } = {}) {
  return request('GET', '/album/stats', { signal });
}

export function getAlbum(rank) {
  return request('GET', '/album', { query: { rank } });
}

export function createAlbum(album) {
  return request('POST', '/album', { body: album });
}

/** changes: any editable fields ('' clears an optional one); version: the one the user saw (409 version_conflict when stale). */
export function updateAlbum(rank, changes, version) {
  return request('PUT', '/album', { query: { rank }, body: { ...changes, version } });
}

export function deleteAlbum(rank, version) {
  return request('DELETE', '/album', { query: { rank, version } });
}

const MESSAGES = {
  network: 'Cannot reach the albums API. Check your connection and try again.',
  timeout: `The albums API did not answer within ${TIMEOUT_MS / 1000} seconds. Try again.`,
  validation_error: 'Some values are not accepted. See the messages next to the fields.',
  forbidden: 'Only editors can add, change or delete albums. You can read them.',
  unsupported_media_type: 'The albums API did not understand the request. Reload the page and try again.',
  not_found: 'That album no longer exists.',
  rank_taken: 'That Rank is already taken by another album. Choose a free Rank.',
  version_conflict: 'Someone else changed this album after you loaded it.',
  internal_error: 'The server had a problem. Try again in a moment.',
  busy: 'The albums API is busy. Try again in a moment.',
  throttled: 'The albums API is busy. Try again in a moment.',
};

/** A sentence for the page; the server's own message is used for codes we do not know. */
export function describeApiError(err) {
  if (err instanceof NotSignedInError) return 'Your session has ended. Sign in again.';
  if (!(err instanceof ApiError)) return 'Something went wrong. Try again.';
  if (err.code === 'validation_error' && Object.keys(err.fields).length === 0 && err.message) return err.message;
  if (err.code === 'internal_error') return MESSAGES.internal_error + reference(err);
  if (MESSAGES[err.code]) return MESSAGES[err.code];
  if (err.status === 403) return 'The albums API refused this request.';
  if (err.status >= 500) return MESSAGES.internal_error + reference(err);
  return err.message || `The albums API answered ${err.status}.`;
}

function reference(err) {
  return err.requestId ? ` Reference: ${err.requestId}` : '';
}
