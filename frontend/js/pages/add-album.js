// add-album.html — ids: #album-form, inputs #album-rank/#album-title/#album-artist/#album-genre/#album-year
// (named Rank/Album/Artist/Genre/Year), errors [data-error-for=<name>] (#<input id>-error), hints
// [data-hint-for=<name>], #album-submit, #album-form-message. Success -> dashboard.html?added=<Rank>.
import { ApiError, createAlbum, describeApiError } from '../api.js';
import { config } from '../app-config.js';
import { NotSignedInError, setFlash } from '../auth.js';
import { byId, clearMessage, showMessage } from '../dom.js';
import {
  applySchemaHints,
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
const inputs = config.albumSchema.required.map((name) => form.elements.namedItem(name)); // the fields the API needs

function albumFromForm() {
  const album = {};
  // Rank and Year are text inputs (inputmode=numeric) so the checks see what was typed, not the browser's ''.
  for (const input of inputs) album[input.name] = input.inputMode === 'numeric' ? Number(input.value.trim()) : input.value;
  return album;
}

async function submit(event) {
  event.preventDefault();
  clearMessage(message);
  clearFieldErrors(form);
  if (!checkFields(form, inputs)) {
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
  applySchemaHints(form, config.albumSchema);
  form.addEventListener('submit', submit);
  byId('album-rank').focus();
}

main();
