// account.html — the signed-in user's own account, through the Cognito SDK. Ids for tests:
// #account-role; change password: #password-form (#current-password, #new-password, #show-password,
// #password-rules, #password-submit, #password-message); two-step sign-in: #two-step-status
// ([data-state=on|off]), #two-step-message, #two-step-on, #two-step-off (+ dialog#two-step-off-dialog with
// #two-step-off-confirm, #two-step-off-cancel), #two-step-setup (#two-step-qr: an <img> of the QR code of the
// otpauth:// address, #two-step-secret: the same key as text, #two-step-code, #two-step-verify, #two-step-cancel);
// delete: #delete-account-form (#delete-account-name, #delete-account-confirm, #delete-account-submit,
// #delete-account-message). Header and sign-out as on the dashboard.
import qrcode from '../../vendor/qrcode.mjs';
import {
  changePassword,
  deleteAccount,
  describeAuthError,
  NotSignedInError,
  newAuthenticatorSecret,
  setFlash,
  turnOffTwoStep,
  turnOnTwoStep,
  twoStepEnabled,
} from '../auth.js';
import { byId, clearMessage, showMessage } from '../dom.js';
import { checkFields, clearFieldErrors, livePasswordRules, requiredCheck, setFieldCheck, whileBusy } from '../forms.js';
import { requireSignIn, sessionEnded } from '../session.js';

const ISSUER = 'Albums';

/** A Cognito call that may find the session over: sign-in page then; otherwise the page says what went wrong. */
async function attempt(work, region, context) {
  try {
    await work();
    return true;
  } catch (err) {
    if (err instanceof NotSignedInError) {
      await sessionEnded();
      return false;
    }
    showMessage(region, describeAuthError(err, context), 'error');
    return false;
  }
}

// ---- change password ---------------------------------------------------------------------------------------------

function wirePassword() {
  const form = byId('password-form');
  const current = byId('current-password');
  const next = byId('new-password');
  const message = byId('password-message');
  setFieldCheck(current, requiredCheck('Enter your current password.'));
  livePasswordRules(next, byId('password-rules'));
  byId('show-password').addEventListener('change', (event) => {
    const type = event.target.checked ? 'text' : 'password';
    current.type = type;
    next.type = type;
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearMessage(message);
    clearFieldErrors(form);
    if (!checkFields(form, [current, next])) return;
    if (current.value === next.value) {
      showMessage(message, 'The new password is the same as the current one. Choose another.', 'error');
      next.focus();
      return;
    }
    await whileBusy(form, 'Changing…', async () => {
      const done = await attempt(() => changePassword(current.value, next.value), message, 'change-password');
      if (!done) {
        current.focus();
        return;
      }
      form.reset();
      next.dispatchEvent(new Event('input'));
      showMessage(message, 'Your password is changed. Use the new one from your next sign-in.', 'success');
    });
  });
}

// ---- two-step sign-in --------------------------------------------------------------------------------------------

const twoStep = {
  status: byId('two-step-status'),
  message: byId('two-step-message'),
  on: byId('two-step-on'),
  off: byId('two-step-off'),
  setup: byId('two-step-setup'),
  qr: byId('two-step-qr'),
  secret: byId('two-step-secret'),
  code: byId('two-step-code'),
  dialog: byId('two-step-off-dialog'),
};

function showTwoStep(enabled) {
  twoStep.status.dataset.state = enabled ? 'on' : 'off';
  twoStep.status.textContent = enabled
    ? 'On: after your password, sign-in asks for the code your authenticator app shows.'
    : 'Off: you sign in with your password alone. Turn it on to also need a code from an authenticator app.';
  twoStep.on.hidden = enabled;
  twoStep.off.hidden = !enabled;
  twoStep.setup.hidden = true;
}

/** otpauth://totp/Albums:<username>?secret=…&issuer=Albums — what authenticator apps read from the QR code. */
function otpauthUri(username, secret) {
  const label = `${encodeURIComponent(ISSUER)}:${encodeURIComponent(username)}`;
  return `otpauth://totp/${label}?secret=${encodeURIComponent(secret)}&issuer=${encodeURIComponent(ISSUER)}`;
}

function qrDataUrl(text) {
  const code = qrcode(0, 'M'); // the smallest version that holds the address; medium error correction
  code.addData(text, 'Byte');
  code.make();
  return code.createDataURL(6, 4); // 6 px per module, the 4-module quiet zone scanners need
}

function wireTwoStep(username) {
  setFieldCheck(twoStep.code, (value) => (/^\s*\d{6}\s*$/.test(value) ? '' : 'Enter the 6-digit code from your app.'));

  twoStep.on.addEventListener('click', async () => {
    clearMessage(twoStep.message);
    twoStep.on.disabled = true;
    let secret = '';
    const done = await attempt(async () => {
      secret = await newAuthenticatorSecret();
    }, twoStep.message, 'two-step');
    twoStep.on.disabled = false;
    if (!done) return;
    twoStep.secret.textContent = secret.replace(/(.{4})/g, '$1 ').trim(); // readable in groups of four
    twoStep.qr.src = qrDataUrl(otpauthUri(username, secret));
    twoStep.on.hidden = true;
    twoStep.setup.hidden = false;
    twoStep.code.value = '';
    twoStep.code.focus();
  });

  twoStep.setup.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearMessage(twoStep.message);
    clearFieldErrors(twoStep.setup);
    if (!checkFields(twoStep.setup, [twoStep.code])) return;
    await whileBusy(twoStep.setup, 'Checking…', async () => {
      if (!(await attempt(() => turnOnTwoStep(twoStep.code.value), twoStep.message, 'two-step'))) {
        twoStep.code.select();
        return;
      }
      forgetSecret();
      showTwoStep(true);
      showMessage(twoStep.message, 'Two-step sign-in is on. Your next sign-in asks for a code from the app.', 'success');
    });
  });

  byId('two-step-cancel').addEventListener('click', () => {
    forgetSecret();
    showTwoStep(false);
    clearMessage(twoStep.message);
    twoStep.on.focus();
  });

  twoStep.off.addEventListener('click', () => {
    clearMessage(twoStep.message);
    twoStep.dialog.returnValue = '';
    twoStep.dialog.showModal();
    byId('two-step-off-cancel').focus();
  });
  twoStep.dialog.addEventListener('close', async () => {
    if (twoStep.dialog.returnValue !== 'confirm') return;
    twoStep.off.disabled = true;
    const done = await attempt(() => turnOffTwoStep(), twoStep.message, 'two-step');
    twoStep.off.disabled = false;
    if (!done) return;
    showTwoStep(false);
    showMessage(twoStep.message, 'Two-step sign-in is off. You sign in with your password alone.', 'success');
    twoStep.on.focus();
  });
}

function forgetSecret() {
  twoStep.secret.textContent = '';
  twoStep.qr.removeAttribute('src');
  twoStep.code.value = '';
}

async function loadTwoStep() {
  let enabled = false;
  const done = await attempt(async () => {
    enabled = await twoStepEnabled();
  }, twoStep.message, 'two-step');
  if (done) showTwoStep(enabled);
  else twoStep.status.textContent = 'Could not check whether two-step sign-in is on.';
}

// ---- delete the account ------------------------------------------------------------------------------------------

function wireDelete(username) {
  const form = byId('delete-account-form');
  const confirmInput = byId('delete-account-confirm');
  const message = byId('delete-account-message');
  byId('delete-account-name').textContent = username;
  setFieldCheck(confirmInput, (value) =>
    value.trim().toLowerCase() === username.toLowerCase() ? '' : `Type your username, ${username}, to confirm.`);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearMessage(message);
    clearFieldErrors(form);
    if (!checkFields(form, [confirmInput])) return;
    await whileBusy(form, 'Deleting…', async () => {
      if (!(await attempt(() => deleteAccount(), message, 'account-delete'))) return;
      setFlash('Your account is deleted, and you are signed out everywhere.', 'success');
      window.location.replace('signin.html');
    });
  });
}

async function main() {
  const signedIn = await requireSignIn({
    onLeave: () => {
      forgetSecret();
      byId('password-form').reset();
    },
  });
  if (!signedIn) return;
  const { profile } = signedIn;
  byId('account-role').textContent = profile.isEditor
    ? 'You are an editor: you can add, change and delete albums.'
    : 'You are a reader: you can read the albums; only editors can change them.';
  wirePassword();
  wireTwoStep(profile.name);
  wireDelete(profile.name);
  await loadTwoStep();
}

main();
