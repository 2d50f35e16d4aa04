// verify.html — ids: #verify-form, #verify-email, #verify-code, #verify-submit, #resend-code, #verify-message,
// #mailbox-hint / #mailbox-link (only when config.mailboxUrl is set, i.e. locally).
// The password is not known here, so after confirming we go to sign-in with the e-mail filled in.
import { rememberEmail, rememberedEmail, setFlash, takeFlash } from '../auth.js';
import { byId } from '../dom.js';
import { setupVerify } from '../verify-step.js';

const verify = setupVerify({
  email: rememberedEmail(),
  onConfirmed: (email) => {
    rememberEmail(email);
    setFlash('Your e-mail is verified. Sign in to continue.', 'success');
    window.location.assign('signin.html');
  },
});

const flash = takeFlash();
if (flash) verify.message(flash.text, flash.kind);
(byId('verify-email').value ? byId('verify-code') : byId('verify-email')).focus();
