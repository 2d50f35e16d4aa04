// The "enter your code" step, shared by verify.html and the second step of signup.html (same ids on both pages).
import { config } from './app-config.js';
import { confirmSignUp, describeAuthError, resendCode } from './auth.js';
import { byId, clearMessage, showMessage } from './dom.js';
import { checkFields, clearFieldErrors, requiredCheck, setFieldCheck, whileBusy } from './forms.js';

/**
 * Wire #verify-form. onConfirmed(email) runs after Cognito confirms the account.
 * Returns {message(text, kind)} so the page can add its own notes to #verify-message.
 */
export function setupVerify({ email = '', onConfirmed }) {
  const form = byId('verify-form');
  const emailInput = byId('verify-email');
  const codeInput = byId('verify-code');
  const resendButton = byId('resend-code');
  const message = byId('verify-message');

  emailInput.value = email;
  setFieldCheck(emailInput, requiredCheck('Enter your e-mail or username.'));
  setFieldCheck(codeInput, requiredCheck('Enter the code from the e-mail.'));
  if (config.mailboxUrl) {
    const link = byId('mailbox-link');
    link.href = config.mailboxUrl;
    byId('mailbox-hint').hidden = false;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearMessage(message);
    clearFieldErrors(form);
    codeInput.value = codeInput.value.replace(/\s+/g, '');
    if (!checkFields(form, [emailInput, codeInput])) return;
    const address = emailInput.value.trim();
    await whileBusy(form, 'Verifying…', async () => {
      try {
        await confirmSignUp(address, codeInput.value);
      } catch (err) {
        showMessage(message, describeAuthError(err, 'verify'), 'error');
        codeInput.focus();
        return;
      }
      showMessage(message, 'Your e-mail is verified.', 'success');
      await onConfirmed(address);
    });
  });

  resendButton.addEventListener('click', async () => {
    clearMessage(message);
    clearFieldErrors(form);
    if (!checkFields(form, [emailInput])) return;
    const address = emailInput.value.trim();
    await whileBusy(form, null, async () => {
      try {
        await resendCode(address);
        showMessage(message, `A new code is on its way to ${address}.`, 'success');
        codeInput.focus();
      } catch (err) {
        showMessage(message, describeAuthError(err, 'resend'), 'error');
      }
    });
  });

  return { message: (text, kind) => showMessage(message, text, kind) };
}
