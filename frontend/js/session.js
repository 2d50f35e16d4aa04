// Guard for pages that need a signed-in user (dashboard, add album, account): redirects to sign-in when there is no
// session, fills the header (#user-name, #user-email), wires #sign-out, shows the previous page's flash message as a
// toast, and keeps album data out of the back/forward cache: onLeave runs on pagehide (clear the data), and a page
// restored from that cache is re-checked before onReturn.
import { hasStoredSession, currentSession, profileOf, setFlash, signOut, takeFlash } from './auth.js';
import { byId } from './dom.js';
import { showToast } from './toast.js';

function toSignIn() {
  window.location.replace('signin.html');
}

/** Resolves to {session, profile} for a signed-in user; otherwise redirects and resolves to null. */
export async function requireSignIn({ onLeave = () => {}, onReturn = () => {} } = {}) {
  const current = await currentSession();
  if (!current) {
    toSignIn();
    return null;
  }
  const profile = profileOf(current.session);
  byId('user-name').textContent = profile.name;
  byId('user-email').textContent = profile.email;

  const signOutButton = byId('sign-out');
  signOutButton.addEventListener('click', async () => {
    signOutButton.disabled = true;
    signOutButton.textContent = 'Signing out…';
    onLeave();
    await signOut();
    setFlash('You are signed out.', 'success');
    toSignIn();
  });

  window.addEventListener('pagehide', () => onLeave());
  window.addEventListener('pageshow', (event) => {
    if (!event.persisted) return;
    if (!hasStoredSession()) {
      toSignIn();
      return;
    }
    onReturn();
  });

  document.body.dataset.auth = 'ok';
  const flash = takeFlash();
  if (flash) showToast({ message: flash.text, kind: flash.kind });
  return { session: current.session, profile };
}

/** The API said the session is over (refresh failed): forget it and go to sign-in. */
export async function sessionEnded() {
  await signOut();
  setFlash('Your session has ended. Sign in again.', 'info');
  toSignIn();
}
