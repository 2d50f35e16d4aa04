// signup.html — ids: #signup-section, #signup-form, #signup-username, #signup-email, #signup-password,
// #show-password, #password-rules (li[data-rule][data-met]), #signup-submit, #signup-message;
// then #verify-section with the same verify ids as verify.html.
// Sign-up and verify share this page so the password stays in memory only, and verifying signs the user in.
// Already signed in: straight to the dashboard.
import { currentSession, describeAuthError, rememberEmail, setFlash, signIn, signUp } from '../auth.js';
import { byId, clearMessage, showMessage } from '../dom.js';
import {
  checkFields,
  clearFieldErrors,
  emailCheck,
  livePasswordRules,
  setFieldCheck,
  showFieldErrors,
  usernameCheck,
  usernameHint,
  whileBusy,
} from '../forms.js';
import { setupVerify } from '../verify-step.js';

// Not awaited: the form is wired at once (a refresh of stale tokens may take a network round trip).
currentSession().then((signedIn) => signedIn && window.location.replace('dashboard.html'));

const form = byId('signup-form');
const nameInput = byId('signup-username');
const emailInput = byId('signup-email');
const passwordInput = byId('signup-password');
const message = byId('signup-message');
const checkPassword = livePasswordRules(passwordInput, byId('password-rules'));
setFieldCheck(nameInput, usernameCheck);
setFieldCheck(emailInput, emailCheck);
byId('signup-username-hint').textContent = usernameHint();
nameInput.addEventListener('change', () => {
  nameInput.value = nameInput.value.trim().toLowerCase(); // what Cognito will hold (usernames are lower case)
});

// Held only in this closure until the account is verified; never written to storage.
let pending = null;

byId('show-password').addEventListener('change', (event) => {
  passwordInput.type = event.target.checked ? 'text' : 'password';
});

async function signInAfterVerify(login) {
  const credentials = pending && (pending.email === login || pending.username === login) ? pending : null;
  pending = null;
  rememberEmail(login);
  if (!credentials) {
    setFlash('Your e-mail is verified. Sign in to continue.', 'success');
    window.location.assign('signin.html');
    return;
  }
  try {
    await signIn(credentials.username, credentials.password);
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
  const username = nameInput.value.trim().toLowerCase();
  const password = passwordInput.value;
  await whileBusy(form, 'Creating account…', async () => {
    let result;
    try {
      result = await signUp({ username, email, password });
    } catch (err) {
      const code = err?.code || err?.name;
      const text = describeAuthError(err, 'signup');
      if (code === 'UsernameExistsException') showFieldErrors(form, { username: text });
      showMessage(message, text, 'error');
      ({ UsernameExistsException: nameInput, InvalidPasswordException: passwordInput }[code] || emailInput).focus();
      return;
    }
    form.reset();
    passwordInput.type = 'password';
    checkPassword();
    pending = { email, username, password };
    if (result.userConfirmed) {
      await signInAfterVerify(username);
      return;
    }
    showVerifyStep(email);
  });
});
