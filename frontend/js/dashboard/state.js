// The dashboard's elements and its one state object, shared by the modules of frontend/js/dashboard/.
import { config } from '../app-config.js';
import { byId, showMessage } from '../dom.js';
import { showToast } from '../toast.js';

export const PAGE_SIZE = config.listing.pageLimitDefault;
export const BULK_PAGE_SIZE = config.listing.pageLimitMax;

export const ui = {
  table: byId('albums-table'),
  body: byId('albums-body'),
  loading: byId('albums-loading'),
  empty: byId('albums-empty'),
  error: byId('albums-error'),
  errorText: byId('albums-error-text'),
  searchEmpty: byId('search-empty'),
  count: byId('album-count'),
  search: byId('search'),
  loadMore: byId('load-more'),
  loadAll: byId('load-all'),
  reload: byId('reload-albums'),
  message: byId('dashboard-message'),
  chart: byId('decade-chart'),
  chartSection: byId('chart-section'),
  chartCaption: byId('chart-caption'),
  dialog: byId('delete-dialog'),
  dialogText: byId('delete-dialog-text'),
  addLink: byId('add-album-link'),
  readOnlyNotice: byId('read-only-notice'),
  checkAccess: byId('check-access'),
};

export const state = {
  generation: 0, // bumped whenever the view changes, so answers to older requests are dropped
  inFlight: null, // AbortController of the current list request
  view: { q: '', sort: 'Rank', order: 'asc' }, // what the address says
  albums: [], // loaded rows, in the server's order
  byRank: new Map(),
  nextToken: null,
  total: 0, // the API's count of the whole result
  stats: null, // the API's counts of the whole collection, for the chart (GET /album/stats)
  loadedOnce: false,
  loading: false,
  error: '',
  editing: null, // {rank, version, base, draft, errors, conflict, note, saving}
  busyRank: null,
  highlightRank: null,
  pendingDelete: null,
  readOnly: true, // until the ID token says the user is an editor
};

/** About the list as a whole (loading, loaded): the message line above the table. */
export function say(text, kind = 'info') {
  showMessage(ui.message, text, kind);
}

/** About what the user just did to an album: a toast where the user looks, announced, gone after a while. */
export function confirmAction(message, options = {}) {
  return showToast({ message, ...options });
}

export function actionFailed(message) {
  return showToast({ message, kind: 'error' });
}
