// Rendering: the rows (album-table.js), everything around them (count, states, paging, sort headers) and the chart.
// Numbers shown here are the API's (the view's total; the collection's stats for the chart): nothing is counted in
// the page.
import { ALBUM_FIELDS } from '../album-fields.js';
import { renderHead, renderRows } from '../album-table.js';
import { renderDecadeChart } from '../decade-chart.js';
import { state, ui } from './state.js';

let rowActions = {};

/** The table's header (from the field table) and the row buttons' actions: once, at start. */
export function setUpTable(actions) {
  rowActions = actions;
  renderHead(ui.table);
  const searched = ALBUM_FIELDS.filter((field) => field.searchable).map((field) => field.label.toLowerCase());
  if (searched.length) ui.search.placeholder = `${searched.join(', ')}…`.replace(/^./, (first) => first.toUpperCase());
}

export function render(focusKey = null) {
  const began = performance.now();
  renderRows(ui.body, state.albums, {
    editing: state.editing,
    busyRank: state.busyRank,
    highlightRank: state.highlightRank,
    actions: rowActions,
    focusKey,
    readOnly: state.readOnly,
  });
  renderStatus();
  // Visible in the browser's performance panel; `make bench` reads it (main-thread cost of one re-render).
  performance.measure('albums:render', { start: began, detail: { rows: state.albums.length } });
}

/** Everything around the rows: cheap, so it runs on every change. */
export function renderStatus() {
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
  ui.count.textContent = countText(state.albums.length);
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

/** The collection's albums per decade (GET /album/stats): the same whatever the view shows. */
export function renderChart() {
  const { total = 0, decades = [] } = state.stats || {};
  ui.chartSection.hidden = renderDecadeChart(ui.chart, decades) === 0;
  ui.chartCaption.textContent = state.stats
    ? `Counted over all ${total.toLocaleString()} ${total === 1 ? 'album' : 'albums'}.`
    : '';
}

function renderSortHeaders() {
  for (const button of ui.table.querySelectorAll('button[data-sort-key]')) {
    const active = button.dataset.sortKey === state.view.sort;
    const direction = state.view.order === 'desc' ? 'descending' : 'ascending';
    button.closest('th').setAttribute('aria-sort', active ? direction : 'none');
    button.dataset.direction = active ? state.view.order : '';
  }
}
