// Rows of the albums table, in view or edit mode, and its header, built with createElement/textContent only; the
// columns are the album's fields (album-fields.js), in their order.
// Row contract (for tests): tr[data-testid="album-row"][data-rank=N], cells td[data-field=<field name>],
// buttons [data-testid=edit-album|delete-album|save-album|cancel-edit], edit inputs [data-testid=edit-<Field>] (the
// editable fields), notes under a row tr[data-testid=row-message] (conflict values in [data-testid=conflict-current]
// strong[data-field]). Header: th[aria-sort] > button.sort[data-sort-key=<field name>] for each sortable field.
import { ALBUM_FIELDS, EDITABLE_FIELDS, shownValue } from './album-fields.js';
import { el } from './dom.js';
import { applyFieldChecks } from './forms.js';

const COLUMN_COUNT = ALBUM_FIELDS.length + 1;

/** The table's <colgroup> and <thead>: one column per field (a sort button when the API sorts by it), then Actions. */
export function renderHead(table) {
  const columns = el(
    'colgroup',
    {},
    ALBUM_FIELDS.map((field) => el('col', { class: `col-${field.slug}${field.numeric ? ' numeric' : ''}` })),
    el('col', { class: 'col-actions' }),
  );
  const head = el(
    'thead',
    {},
    el(
      'tr',
      {},
      ALBUM_FIELDS.map((field) =>
        el(
          'th',
          { scope: 'col', 'aria-sort': field.sortable ? 'none' : null },
          field.sortable
            ? el('button', {
              type: 'button',
              class: 'sort',
              text: field.label,
              'aria-label': `Sort all albums by ${field.label}`,
              dataset: { sortKey: field.name },
            })
            : field.label,
        ),
      ),
      el('th', { scope: 'col' }, el('span', { class: 'visually-hidden', text: 'Actions' })),
    ),
  );
  table.querySelector(':scope > colgroup')?.remove();
  table.querySelector(':scope > thead')?.remove();
  table.querySelector(':scope > caption').after(columns, head);
}

function cell(field, content) {
  return el('td', { class: field.numeric ? 'numeric' : null, dataset: { field: field.name, label: field.label } },
    content);
}

function describe(album) {
  return `album ${album.Rank}, ${album.Album}`;
}

function viewRow(album, { actions, busyRank, highlightRank, editing, readOnly }) {
  const busy = busyRank === album.Rank;
  const locked = busy || editing != null; // one row at a time: no Edit/Delete elsewhere while a row is edited
  // A reader's rows have no Edit or Delete: the API would refuse them (403), so the page does not offer them.
  const buttons = readOnly ? [] : [
    el('button', {
      type: 'button',
      class: 'button small',
      text: 'Edit',
      'data-testid': 'edit-album',
      'aria-label': `Edit ${describe(album)}`,
      dataset: { focusKey: `edit-${album.Rank}` },
      disabled: locked,
      onclick: () => actions.edit(album.Rank),
    }),
    el('button', {
      type: 'button',
      class: 'button small danger',
      text: busy ? 'Deleting…' : 'Delete',
      'data-testid': 'delete-album',
      'aria-label': `Delete ${describe(album)}`,
      dataset: { focusKey: `delete-${album.Rank}` },
      disabled: locked,
      onclick: () => actions.delete(album.Rank),
    }),
  ];
  return el(
    'tr',
    {
      'data-testid': 'album-row',
      dataset: { rank: String(album.Rank), version: String(album.version ?? '') },
      class: album.Rank === highlightRank ? 'is-new' : null,
      'aria-busy': busy ? 'true' : null,
    },
    ALBUM_FIELDS.map((field) => cell(field, shownValue(field, album))),
    el('td', { class: 'row-actions', dataset: { label: 'Actions' } }, buttons),
  );
}

function editInput(field, editing, actions) {
  const { name } = field;
  const errorId = `edit-${name}-error`;
  const input = el('input', {
    name,
    type: 'text',
    class: 'cell-input',
    value: editing.draft[name],
    'data-testid': `edit-${name}`,
    'aria-label': `${field.label} for album ${editing.rank}`,
    'aria-describedby': errorId,
    'aria-invalid': editing.errors[name] ? 'true' : null,
    dataset: { focusKey: `input-${name}`, label: field.label },
    disabled: editing.saving,
    oninput: (event) => actions.draft(name, event.target.value),
  });
  const td = cell(
    field,
    [input, el('span', { id: errorId, class: 'field-error', dataset: { errorFor: name }, text: editing.errors[name] || '' })],
  );
  applyFieldChecks(td, [field]);
  return td;
}

function editRow(album, editing, actions) {
  const row = el(
    'tr',
    {
      'data-testid': 'album-row',
      class: 'is-editing',
      dataset: { rank: String(album.Rank), version: String(editing.version), editing: 'true' },
      'aria-busy': editing.saving ? 'true' : null,
      onkeydown: (event) => {
        if (event.key === 'Escape') actions.cancel();
        if (event.key === 'Enter' && event.target.matches('input')) {
          event.preventDefault();
          actions.save();
        }
      },
    },
    ALBUM_FIELDS.map((field) =>
      field.editable ? editInput(field, editing, actions) : cell(field, shownValue(field, album))),
    el(
      'td',
      { class: 'row-actions', dataset: { label: 'Actions' } },
      el('button', {
        type: 'button',
        class: 'button small primary',
        text: editing.saving ? 'Saving…' : 'Save',
        'data-testid': 'save-album',
        'aria-label': `Save ${describe(album)}`,
        dataset: { focusKey: 'save' },
        disabled: editing.saving,
        onclick: () => actions.save(),
      }),
      el('button', {
        type: 'button',
        class: 'button small',
        text: 'Cancel',
        'data-testid': 'cancel-edit',
        'aria-label': `Cancel editing ${describe(album)}`,
        disabled: editing.saving,
        onclick: () => actions.cancel(),
      }),
    ),
  );
  return [row, noteRow(editing)];
}

function conflictNote(current) {
  return [
    'Someone else changed this album after you loaded it. It now reads: ',
    el(
      'span',
      { 'data-testid': 'conflict-current', class: 'conflict-values' },
      EDITABLE_FIELDS.map((field, index) => [
        index > 0 ? ' · ' : '',
        `${field.label} `,
        el('strong', { dataset: { field: field.name }, text: shownValue(field, current) }),
      ]),
    ),
    '. Your own changes are kept in the fields (the others now show the current values): ' +
      'Save again to apply them, or Cancel to keep the album as it is.',
  ];
}

function noteRow(editing) {
  if (!editing.conflict && !editing.note) return null;
  const content = editing.conflict ? conflictNote(editing.conflict) : [editing.note];
  return el(
    'tr',
    { class: 'row-note', 'data-testid': 'row-message' },
    el('td', { colspan: String(COLUMN_COUNT) }, el('p', {}, content)),
  );
}

// View rows already built, by Rank: a row is rebuilt only when its album object or its state changed, so a new
// page, a sort or a search result moves existing nodes instead of rebuilding hundreds of rows.
const built = new Map();

function viewRowFor(album, view) {
  const busy = view.busyRank === album.Rank;
  const state = `${busy}|${view.highlightRank === album.Rank}|${Boolean(view.readOnly)}`;
  let cached = built.get(album.Rank);
  if (!cached || cached.album !== album || cached.state !== state) {
    cached = { album, state, node: viewRow(album, view), locked: busy || view.editing != null };
    built.set(album.Rank, cached);
  }
  // Starting or ending an edit locks or unlocks every other row: flip their buttons, do not rebuild the rows.
  const locked = busy || view.editing != null;
  if (cached.locked !== locked) {
    for (const button of cached.node.querySelectorAll('button')) button.disabled = locked;
    cached.locked = locked;
  }
  return cached.node;
}

/** Empty the table body and drop every cached row. */
export function forgetRows(tbody) {
  built.clear();
  tbody.replaceChildren();
}

/**
 * Replace the table body. view: {editing, busyRank, highlightRank, actions, readOnly}; keeps keyboard focus on the
 * "same" control (matched by data-focus-key) across re-renders, or moves it to view.focusKey when given.
 */
export function renderRows(tbody, albums, view) {
  const active = document.activeElement;
  const focusKey = view.focusKey || (tbody.contains(active) ? active.dataset.focusKey : null);
  const rows = albums.flatMap((album) =>
    view.editing?.rank === album.Rank
      ? editRow(album, view.editing, view.actions)
      : [viewRowFor(album, view)],
  );
  const shown = new Set(albums.map((album) => album.Rank));
  for (const rank of built.keys()) if (!shown.has(rank)) built.delete(rank);
  tbody.replaceChildren(...rows.filter(Boolean));
  if (focusKey) {
    const target = tbody.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`);
    if (target && target !== document.activeElement) target.focus();
  }
}
