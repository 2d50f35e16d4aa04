// Loading: pages of the current view from the API (which searches, sorts and counts the whole collection), the
// loaded rows, the collection's stats for the chart (GET /album/stats), and the counts after the user's own writes
// (asked of the API again, never worked out here).
import { albumStats, getAlbum, listAlbums } from '../api.js';
import { forgetRows } from '../album-table.js';
import { handleFailure } from './access.js';
import { render, renderChart, renderStatus } from './render.js';
import { BULK_PAGE_SIZE, PAGE_SIZE, confirmAction, say, state, ui } from './state.js';

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
    state.loadedOnce = true;
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

let statsAsked = 0;

/** The chart's numbers: the whole collection's, whatever the view. An answer older than the latest question, or
 * from before the page was left, is dropped; a failure keeps the chart as it was until the next load. */
async function loadStats() {
  const asked = ++statsAsked;
  const generation = state.generation;
  try {
    const stats = await albumStats();
    if (asked !== statsAsked || generation !== state.generation) return;
    state.stats = stats;
    renderChart();
  } catch (err) {
    await handleFailure(err);
  }
}

/** After the user's own write: the count (one album's page of the view, for its total) and the chart as the API
 * now has them. */
export async function refreshCounts() {
  const generation = state.generation;
  loadStats();
  try {
    const { q, sort, order } = state.view;
    const page = await listAlbums({ limit: 1, q, sort, order });
    if (generation !== state.generation) return;
    state.total = page.total ?? state.albums.length;
    renderStatus();
  } catch (err) {
    await handleFailure(err); // the count stays as it was until the next load
  }
}

export async function loadMore(limit = PAGE_SIZE) {
  if (state.loading) return;
  await fetchNextPage(limit);
}

export async function loadAll() {
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
      await handleFailure(err);
      return; // deleted meanwhile, or not reachable: the list is there as usual
    }
    insertRow(album, 0);
  }
  state.highlightRank = rank;
  render(`edit-${rank}`);
  confirmAction(`Added album ${rank}: “${album.Album}” by ${album.Artist}.`);
  ui.body.querySelector(`tr[data-rank="${rank}"]`)?.scrollIntoView({ block: 'center' });
}

/** Forget the list (a new view); the chart stays until new stats replace it. */
function forgetList() {
  state.generation += 1;
  state.inFlight?.abort();
  state.inFlight = null;
  state.albums = [];
  state.byRank.clear();
  state.nextToken = null;
  state.total = 0;
  state.loadedOnce = false;
  state.loading = false;
  state.error = '';
  state.editing = null;
  state.busyRank = null;
  state.highlightRank = null;
  forgetRows(ui.body);
  ui.count.textContent = '';
  say('');
}

/** Leaving the page: no album data stays in it (e.g. in the back/forward cache after sign-out), the chart neither. */
export function reset() {
  forgetList();
  state.stats = null;
  renderChart();
}

export function removeRow(rank) {
  state.albums = state.albums.filter((album) => album.Rank !== rank);
  state.byRank.delete(rank);
}

export function replaceRow(album) {
  const index = state.albums.findIndex((candidate) => candidate.Rank === album.Rank);
  if (index >= 0) state.albums[index] = album;
  state.byRank.set(album.Rank, album);
}

export function insertRow(album, position) {
  state.albums.splice(Math.max(0, Math.min(position, state.albums.length)), 0, album);
  state.byRank.set(album.Rank, album);
}

/** Load the current view from its first page. kept: {editing, album} of a row being edited, which stays. */
export async function start(addedRank = null, kept = null) {
  forgetList();
  render();
  const firstPage = fetchNextPage(PAGE_SIZE); // asked first: the rows are what the user waits for
  loadStats();
  const loaded = await firstPage;
  if (loaded && addedRank !== null) await showAddedAlbum(addedRank);
  if (loaded && kept?.album) keepEditing(kept);
}

/** After a sort or search: the edited row stays, with the user's draft, in view (at the top if the new list does
 * not hold it). */
function keepEditing({ editing, album }) {
  if (!state.byRank.has(album.Rank)) insertRow(album, 0);
  state.editing = editing;
  render();
  ui.body.querySelector(`tr[data-rank="${album.Rank}"]`)?.scrollIntoView({ block: 'nearest' });
}
