// Readers and editors, and failures that end the session or take the editor's role away. The API decides on every
// write; this only keeps the page honest (a reader gets no Add, Edit or Delete but #read-only-notice).
import { ApiError, describeApiError } from '../api.js';
import { NotSignedInError, refreshedProfile } from '../auth.js';
import { sessionEnded } from '../session.js';
import { render } from './render.js';
import { actionFailed, confirmAction, state, ui } from './state.js';

/** Show or hide what only editors may use. */
export function applyRole(isEditor) {
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
export async function checkAccess() {
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

/** The common part of every failure: signed out -> true (the session is over); a 403 -> read-only from now on;
 * fallback(text) gets the sentence for the user. */
export async function handleFailure(err, fallback) {
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
