// dashboard.html — the albums table over the WHOLE collection: the API searches, sorts and counts every album; the
// page shows a page at a time. Ids for tests: #albums-table, #albums-body (rows: see album-table.js),
// #albums-loading, #albums-empty, #albums-error (+ #albums-retry), #search-empty, #album-count, #search,
// sort buttons th button[data-sort-key=Rank|Album|Artist|Genre|Year] (th[aria-sort]), #load-more, #load-all,
// #reload-albums, #dashboard-message, #decade-chart (li[data-decade][data-count]), #chart-caption, #delete-dialog
// (#delete-dialog-text, #delete-confirm, #delete-cancel), header #user-name, #user-email, #account-link, #sign-out,
// #add-album-link. A reader (not in the Cognito group `editors`) sees no Add, Edit or Delete but #read-only-notice,
// whose #check-access asks Cognito for a new token (after being made an editor); a 403 turns the page read-only.
// The address carries the view: dashboard.html?q=dylan&sort=Year&order=desc (reload, Back/Forward and a pasted
// link show the same view). dashboard.html?added=N shows album N highlighted (tr.is-new), at the top if it is not on
// the first page.
import {
  ApiError,
  createAlbum,
  deleteAlbum,
  describeApiError,
  getAlbum,
  listAlbums,
  updateAlbum,
} from '../api.js';
import { config } from '../app-config.js';
import { NotSignedInError, refreshedProfile } from '../auth.js';
import { COLUMNS, EDITABLE, forgetRows, renderRows } from '../album-table.js';
import { renderDecadeChart } from '../decade-chart.js';
import { byId, showMessage } from '../dom.js';
import { fieldProblem, invalidFields } from '../forms.js';
import { requireSignIn, sessionEnded } from '../session.js';
import { showToast } from '../toast.js';

const PAGE_SIZE = config.listing.pageLimitDefault;
const BULK_PAGE_SIZE = config.listing.pageLimitMax;
const SEARCH_DELAY_MS = 250; // results as you type, without one request per keystroke
const SORT_KEYS = config.listing.sortFields;

const ui = {
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

const state = {
  generation: 0, // bumped whenever the view changes, so answers to older requests are dropped
  inFlight: null, // AbortController of the current list request
  view: { q: '', sort: 'Rank', order: 'asc' }, // what the address says
  albums: [], // loaded rows, in the server's order
  byRank: new Map(),
  nextToken: null,
  total: 0,
  decades: [],
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
function say(text, kind = 'info') {
  showMessage(ui.message, text, kind);
}

/** About what the user just did to an album: a toast where the user looks, announced, gone after a while. */
function confirmAction(message, options = {}) {
  return showToast({ message, ...options });
}

function actionFailed(message) {
  return showToast({ message, kind: 'error' });
}

// ---- the view in the address bar -------------------------------------------------------------------------------

function viewFromAddress() {
  const params = new URLSearchParams(window.location.search);
  const sort = SORT_KEYS.includes(params.get('sort')) ? params.get('sort') : 'Rank';
  const order = config.listing.sortOrders.includes(params.get('order')) ? params.get('order') : 'asc';
  return { q: (params.get('q') || '').trim(), sort, order };
}

function addressOf(view) {
  const params = new URLSearchParams();
  if (view.q) params.set('q', view.q);
  if (view.sort !== 'Rank') params.set('sort', view.sort);
  if (view.order !== 'asc') params.set('order', view.order);
  const query = params.toString();
  return `${window.location.pathname}${query ? `?${query}` : ''}`;
}

let lastTypedAt = 0;

/** Show another view: a new history entry, except while the user is still typing one search (no entry per word).
 * An album being edited stays, at the top of the new list if the new view does not hold it, with the edit kept. */
function changeView(view, { typing = false } = {}) {
  const address = addressOf(view);
  const now = Date.now();
  if (address !== `${window.location.pathname}${window.location.search}`) {
    if (typing && now - lastTypedAt < 2000) window.history.replaceState(view, '', address);
    else window.history.pushState(view, '', address);
  }
  lastTypedAt = typing ? now : 0;
  state.view = view;
  start(null, keptEdit());
}

function keptEdit() {
  if (!state.editing) return null;
  return { editing: state.editing, album: state.byRank.get(state.editing.rank) };
}

// ---- rendering -------------------------------------------------------------------------------------------------

function render(focusKey = null) {
  const began = performance.now();
  renderRows(ui.body, state.albums, {
    editing: state.editing,
    busyRank: state.busyRank,
    highlightRank: state.highlightRank,
    schema: config.albumSchema,
    actions,
    focusKey,
    readOnly: state.readOnly,
  });
  renderStatus();
  // Visible in the browser's performance panel; `make bench` reads it (main-thread cost of one re-render).
  performance.measure('albums:render', { start: began, detail: { rows: state.albums.length } });
}

/** Everything around the rows: cheap, so it runs on every change. */
function renderStatus() {
  const loaded = state.albums.length;
  const hasMore = state.nextToken !== null;
  const searching = state.view.q !== '';
  ui.table.setAttribute('aria-busy', String(state.loading));
  ui.loading.hidden = !state.loading;
  ui.error.hidden = !state.error;
  ui.errorText.textContent = state.error;
  const settled = state.loadedOnce && !state.loading && !state.error;
  ui.empty.hidden = !(settled && !searching && state.total === 0);
  ui.searchEmpty.hidden = !(settled && searching && state.total === 0);
  ui.searchEmpty.textContent = searching ? `No album matches “${state.view.q}”.` : '';
  ui.loadMore.hidden = !(state.loadedOnce && hasMore);
  ui.loadAll.hidden = ui.loadMore.hidden;
  ui.loadMore.disabled = state.loading;
  ui.loadAll.disabled = state.loading;
  ui.reload.disabled = state.loading;
  ui.count.textContent = countText(loaded);
  renderSortHeaders();
}

function countText(loaded) {
  if (!state.loadedOnce || state.total === 0) return '';
  const noun = state.total === 1 ? 'album' : 'albums';
  const range = loaded > 0 ? `1–${loaded.toLocaleString()}` : '';
  if (!state.view.q) return `${range} of ${state.total.toLocaleString()} ${noun}`;
  const matches = `${state.total.toLocaleString()} ${noun} ${state.total === 1 ? 'matches' : 'match'} “${state.view.q}”`;
  return loaded < state.total ? `${matches} · showing ${range}` : matches;
}

function renderChart() {
  const shown = renderDecadeChart(ui.chart, state.decades);
  ui.chartSection.hidden = shown === 0;
  const total = state.total.toLocaleString();
  const noun = state.total === 1 ? 'album' : 'albums';
  ui.chartCaption.textContent = state.view.q
    ? `Counted over the ${total} ${noun} matching “${state.view.q}”.`
    : `Counted over all ${total} ${noun}.`;
}

function renderSortHeaders() {
  for (const button of ui.table.querySelectorAll('button[data-sort-key]')) {
    const active = button.dataset.sortKey === state.view.sort;
    const direction = state.view.order === 'desc' ? 'descending' : 'ascending';
    button.closest('th').setAttribute('aria-sort', active ? direction : 'none');
    button.dataset.direction = active ? state.view.order : '';
  }
}

/** Totals and decades follow the user's own writes at once (the next request brings the server's numbers). */
function countChange(removed, added) {
  const decades = new Map(state.decades.map(({ decade, count }) => [decade, count]));
  const shift = (album, by) => {
    const decade = Math.floor(Number(album.Year) / 10) * 10;
    decades.set(decade, (decades.get(decade) || 0) + by);
  };
  if (removed) shift(removed, -1);
  if (added) shift(added, 1);
  state.total += (added ? 1 : 0) - (removed ? 1 : 0);
  state.decades = [...decades.entries()].sort(([a], [b]) => a - b).map(([decade, count]) => ({ decade, count }));
  renderChart();
}

// ---- loading ---------------------------------------------------------------------------------------------------

// ---- readers and editors ---------------------------------------------------------------------------------------

/** Show or hide what only editors may use. The API decides on every write; this only keeps the page honest. */
function applyRole(isEditor) {
  state.readOnly = !isEditor;
  ui.addLink.hidden = state.readOnly;
  ui.readOnlyNotice.hidden = !state.readOnly;
  if (state.readOnly) {
    state.editing = null;
    state.pendingDelete = null;
    if (ui.dialog.open) ui.dialog.close();
  }
}

/** After being made an editor (`make editor`): a new ID token carries the group at once, without signing out. */
async function checkAccess() {
  ui.checkAccess.disabled = true;
  try {
    const profile = await refreshedProfile();
    applyRole(profile.isEditor);
    render();
    confirmAction(
      profile.isEditor ? 'You are an editor now: you can add, change and delete albums.' : 'You can still only read.',
      { kind: profile.isEditor ? 'success' : 'info' },
    );
  } catch (err) {
    await handleFailure(err, actionFailed);
  } finally {
    ui.checkAccess.disabled = false;
  }
}

async function handleFailure(err, fallback) {
  if (err instanceof NotSignedInError) {
    await sessionEnded();
    return true;
  }
  if (err instanceof ApiError && err.code === 'forbidden') {
    // The token said "editor" but the API no longer agrees (the role was taken away): read-only from now on.
    applyRole(false);
    render();
  }
  if (!(err instanceof ApiError)) console.error(err);
  if (fallback) fallback(describeApiError(err));
  return false;
}

/** Fetch the next page of the current view. Returns false when the load failed or was superseded. */
async function fetchNextPage(limit) {
  const generation = state.generation;
  const controller = new AbortController();
  state.inFlight = controller;
  state.loading = true;
  state.error = '';
  renderStatus();
  try {
    const { q, sort, order } = state.view;
    const page = await listAlbums({ limit, nextToken: state.nextToken, q, sort, order, signal: controller.signal });
    if (generation !== state.generation) return false;
    const fresh = (page.items || []).filter((album) => !state.byRank.has(album.Rank));
    for (const album of fresh) state.byRank.set(album.Rank, album);
    state.albums.push(...fresh);
    state.nextToken = page.nextToken ?? null;
    state.total = page.total ?? state.albums.length;
    state.decades = page.decades || [];
    state.loadedOnce = true;
    renderChart();
    return true;
  } catch (err) {
    if (generation !== state.generation || controller.signal.aborted) return false;
    await handleFailure(err, (text) => {
      // A search the API refuses (e.g. too long) is named as such; other failures get the general sentence.
      state.error = err.fields?.q ? `The search ${err.fields.q}.` : text;
    });
    return false;
  } finally {
    if (generation === state.generation) {
      state.loading = false;
      state.inFlight = null;
      render();
    }
  }
}

async function loadMore(limit = PAGE_SIZE) {
  if (state.loading) return;
  await fetchNextPage(limit);
}

async function loadAll() {
  if (state.loading) return;
  say('Loading the rest of the list…');
  do {
    if (!(await fetchNextPage(BULK_PAGE_SIZE))) return;
  } while (state.nextToken !== null);
  say(`All ${state.albums.length} albums are loaded${state.view.q ? ` for “${state.view.q}”` : ''}.`, 'success');
}

/** Just added: the album is shown where the user looks, highlighted at the top of the list if the first page does
 * not hold it (an album at Rank 700,000 would otherwise be 500 rows down), with a confirmation. */
async function showAddedAlbum(rank) {
  let album = state.byRank.get(rank);
  if (!album) {
    try {
      album = await getAlbum(rank);
    } catch (err) {
      if (await handleFailure(err)) return;
      return; // deleted meanwhile, or not reachable: the list is there as usual
    }
    state.albums.unshift(album);
    state.byRank.set(rank, album);
  }
  state.highlightRank = rank;
  render(`edit-${rank}`);
  confirmAction(`Added album ${rank}: “${album.Album}” by ${album.Artist}.`);
  ui.body.querySelector(`tr[data-rank="${rank}"]`)?.scrollIntoView({ block: 'center' });
}

function reset() {
  state.generation += 1;
  state.inFlight?.abort();
  state.inFlight = null;
  state.albums = [];
  state.byRank.clear();
  state.nextToken = null;
  state.total = 0;
  state.decades = [];
  state.loadedOnce = false;
  state.loading = false;
  state.error = '';
  state.editing = null;
  state.busyRank = null;
  state.highlightRank = null;
  forgetRows(ui.body); // no album data stays in the page (e.g. in the back/forward cache after sign-out)
  ui.chart.replaceChildren();
  ui.count.textContent = '';
  say('');
}

function removeRow(rank) {
  state.albums = state.albums.filter((album) => album.Rank !== rank);
  state.byRank.delete(rank);
}

function replaceRow(album) {
  const index = state.albums.findIndex((candidate) => candidate.Rank === album.Rank);
  if (index >= 0) state.albums[index] = album;
  state.byRank.set(album.Rank, album);
}

// ---- edit in place -------------------------------------------------------------------------------------------

function startEdit(rank) {
  const album = state.byRank.get(rank);
  if (!album || state.editing) return;
  state.editing = {
    rank,
    version: album.version,
    base: valuesOf(album), // what the user started from, to tell their edits apart after a conflict
    draft: valuesOf(album),
    errors: {},
    conflict: null,
    note: '',
    saving: false,
  };
  say('');
  render('input-Album');
}

function valuesOf(album) {
  return Object.fromEntries(EDITABLE.map((field) => [field, String(album[field] ?? '')]));
}

/** After a conflict: fields the user did not touch take the current values; the user's own edits stay. */
function rebase(editing, current) {
  for (const field of EDITABLE) {
    if (editing.draft[field] === editing.base[field]) editing.draft[field] = String(current[field] ?? '');
  }
  editing.base = valuesOf(current);
  editing.version = current.version;
  editing.conflict = current;
}

function cancelEdit() {
  if (!state.editing || state.editing.saving) return;
  const { rank } = state.editing;
  state.editing = null;
  render(`edit-${rank}`);
}

function changesFrom(album, draft) {
  const changes = {};
  for (const field of EDITABLE) {
    const value = field === 'Year' ? Number(draft.Year) : draft[field].trim();
    if (value !== album[field]) changes[field] = field === 'Year' ? value : draft[field];
  }
  return changes;
}

async function saveEdit() {
  const editing = state.editing;
  if (!editing || editing.saving) return;
  const album = state.byRank.get(editing.rank);
  const row = ui.body.querySelector(`tr[data-rank="${editing.rank}"]`);
  editing.errors = invalidFields([...row.querySelectorAll('input[name]')]);
  if (Object.keys(editing.errors).length > 0) {
    render(`input-${Object.keys(editing.errors)[0]}`);
    return;
  }
  const changes = changesFrom(album, editing.draft);
  if (Object.keys(changes).length === 0) {
    state.editing = null;
    render(`edit-${editing.rank}`);
    confirmAction('Nothing changed.', { kind: 'info' });
    return;
  }
  editing.saving = true;
  editing.note = '';
  render();
  try {
    const saved = await updateAlbum(editing.rank, changes, editing.version);
    countChange(album, saved);
    replaceRow(saved);
    state.editing = null;
    render(`edit-${saved.Rank}`);
    confirmAction(`Saved album ${saved.Rank}: “${saved.Album}”.`);
  } catch (err) {
    editing.saving = false;
    await saveFailed(editing, err);
  }
}

async function saveFailed(editing, err) {
  if (await handleFailure(err)) return;
  if (err.code === 'version_conflict' && err.current) {
    replaceRow(err.current);
    rebase(editing, err.current);
    render('save');
    actionFailed(`${describeApiError(err)} See its current values below the row.`);
    return;
  }
  if (err.code === 'not_found') {
    countChange(state.byRank.get(editing.rank), null);
    removeRow(editing.rank);
    state.editing = null;
    render();
    actionFailed(`Album ${editing.rank} was deleted by someone else.`);
    return;
  }
  editing.errors = err.fields || {};
  const unplaced = Object.entries(editing.errors).filter(([field]) => !EDITABLE.includes(field));
  editing.note = unplaced.length ? unplaced.map(([field, text]) => `${field}: ${text}`).join(' ') : '';
  const firstField = Object.keys(editing.errors).find((field) => EDITABLE.includes(field));
  render(firstField ? `input-${firstField}` : 'save');
  actionFailed(describeApiError(err));
}

// ---- delete with confirmation ----------------------------------------------------------------------------------

function askDelete(rank) {
  const album = state.byRank.get(rank);
  if (!album) return;
  state.pendingDelete = { rank, version: album.version };
  ui.dialogText.textContent = `Delete album ${rank}, “${album.Album}” by ${album.Artist}? This cannot be undone.`;
  ui.dialog.returnValue = '';
  ui.dialog.showModal();
  byId('delete-cancel').focus();
}

function neighbourFocusKey(rank) {
  const rows = [...ui.body.querySelectorAll('tr[data-testid="album-row"]')];
  const index = rows.findIndex((row) => row.dataset.rank === String(rank));
  const neighbour = rows[index + 1] || rows[index - 1];
  return neighbour ? `delete-${neighbour.dataset.rank}` : null;
}

async function confirmDelete() {
  const pending = state.pendingDelete;
  state.pendingDelete = null;
  if (!pending) return;
  const album = state.byRank.get(pending.rank);
  state.busyRank = pending.rank;
  render();
  try {
    await deleteAlbum(pending.rank, pending.version);
    const focusKey = neighbourFocusKey(pending.rank);
    const position = state.albums.findIndex((candidate) => candidate.Rank === pending.rank);
    countChange(album, null);
    removeRow(pending.rank);
    state.busyRank = null;
    render(focusKey);
    if (!focusKey) ui.search.focus();
    confirmAction(`Deleted album ${pending.rank}: “${album?.Album ?? ''}”.`, {
      action: { label: 'Undo', onClick: () => undoDelete(album, position) },
    });
  } catch (err) {
    state.busyRank = null;
    if (await handleFailure(err)) return;
    if (err.code === 'version_conflict' && err.current) {
      replaceRow(err.current);
      render(`delete-${pending.rank}`);
      actionFailed(
        `Album ${pending.rank} was changed by someone else after you loaded it; it now reads ` +
          `“${err.current.Album}” by ${err.current.Artist} (${err.current.Year}). ` +
          'Nothing was deleted: check it and delete again if you still want to.',
      );
      return;
    }
    if (err.code === 'not_found') {
      countChange(album, null);
      removeRow(pending.rank);
      render();
      confirmAction(`Album ${pending.rank} was already deleted.`, { kind: 'info' });
      return;
    }
    render(`delete-${pending.rank}`);
    actionFailed(describeApiError(err));
  }
}

/** Undo of a delete: the album is created again with its fields at its Rank (a new version 1, as a new album). */
async function undoDelete(album, position) {
  const { Rank, Album, Artist, Genre, Year } = album;
  try {
    const restored = await createAlbum({ Rank, Album, Artist, Genre, Year });
    countChange(null, restored);
    state.albums.splice(Math.max(0, Math.min(position, state.albums.length)), 0, restored);
    state.byRank.set(restored.Rank, restored);
    render(`edit-${Rank}`);
    confirmAction(`Restored album ${Rank}: “${Album}”.`);
  } catch (err) {
    if (await handleFailure(err)) return;
    actionFailed(
      err.code === 'rank_taken'
        ? `Rank ${Rank} was taken by another album in the meantime, so “${Album}” was not restored.`
        : describeApiError(err),
    );
  }
}

const actions = {
  edit: startEdit,
  delete: askDelete,
  save: saveEdit,
  cancel: cancelEdit,
  draft: (field, value) => {
    if (!state.editing) return;
    state.editing.draft[field] = value;
    // forms.js clears the message on the page as soon as the field is valid; forget it here too, so a re-render
    // does not bring it back.
    const input = ui.body.querySelector(`tr[data-editing="true"] input[name="${CSS.escape(field)}"]`);
    if (input && !fieldProblem(input)) delete state.editing.errors[field];
  },
};

// ---- wiring ------------------------------------------------------------------------------------------------------

let searchTimer = null;

function wire() {
  for (const button of ui.table.querySelectorAll('button[data-sort-key]')) {
    const column = COLUMNS.find(({ key }) => key === button.dataset.sortKey);
    button.setAttribute('aria-label', `Sort all albums by ${column.label}`);
    button.addEventListener('click', () => {
      const sort = button.dataset.sortKey;
      const order = state.view.sort === sort && state.view.order === 'asc' ? 'desc' : 'asc';
      changeView({ ...state.view, sort, order });
    });
  }
  ui.search.addEventListener('input', () => {
    window.clearTimeout(searchTimer);
    searchTimer = window.setTimeout(searchNow, SEARCH_DELAY_MS);
  });
  ui.search.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') searchNow();
  });
  ui.loadMore.addEventListener('click', () => loadMore());
  ui.loadAll.addEventListener('click', () => loadAll());
  ui.reload.addEventListener('click', () => start());
  ui.checkAccess.addEventListener('click', checkAccess);
  byId('albums-retry').addEventListener('click', () => (state.loadedOnce ? loadMore() : start()));
  ui.dialog.addEventListener('close', () => {
    if (ui.dialog.returnValue === 'confirm') confirmDelete();
    else state.pendingDelete = null;
  });
  window.addEventListener('popstate', () => {
    state.view = viewFromAddress();
    ui.search.value = state.view.q;
    start();
  });
}

function searchNow() {
  window.clearTimeout(searchTimer);
  const q = ui.search.value.trim();
  if (q !== state.view.q) changeView({ ...state.view, q }, { typing: true });
}

function takeAddedRank() {
  const params = new URLSearchParams(window.location.search);
  const rank = Number.parseInt(params.get('added') || '', 10);
  if (params.has('added')) {
    params.delete('added');
    window.history.replaceState(null, '', `${window.location.pathname}${params.size ? `?${params}` : ''}`);
  }
  return Number.isInteger(rank) ? rank : null;
}

async function start(addedRank = null, kept = null) {
  reset();
  render();
  const loaded = await fetchNextPage(PAGE_SIZE);
  if (loaded && addedRank !== null) await showAddedAlbum(addedRank);
  if (loaded && kept?.album) keepEditing(kept);
}

/** After a sort or search: the edited row stays, with the user's draft, in view. */
function keepEditing({ editing, album }) {
  if (!state.byRank.has(album.Rank)) {
    state.albums.unshift(album);
    state.byRank.set(album.Rank, album);
  }
  state.editing = editing;
  render();
  ui.body.querySelector(`tr[data-rank="${album.Rank}"]`)?.scrollIntoView({ block: 'nearest' });
}

async function main() {
  // On a phone or tablet the chart sits above the list, folded, so the albums come first.
  if (window.matchMedia('(max-width: 900px)').matches) byId('chart-details').open = false;
  const signedIn = await requireSignIn({ onLeave: reset, onReturn: () => start() });
  if (!signedIn) return;
  applyRole(signedIn.profile.isEditor);
  wire();
  const addedRank = takeAddedRank();
  state.view = addedRank === null ? viewFromAddress() : { q: '', sort: 'Rank', order: 'asc' };
  ui.search.value = state.view.q;
  await start(addedRank);
}

main();
