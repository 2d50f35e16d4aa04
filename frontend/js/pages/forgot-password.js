// forgot-password.html — ids: #forgot-form (#forgot-login, #forgot-submit, #forgot-message), then #reset-form
// (#reset-intro, #reset-code, #reset-password, #show-password, #password-rules, #reset-submit, #reset-resend,
// #reset-message, #mailbox-hint/#mailbox-link when running locally). A correct code and a new password that meets the
// pool's rules sign the user in and land on the dashboard (with two-step sign-in on: on signin.html for the code).
// Never tells whether an account exists: every login gets the same "if there is an account" step, and a wrong code
// reads the same as an unknown account.
import { config } from '../app-config.js';
import {
  confirmForgotPassword,
  currentSession,
  describeAuthError,
  forgotPassword,
  rememberEmail,
  rememberedEmail,
  setFlash,
  signIn,
} from '../auth.js';
import { byId, clearMessage, showMessage } from '../dom.js';
import { checkFields, clearFieldErrors, livePasswordRules, requiredCheck, setFieldCheck, whileBusy } from '../forms.js';

currentSession().then((signedIn) => signedIn && window.location.replace('dashboard.html'));

const forgotForm = byId('forgot-form');
const loginInput = byId('forgot-login');
const forgotMessage = byId('forgot-message');
const resetForm = byId('reset-form');
const codeInput = byId('reset-code');
const passwordInput = byId('reset-password');
const resetMessage = byId('reset-message');
setFieldCheck(loginInput, requiredCheck('Enter your e-mail or username.'));
setFieldCheck(codeInput, requiredCheck('Enter the code from the e-mail.'));
livePasswordRules(passwordInput, byId('password-rules'));
byId('show-password').addEventListener('change', (event) => {
  passwordInput.type = event.target.checked ? 'text' : 'password';
});
if (config.mailboxUrl) {
  byId('mailbox-link').href = config.mailboxUrl;
  byId('mailbox-hint').hidden = false;
}
if (!loginInput.value) loginInput.value = rememberedEmail(); // never over what was typed before this module ran
loginInput.focus();

let login = '';

// Only these mean "nothing was sent, try later"; any other answer (an unknown or unverified account included) gets
// the same next step as a real one, so the page cannot be used to find out who has an account.
const TRY_LATER = new Set(['LimitExceededException', 'TooManyRequestsException', 'NetworkError']);

async function sendCode(form, region) {
  try {
    await forgotPassword(login);
  } catch (err) {
    const code = err?.code || err?.name || '';
    if (TRY_LATER.has(code) || /network|fetch/i.test(err?.message || '')) {
      showMessage(region, describeAuthError(err, 'reset'), 'error');
      return false;
    }
  }
  return true;
}

forgotForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearMessage(forgotMessage);
  clearFieldErrors(forgotForm);
  if (!checkFields(forgotForm, [loginInput])) return;
  login = loginInput.value.trim();
  await whileBusy(forgotForm, 'Sending…', async () => {
    if (!(await sendCode(forgotForm, forgotMessage))) return;
    rememberEmail(login);
    byId('reset-intro').textContent =
      `If “${login}” has an account, we have e-mailed a code to its address. Enter it and choose a new password.`;
    forgotForm.hidden = true;
    resetForm.hidden = false;
    codeInput.focus();
  });
});

byId('reset-resend').addEventListener('click', async () => {
  clearMessage(resetMessage);
  await whileBusy(resetForm, null, async () => {
    if (await sendCode(resetForm, resetMessage)) {
      showMessage(resetMessage, 'If there is an account, a new code is on its way. Use the latest e-mail.', 'info');
      codeInput.focus();
    }
  });
});

resetForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearMessage(resetMessage);
  clearFieldErrors(resetForm);
  codeInput.value = codeInput.value.replace(/\s+/g, '');
  if (!checkFields(resetForm, [codeInput, passwordInput])) return;
  await whileBusy(resetForm, 'Saving…', async () => {
    try {
      await confirmForgotPassword(login, codeInput.value, passwordInput.value);
    } catch (err) {
      showMessage(resetMessage, describeAuthError(err, 'reset'), 'error');
      ((err?.code || err?.name) === 'InvalidPasswordException' ? passwordInput : codeInput).focus();
      return;
    }
    await signInWithTheNewPassword();
  });
});

async function signInWithTheNewPassword() {
  const password = passwordInput.value;
  passwordInput.value = '';
  try {
    const result = await signIn(login, password);
    if (!result.codeNeeded) {
      setFlash('Your password is changed.', 'success');
      window.location.replace('dashboard.html');
      return;
    }
  } catch {
    // e.g. a network failure between the two calls: the password is set all the same
  }
  setFlash('Your password is changed. Sign in with it (and your authenticator code).', 'success');
  window.location.replace('signin.html');
}
