// Delete with confirmation (dialog#delete-dialog), and Undo from the toast: the album is created again with its
// fields at its Rank (a new version 1, as a new album).
import { createAlbum, deleteAlbum, describeApiError } from '../api.js';
import { albumBody } from '../album-fields.js';
import { byId } from '../dom.js';
import { handleFailure } from './access.js';
import { insertRow, refreshCounts, removeRow, replaceRow } from './loading.js';
import { render } from './render.js';
import { actionFailed, confirmAction, state, ui } from './state.js';

export function askDelete(rank) {
  const album = state.byRank.get(rank);
  if (!album) return;
  state.pendingDelete = { rank, version: album.version };
  ui.dialogText.textContent = `Delete album ${rank}, “${album.Album}” by ${album.Artist}? This cannot be undone.`;
  ui.dialog.returnValue = '';
  ui.dialog.showModal();
  byId('delete-cancel').focus();
}

/** The dialog closed: delete when the user confirmed. */
export function dialogClosed() {
  if (ui.dialog.returnValue === 'confirm') confirmDelete();
  else state.pendingDelete = null;
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
    removeRow(pending.rank);
    state.busyRank = null;
    render(focusKey);
    if (!focusKey) ui.search.focus();
    confirmAction(`Deleted album ${pending.rank}: “${album?.Album ?? ''}”.`, {
      action: { label: 'Undo', onClick: () => undoDelete(album, position) },
    });
    refreshCounts();
  } catch (err) {
    state.busyRank = null;
    await deleteFailed(pending, album, err);
  }
}

async function deleteFailed(pending, album, err) {
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
    removeRow(pending.rank);
    render();
    confirmAction(`Album ${pending.rank} was already deleted.`, { kind: 'info' });
    refreshCounts();
    return;
  }
  render(`delete-${pending.rank}`);
  actionFailed(describeApiError(err));
}

async function undoDelete(album, position) {
  const { Rank, Album } = album;
  try {
    const restored = await createAlbum(albumBody(album));
    insertRow(restored, position);
    render(`edit-${Rank}`);
    confirmAction(`Restored album ${Rank}: “${Album}”.`);
    refreshCounts();
  } catch (err) {
    if (await handleFailure(err)) return;
    actionFailed(
      err.code === 'rank_taken'
        ? `Rank ${Rank} was taken by another album in the meantime, so “${Album}” was not restored.`
        : describeApiError(err),
    );
  }
}
