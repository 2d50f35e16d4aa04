// signup.html — ids: #signup-section, #signup-form, #signup-name, #signup-email, #signup-password,
// #show-password, #password-rules (li[data-rule][data-met]), #signup-submit, #signup-message;
// then #verify-section with the same verify ids as verify.html.
// Sign-up and verify share this page so the password stays in memory only, and verifying signs the user in.
import { describeAuthError, rememberEmail, setFlash, signIn, signUp } from '../auth.js';
import { byId, clearMessage, showMessage } from '../dom.js';
import { checkFields, clearFieldErrors, livePasswordRules, whileBusy } from '../forms.js';
import { setupVerify } from '../verify-step.js';

const form = byId('signup-form');
const nameInput = byId('signup-name');
const emailInput = byId('signup-email');
const passwordInput = byId('signup-password');
const message = byId('signup-message');
const checkPassword = livePasswordRules(passwordInput, byId('password-rules'));

// Held only in this closure until the account is verified; never written to storage.
let pending = null;

byId('show-password').addEventListener('change', (event) => {
  passwordInput.type = event.target.checked ? 'text' : 'password';
});

async function signInAfterVerify(email) {
  const credentials = pending && pending.email === email ? pending : null;
  pending = null;
  rememberEmail(email);
  if (!credentials) {
    setFlash('Your e-mail is verified. Sign in to continue.', 'success');
    window.location.assign('signin.html');
    return;
  }
  try {
    await signIn(credentials.email, credentials.password);
    window.location.replace('dashboard.html');
  } catch (err) {
    setFlash(`Your e-mail is verified, but signing in failed: ${describeAuthError(err, 'signin')}`, 'error');
    window.location.assign('signin.html');
  }
}

const verify = setupVerify({ onConfirmed: signInAfterVerify });

function showVerifyStep(email) {
  byId('signup-section').hidden = true;
  byId('verify-section').hidden = false;
  document.title = 'Verify your e-mail · Albums';
  byId('verify-email').value = email;
  verify.message(`We sent a verification code to ${email}.`, 'success');
  byId('verify-code').focus();
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearMessage(message);
  clearFieldErrors(form);
  checkPassword();
  if (!checkFields(form, [nameInput, emailInput, passwordInput])) return;
  const email = emailInput.value.trim();
  const password = passwordInput.value;
  await whileBusy(form, 'Creating account…', async () => {
    let result;
    try {
      result = await signUp({ email, password, displayName: nameInput.value.trim() });
    } catch (err) {
      showMessage(message, describeAuthError(err, 'signup'), 'error');
      ((err?.code || err?.name) === 'InvalidPasswordException' ? passwordInput : emailInput).focus();
      return;
    }
    form.reset();
    passwordInput.type = 'password';
    checkPassword();
    pending = { email, password };
    if (result.userConfirmed) {
      await signInAfterVerify(email);
      return;
    }
    showVerifyStep(email);
  });
});
