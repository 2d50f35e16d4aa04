// dashboard.html — the albums table over the WHOLE collection: the API searches, sorts and counts every album; the
// page shows a page at a time. This module wires the page; the work is in frontend/js/dashboard/:
//   state.js    the page's elements and its one state object      address.js  the view in the address bar
//   render.js   rows, count, states, sort headers, chart          loading.js  pages from the API, the API's counts
//   access.js   readers and editors, failures                     edit.js     edit in place, conflicts
//   delete.js   delete with confirmation, Undo
// The columns, inputs and sort buttons follow the field table (album-fields.js).
// Ids for tests: #albums-table, #albums-body (rows: see album-table.js), #albums-loading, #albums-empty,
// #albums-error (+ #albums-retry), #search-empty, #album-count, #search, sort buttons
// th button[data-sort-key=<field>] (th[aria-sort]), #load-more, #load-all, #reload-albums, #dashboard-message,
// #decade-chart (li[data-decade][data-count]), #chart-caption, #delete-dialog (#delete-dialog-text, #delete-confirm,
// #delete-cancel), header #user-name, #user-email, #account-link, #sign-out, #add-album-link. A reader (not in the
// Cognito group `editors`) sees no Add, Edit or Delete but #read-only-notice, whose #check-access asks Cognito for a
// new token (after being made an editor); a 403 turns the page read-only.
// The address carries the view: dashboard.html?q=dylan&sort=Year&order=desc (reload, Back/Forward and a pasted
// link show the same view). dashboard.html?added=N shows album N highlighted (tr.is-new), at the top if it is not on
// the first page.
import { byId } from '../dom.js';
import { requireSignIn } from '../session.js';
import { applyRole, checkAccess } from '../dashboard/access.js';
import { defaultView, recordView, takeAddedRank, viewFromAddress } from '../dashboard/address.js';
import { askDelete, dialogClosed } from '../dashboard/delete.js';
import { cancelEdit, saveEdit, startEdit, updateDraft } from '../dashboard/edit.js';
import { loadAll, loadMore, reset, start } from '../dashboard/loading.js';
import { setUpTable } from '../dashboard/render.js';
import { state, ui } from '../dashboard/state.js';

const SEARCH_DELAY_MS = 250; // results as you type, without one request per keystroke

/** Show another view. An album being edited stays, at the top of the new list if the new view does not hold it,
 * with the edit kept. */
function changeView(view, options) {
  recordView(view, options);
  state.view = view;
  const kept = state.editing ? { editing: state.editing, album: state.byRank.get(state.editing.rank) } : null;
  start(null, kept);
}

let searchTimer = null;

function searchNow() {
  window.clearTimeout(searchTimer);
  const q = ui.search.value.trim();
  if (q !== state.view.q) changeView({ ...state.view, q }, { typing: true });
}

function wire() {
  setUpTable({ edit: startEdit, delete: askDelete, save: saveEdit, cancel: cancelEdit, draft: updateDraft });
  for (const button of ui.table.querySelectorAll('button[data-sort-key]')) {
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
  ui.dialog.addEventListener('close', dialogClosed);
  window.addEventListener('popstate', () => {
    state.view = viewFromAddress();
    ui.search.value = state.view.q;
    start();
  });
}

async function main() {
  // On a phone or tablet the chart sits above the list, folded, so the albums come first.
  if (window.matchMedia('(max-width: 900px)').matches) byId('chart-details').open = false;
  const signedIn = await requireSignIn({ onLeave: reset, onReturn: () => start() });
  if (!signedIn) return;
  applyRole(signedIn.profile.isEditor);
  wire();
  const addedRank = takeAddedRank();
  state.view = addedRank === null ? viewFromAddress() : defaultView();
  ui.search.value = state.view.q;
  await start(addedRank);
}

main();
