// add-album.html — one input per album field (album-fields.js), in its order, built into #album-fields:
// #album-<name in lower case> (#album-rank, #album-title for Album, #album-artist, #album-genre, #album-year, …)
// named after the field, errors [data-error-for=<name>] (#<input id>-error), hints [data-hint-for=<name>];
// #album-form, #album-submit, #album-form-message. An optional field may stay empty (it is then not sent).
// Success -> dashboard.html?added=<Rank>.
import { ApiError, createAlbum, describeApiError } from '../api.js';
import { ALBUM_FIELDS, apiValue } from '../album-fields.js';
import { NotSignedInError, setFlash } from '../auth.js';
import { byId, clearMessage, el, showMessage } from '../dom.js';
import {
  applyFieldChecks,
  checkFields,
  clearFieldErrors,
  focusFirstInvalid,
  showFieldErrors,
  whileBusy,
} from '../forms.js';
import { requireSignIn, sessionEnded } from '../session.js';
import { showToast } from '../toast.js';

const form = byId('album-form');
const message = byId('album-form-message');

function fieldBlock(field) {
  const id = `album-${field.slug}`;
  return el(
    'div',
    { class: 'field' },
    el('label', { for: id, text: field.label }),
    el('span', { class: 'hint', id: `${id}-hint`, dataset: { hintFor: field.name } }),
    el('input', {
      id,
      name: field.name,
      type: 'text',
      autocomplete: field.numeric ? 'off' : null,
      'aria-describedby': `${id}-error ${id}-hint`,
    }),
    el('span', { class: 'field-error', id: `${id}-error`, dataset: { errorFor: field.name } }),
  );
}

byId('album-fields').replaceChildren(...ALBUM_FIELDS.map(fieldBlock));
const inputs = ALBUM_FIELDS.map((field) => ({ field, input: form.elements.namedItem(field.name) }));

function albumFromForm() {
  const album = {};
  // Every input is a text input (numeric ones with inputmode=numeric) so the checks see what was typed.
  for (const { field, input } of inputs) {
    const value = apiValue(field, input.value);
    if (value !== '' || field.required) album[field.name] = value;
  }
  return album;
}

async function submit(event) {
  event.preventDefault();
  clearMessage(message);
  clearFieldErrors(form);
  if (!checkFields(form, inputs.map(({ input }) => input))) {
    showMessage(message, 'Some values need fixing. See the messages next to the fields.', 'error');
    return;
  }
  const album = albumFromForm();
  await whileBusy(form, 'Adding…', async () => {
    try {
      const created = await createAlbum(album);
      window.location.assign(`dashboard.html?added=${encodeURIComponent(created.Rank)}`);
    } catch (err) {
      await failed(err, album);
    }
  });
  focusFirstInvalid(form);
}

async function failed(err, album) {
  if (err instanceof NotSignedInError) {
    await sessionEnded();
    return;
  }
  if (!(err instanceof ApiError)) console.error(err);
  if (!(err instanceof ApiError) || err.status === 0 || err.status >= 500) {
    // Nothing wrong with the fields: say so where the user looks, and offer to send the same album again.
    const text = describeApiError(err);
    showMessage(message, text, 'error');
    showToast({ message: text, kind: 'error', action: { label: 'Try again', onClick: () => form.requestSubmit() } });
    return;
  }
  if (err.code === 'rank_taken') {
    showFieldErrors(form, { Rank: `Rank ${album.Rank} is already taken by another album.` });
    showMessage(message, `Rank ${album.Rank} is already taken. Choose a free Rank.`, 'error');
    return;
  }
  const unplaced = showFieldErrors(form, err.fields || {});
  showMessage(message, [describeApiError(err), ...unplaced].join(' '), 'error');
}

async function main() {
  const signedIn = await requireSignIn({ onLeave: () => form.reset() });
  if (!signedIn) return;
  if (!signedIn.profile.isEditor) {
    setFlash('Only editors can add albums. You can read them.', 'info');
    window.location.replace('dashboard.html');
    return;
  }
  applyFieldChecks(form, ALBUM_FIELDS);
  form.addEventListener('submit', submit);
  inputs[0]?.input.focus();
}

main();
