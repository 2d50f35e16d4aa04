// The view in the address bar: dashboard.html?q=dylan&sort=Year&order=desc (reload, Back/Forward and a pasted link
// show the same view); dashboard.html?added=N names an album just added.
import { ALBUM_FIELDS } from '../album-fields.js';
import { config } from '../app-config.js';

const DEFAULT_VIEW = Object.freeze({ q: '', sort: 'Rank', order: 'asc' });
const SORT_KEYS = ALBUM_FIELDS.filter((field) => field.sortable).map((field) => field.name);

export function defaultView() {
  return { ...DEFAULT_VIEW };
}

export function viewFromAddress() {
  const params = new URLSearchParams(window.location.search);
  const sort = SORT_KEYS.includes(params.get('sort')) ? params.get('sort') : DEFAULT_VIEW.sort;
  const order = config.listing.sortOrders.includes(params.get('order')) ? params.get('order') : DEFAULT_VIEW.order;
  return { q: (params.get('q') || '').trim(), sort, order };
}

function addressOf(view) {
  const params = new URLSearchParams();
  if (view.q) params.set('q', view.q);
  if (view.sort !== DEFAULT_VIEW.sort) params.set('sort', view.sort);
  if (view.order !== DEFAULT_VIEW.order) params.set('order', view.order);
  const query = params.toString();
  return `${window.location.pathname}${query ? `?${query}` : ''}`;
}

let lastTypedAt = 0;

/** Put a view in the address: a new history entry, except while the user is still typing one search (no entry per
 * word). */
export function recordView(view, { typing = false } = {}) {
  const address = addressOf(view);
  const now = Date.now();
  if (address !== `${window.location.pathname}${window.location.search}`) {
    if (typing && now - lastTypedAt < 2000) window.history.replaceState(view, '', address);
    else window.history.pushState(view, '', address);
  }
  lastTypedAt = typing ? now : 0;
}

/** ?added=N: the Rank of the album just added (taken out of the address), or null. */
export function takeAddedRank() {
  const params = new URLSearchParams(window.location.search);
  const rank = Number.parseInt(params.get('added') || '', 10);
  if (params.has('added')) {
    params.delete('added');
    window.history.replaceState(null, '', `${window.location.pathname}${params.size ? `?${params}` : ''}`);
  }
  return Number.isInteger(rank) ? rank : null;
}
