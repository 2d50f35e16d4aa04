// Edit in place: one row at a time, its inputs are the editable fields (album-fields.js); a 409 shows the album's
// current values under the row and keeps the user's own edits for the next Save.
import { describeApiError, updateAlbum } from '../api.js';
import { EDITABLE_FIELDS, apiValue, fieldNamed, shownValue } from '../album-fields.js';
import { fieldProblem, invalidFields } from '../forms.js';
import { handleFailure } from './access.js';
import { refreshCounts, removeRow, replaceRow } from './loading.js';
import { render } from './render.js';
import { actionFailed, confirmAction, say, state, ui } from './state.js';

function valuesOf(album) {
  return Object.fromEntries(EDITABLE_FIELDS.map((field) => [field.name, shownValue(field, album)]));
}

export function startEdit(rank) {
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
  render(EDITABLE_FIELDS.length ? `input-${EDITABLE_FIELDS[0].name}` : 'save');
}

/** What the user typed into one input (forms.js clears the message on the page as soon as the field is valid;
 * forget it here too, so a re-render does not bring it back). */
export function updateDraft(name, value) {
  if (!state.editing) return;
  state.editing.draft[name] = value;
  const input = ui.body.querySelector(`tr[data-editing="true"] input[name="${CSS.escape(name)}"]`);
  if (input && !fieldProblem(input)) delete state.editing.errors[name];
}

/** After a conflict: fields the user did not touch take the current values; the user's own edits stay. */
function rebase(editing, current) {
  for (const field of EDITABLE_FIELDS) {
    if (editing.draft[field.name] === editing.base[field.name]) editing.draft[field.name] = shownValue(field, current);
  }
  editing.base = valuesOf(current);
  editing.version = current.version;
  editing.conflict = current;
}

export function cancelEdit() {
  if (!state.editing || state.editing.saving) return;
  const { rank } = state.editing;
  state.editing = null;
  render(`edit-${rank}`);
}

/** The changed fields, as the API wants them; an optional field emptied is sent as '' (the API clears it). */
function changesFrom(album, draft) {
  const changes = {};
  for (const field of EDITABLE_FIELDS) {
    const value = apiValue(field, draft[field.name]);
    const now = album[field.name] ?? '';
    const same = field.numeric ? value === now : String(value).trim() === String(now).trim();
    if (!same) changes[field.name] = value;
  }
  return changes;
}

export async function saveEdit() {
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
    replaceRow(saved);
    state.editing = null;
    render(`edit-${saved.Rank}`);
    confirmAction(`Saved album ${saved.Rank}: “${saved.Album}”.`);
    refreshCounts();
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
    removeRow(editing.rank);
    state.editing = null;
    render();
    actionFailed(`Album ${editing.rank} was deleted by someone else.`);
    refreshCounts();
    return;
  }
  editing.errors = err.fields || {};
  const placed = (name) => fieldNamed(name)?.editable;
  const unplaced = Object.entries(editing.errors).filter(([name]) => !placed(name));
  editing.note = unplaced.length ? unplaced.map(([name, text]) => `${name}: ${text}`).join(' ') : '';
  const firstField = Object.keys(editing.errors).find(placed);
  render(firstField ? `input-${firstField}` : 'save');
  actionFailed(describeApiError(err));
}
