// signin.html — ids: #signin-form, #signin-email (e-mail or username), #signin-password, #signin-submit,
// #signin-message. Wrong password and unknown account both say "Incorrect username, e-mail or password."; an
// unconfirmed account goes to verify.html with the login filled in. Already signed in: straight to the dashboard.
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
    try {
      await signIn(email, passwordInput.value);
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
    window.location.replace('dashboard.html');
  });
});
