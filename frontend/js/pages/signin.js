// signin.html — ids: #signin-form, #signin-email (e-mail or username), #signin-password, #signin-submit,
// #signin-message, #forgot-link. Wrong password and unknown account both say "Incorrect username, e-mail or
// password."; an unconfirmed account goes to verify.html with the login filled in. With two-step sign-in on, the
// password is followed by #signin-code-form (#signin-code, #signin-code-submit, #signin-code-cancel,
// #signin-code-message): a wrong code is refused and may be tried again. Already signed in: to the dashboard.
import {
  currentSession,
  describeAuthError,
  rememberEmail,
  rememberedEmail,
  setFlash,
  signIn,
  takeFlash,
} from '../auth.js';
import { byId, clearMessage, showMessage } from '../dom.js';
import { checkFields, clearFieldErrors, requiredCheck, setFieldCheck, whileBusy } from '../forms.js';

// Not awaited: the form is wired at once (a refresh of stale tokens may take a network round trip).
currentSession().then((signedIn) => signedIn && window.location.replace('dashboard.html'));

const form = byId('signin-form');
const emailInput = byId('signin-email');
const passwordInput = byId('signin-password');
const message = byId('signin-message');
const codeForm = byId('signin-code-form');
const codeInput = byId('signin-code');
const codeMessage = byId('signin-code-message');
setFieldCheck(codeInput, (value) => (/^\s*\d{6}\s*$/.test(value) ? '' : 'Enter the 6-digit code from your app.'));
let pendingCode = null; // the sign-in waiting for the authenticator's code (password checked already)
setFieldCheck(emailInput, requiredCheck('Enter your e-mail or username.'));
setFieldCheck(passwordInput, requiredCheck('Enter your password.'));

const flash = takeFlash();
if (flash) showMessage(message, flash.text, flash.kind);
emailInput.value = rememberedEmail();
(emailInput.value ? passwordInput : emailInput).focus();

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearMessage(message);
  clearFieldErrors(form);
  if (!checkFields(form, [emailInput, passwordInput])) return;
  const email = emailInput.value.trim();
  await whileBusy(form, 'Signing in…', async () => {
    let result;
    try {
      result = await signIn(email, passwordInput.value);
    } catch (err) {
      if ((err?.code || err?.name) === 'UserNotConfirmedException') {
        rememberEmail(email);
        setFlash('Your e-mail is not verified yet. Enter the code we sent you, or send a new one.', 'info');
        window.location.assign('verify.html');
        return;
      }
      showMessage(message, describeAuthError(err, 'signin'), 'error');
      passwordInput.value = '';
      passwordInput.focus();
      return;
    }
    rememberEmail(email);
    if (result.codeNeeded) {
      askForCode(result.sendCode);
      return;
    }
    window.location.replace('dashboard.html');
  });
});

function askForCode(sendCode) {
  pendingCode = sendCode;
  passwordInput.value = '';
  form.hidden = true;
  codeForm.hidden = false;
  codeInput.value = '';
  clearMessage(codeMessage);
  codeInput.focus();
}

codeForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearMessage(codeMessage);
  clearFieldErrors(codeForm);
  if (!pendingCode || !checkFields(codeForm, [codeInput])) return;
  await whileBusy(codeForm, 'Checking…', async () => {
    try {
      await pendingCode(codeInput.value);
    } catch (err) {
      showMessage(codeMessage, describeAuthError(err, 'signin-code'), 'error');
      if ((err?.code || err?.name) === 'NotAuthorizedException') {
        startOver();
        showMessage(message, describeAuthError(err, 'signin-code'), 'error');
        return;
      }
      codeInput.select();
      return;
    }
    window.location.replace('dashboard.html');
  });
});

function startOver() {
  pendingCode = null;
  codeForm.hidden = true;
  form.hidden = false;
  passwordInput.focus();
}

byId('signin-code-cancel').addEventListener('click', () => {
  clearMessage(message);
  startOver();
});
