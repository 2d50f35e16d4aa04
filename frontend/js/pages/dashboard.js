// dashboard.html — the albums table. Ids for tests: #albums-table, #albums-body (rows: see album-table.js),
// #albums-loading, #albums-empty, #albums-error (+ #albums-retry), #filter-empty, #album-count, #filter,
// sort buttons th button[data-sort-key=Rank|Album|Artist|Genre|Year] (th[aria-sort]), #load-more, #load-all,
// #reload-albums, #dashboard-message, #decade-chart (li[data-decade][data-count]), #delete-dialog
// (#delete-dialog-text, #delete-confirm, #delete-cancel), header #user-name, #user-email, #sign-out, #add-album-link.
// dashboard.html?added=N loads pages until Rank N is in view and highlights it (tr.is-new).
import { ApiError, deleteAlbum, describeApiError, listAlbums, updateAlbum } from '../api.js';
import { config } from '../app-config.js';
import { NotSignedInError } from '../auth.js';
import { COLUMNS, EDITABLE, compareAlbums, matchesFilter, renderRows } from '../album-table.js';
import { renderDecadeChart } from '../decade-chart.js';
import { byId, showMessage } from '../dom.js';
import { invalidFields } from '../forms.js';
import { requireSignIn, sessionEnded } from '../session.js';

const PAGE_SIZE = 50;
const BULK_PAGE_SIZE = 100;

const ui = {
  table: byId('albums-table'),
  body: byId('albums-body'),
  loading: byId('albums-loading'),
  empty: byId('albums-empty'),
  error: byId('albums-error'),
  errorText: byId('albums-error-text'),
  filterEmpty: byId('filter-empty'),
  count: byId('album-count'),
  filter: byId('filter'),
  loadMore: byId('load-more'),
  loadAll: byId('load-all'),
  reload: byId('reload-albums'),
  message: byId('dashboard-message'),
  chart: byId('decade-chart'),
  chartSection: byId('chart-section'),
  chartCaption: byId('chart-caption'),
  dialog: byId('delete-dialog'),
  dialogText: byId('delete-dialog-text'),
};

const state = {
  generation: 0, // bumped on reset so answers to requests from before it are dropped
  albums: new Map(),
  nextToken: null,
  loadedOnce: false,
  loading: false,
  error: '',
  sort: { key: 'Rank', direction: 1 },
  filter: '',
  editing: null, // {rank, version, base, draft, errors, conflict, note, saving}
  busyRank: null,
  highlightRank: null,
  pendingDelete: null,
};

function say(text, kind = 'info') {
  showMessage(ui.message, text, kind);
}

function visibleAlbums() {
  return [...state.albums.values()]
    .filter((album) => matchesFilter(album, state.filter))
    .sort(compareAlbums(state.sort.key, state.sort.direction));
}

function render(focusKey = null) {
  const visible = visibleAlbums();
  renderRows(ui.body, visible, {
    editing: state.editing,
    busyRank: state.busyRank,
    highlightRank: state.highlightRank,
    schema: config.albumSchema,
    actions,
    focusKey,
  });
  const loaded = state.albums.size;
  const hasMore = state.nextToken !== null;
  ui.table.setAttribute('aria-busy', String(state.loading));
  ui.loading.hidden = !state.loading;
  ui.error.hidden = !state.error;
  ui.errorText.textContent = state.error;
  ui.empty.hidden = !(state.loadedOnce && loaded === 0 && !state.loading && !state.error);
  ui.filterEmpty.hidden = !(loaded > 0 && visible.length === 0);
  ui.loadMore.hidden = !(state.loadedOnce && hasMore);
  ui.loadAll.hidden = ui.loadMore.hidden;
  ui.loadMore.disabled = state.loading;
  ui.loadAll.disabled = state.loading;
  ui.reload.disabled = state.loading;
  ui.count.textContent = countText(visible.length, loaded, hasMore);
  renderSortHeaders();
  const decades = renderDecadeChart(ui.chart, visible);
  ui.chartSection.hidden = decades === 0;
  const noun = visible.length === 1 ? 'album' : 'albums';
  ui.chartCaption.textContent = `Counted over the ${visible.length} ${noun} shown.`;
}

function countText(shown, loaded, hasMore) {
  if (!state.loadedOnce || loaded === 0) return '';
  const more = hasMore ? ' More are available.' : '';
  if (state.filter) return `${shown} of ${loaded} loaded albums match the filter.${more}`;
  return hasMore ? `Showing the first ${loaded} albums.${more}` : `Showing all ${loaded} albums.`;
}

function renderSortHeaders() {
  for (const button of ui.table.querySelectorAll('button[data-sort-key]')) {
    const active = button.dataset.sortKey === state.sort.key;
    const header = button.closest('th');
    header.setAttribute('aria-sort', active ? (state.sort.direction === 1 ? 'ascending' : 'descending') : 'none');
    button.dataset.direction = active ? (state.sort.direction === 1 ? 'asc' : 'desc') : '';
  }
}

async function handleFailure(err, fallback) {
  if (err instanceof NotSignedInError) {
    await sessionEnded();
    return true;
  }
  if (!(err instanceof ApiError)) console.error(err);
  if (fallback) fallback(describeApiError(err));
  return false;
}

/** Fetch the next page into the table. Returns false when the load failed or was superseded. */
async function fetchNextPage(limit) {
  const generation = state.generation;
  state.loading = true;
  state.error = '';
  render();
  try {
    const page = await listAlbums({ limit, nextToken: state.nextToken });
    if (generation !== state.generation) return false;
    const items = page.items || [];
    const fresh = items.filter((album) => !state.albums.has(album.Rank)).length;
    for (const album of items) state.albums.set(album.Rank, album);
    state.loadedOnce = true;
    if (page.nextToken && fresh === 0 && state.albums.size > 0) {
      // A page with nothing new but a token to go on would make "Load all" loop forever: stop here instead.
      state.nextToken = null;
      state.error =
        'The album list stopped advancing (the server sent only albums already shown). Reload to start over.';
      return false;
    }
    state.nextToken = page.nextToken ?? null;
    return true;
  } catch (err) {
    if (generation !== state.generation) return false;
    await handleFailure(err, (text) => {
      state.error = text;
    });
    return false;
  } finally {
    if (generation === state.generation) {
      state.loading = false;
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
  say('Loading all albums…');
  while (state.nextToken !== null || !state.loadedOnce) {
    if (!(await fetchNextPage(BULK_PAGE_SIZE))) return;
  }
  say(`All ${state.albums.size} albums are loaded.`, 'success');
}

/** Load pages until Rank `rank` is loaded (or there is nothing more), then point at it. */
async function showAddedAlbum(rank) {
  const maxLoaded = () => Math.max(0, ...state.albums.keys());
  while (!state.albums.has(rank) && state.nextToken !== null && maxLoaded() < rank) {
    if (!(await fetchNextPage(BULK_PAGE_SIZE))) return;
  }
  const album = state.albums.get(rank);
  if (!album) return;
  state.highlightRank = rank;
  state.sort = { key: 'Rank', direction: 1 };
  render(`edit-${rank}`);
  say(`Added album ${rank}: “${album.Album}” by ${album.Artist}.`, 'success');
  ui.body.querySelector(`tr[data-rank="${rank}"]`)?.scrollIntoView({ block: 'center' });
}

function reset() {
  state.generation += 1;
  state.albums.clear();
  state.nextToken = null;
  state.loadedOnce = false;
  state.loading = false;
  state.error = '';
  state.editing = null;
  state.busyRank = null;
  state.highlightRank = null;
  ui.body.replaceChildren();
  ui.chart.replaceChildren();
  ui.count.textContent = '';
  say('');
}

// ---- edit in place -------------------------------------------------------------------------------------------

function startEdit(rank) {
  const album = state.albums.get(rank);
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
  const album = state.albums.get(editing.rank);
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
    say('Nothing changed.');
    return;
  }
  editing.saving = true;
  editing.note = '';
  render();
  try {
    const saved = await updateAlbum(editing.rank, changes, editing.version);
    state.albums.set(saved.Rank, saved);
    state.editing = null;
    render(`edit-${saved.Rank}`);
    say(`Saved album ${saved.Rank}: “${saved.Album}”.`, 'success');
  } catch (err) {
    editing.saving = false;
    await saveFailed(editing, err);
  }
}

async function saveFailed(editing, err) {
  if (await handleFailure(err)) return;
  if (err.code === 'version_conflict' && err.current) {
    state.albums.set(editing.rank, err.current);
    rebase(editing, err.current);
    render('save');
    say(`${describeApiError(err)} See its current values below the row.`, 'error');
    return;
  }
  if (err.code === 'not_found') {
    state.albums.delete(editing.rank);
    state.editing = null;
    render();
    say(`Album ${editing.rank} was deleted by someone else.`, 'error');
    return;
  }
  editing.errors = err.fields || {};
  const unplaced = Object.entries(editing.errors).filter(([field]) => !EDITABLE.includes(field));
  editing.note = unplaced.length ? unplaced.map(([field, text]) => `${field}: ${text}`).join(' ') : '';
  const firstField = Object.keys(editing.errors).find((field) => EDITABLE.includes(field));
  render(firstField ? `input-${firstField}` : 'save');
  say(describeApiError(err), 'error');
}

// ---- delete with confirmation ----------------------------------------------------------------------------------

function askDelete(rank) {
  const album = state.albums.get(rank);
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
  const album = state.albums.get(pending.rank);
  state.busyRank = pending.rank;
  render();
  try {
    await deleteAlbum(pending.rank, pending.version);
    const focusKey = neighbourFocusKey(pending.rank);
    state.albums.delete(pending.rank);
    state.busyRank = null;
    render(focusKey);
    if (!focusKey) ui.filter.focus();
    say(`Deleted album ${pending.rank}: “${album?.Album ?? ''}”.`, 'success');
  } catch (err) {
    state.busyRank = null;
    if (await handleFailure(err)) return;
    if (err.code === 'version_conflict' && err.current) {
      state.albums.set(pending.rank, err.current);
      render(`delete-${pending.rank}`);
      say(
        `Album ${pending.rank} was changed by someone else after you loaded it; it now reads ` +
          `“${err.current.Album}” by ${err.current.Artist} (${err.current.Year}). ` +
          'Nothing was deleted: check it and delete again if you still want to.',
        'error',
      );
      return;
    }
    if (err.code === 'not_found') {
      state.albums.delete(pending.rank);
      render();
      say(`Album ${pending.rank} was already deleted.`, 'info');
      return;
    }
    render(`delete-${pending.rank}`);
    say(describeApiError(err), 'error');
  }
}

const actions = {
  edit: startEdit,
  delete: askDelete,
  save: saveEdit,
  cancel: cancelEdit,
  draft: (field, value) => {
    if (state.editing) state.editing.draft[field] = value;
  },
};

// ---- wiring ------------------------------------------------------------------------------------------------------

function wire() {
  for (const button of ui.table.querySelectorAll('button[data-sort-key]')) {
    const column = COLUMNS.find(({ key }) => key === button.dataset.sortKey);
    button.setAttribute('aria-label', `Sort by ${column.label}`);
    button.addEventListener('click', () => {
      const key = button.dataset.sortKey;
      state.sort = { key, direction: state.sort.key === key ? -state.sort.direction : 1 };
      render();
    });
  }
  ui.filter.addEventListener('input', () => {
    state.filter = ui.filter.value.trim().toLowerCase();
    render();
  });
  ui.loadMore.addEventListener('click', () => loadMore());
  ui.loadAll.addEventListener('click', () => loadAll());
  ui.reload.addEventListener('click', () => start());
  byId('albums-retry').addEventListener('click', () => (state.nextToken !== null ? loadMore() : start()));
  ui.dialog.addEventListener('close', () => {
    if (ui.dialog.returnValue === 'confirm') confirmDelete();
    else state.pendingDelete = null;
  });
}

function takeAddedRank() {
  const params = new URLSearchParams(window.location.search);
  const rank = Number.parseInt(params.get('added') || '', 10);
  if (params.has('added')) window.history.replaceState(null, '', window.location.pathname);
  return Number.isInteger(rank) ? rank : null;
}

async function start(addedRank = null) {
  reset();
  const loaded = await fetchNextPage(PAGE_SIZE);
  if (loaded && addedRank !== null) await showAddedAlbum(addedRank);
}

async function main() {
  const signedIn = await requireSignIn({ onLeave: reset, onReturn: () => start() });
  if (!signedIn) return;
  wire();
  await start(takeAddedRank());
}

main();
