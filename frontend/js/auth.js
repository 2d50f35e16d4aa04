// Cognito through the official browser SDK (global AmazonCognitoIdentity from vendor/amazon-cognito-identity.min.js).
// Tokens live where the SDK keeps them (localStorage, keyed by client id); passwords are never stored anywhere.
import { config } from './app-config.js';

const PREFILL_EMAIL_KEY = 'albums.prefillEmail';
const FLASH_KEY = 'albums.flash';
const SIGN_OUT_TIMEOUT_MS = 5000;

export class NotSignedInError extends Error {
  constructor(message = 'Not signed in') {
    super(message);
    this.name = 'NotSignedInError';
  }
}

function sdk() {
  const library = window.AmazonCognitoIdentity;
  if (!library) throw new Error('The Cognito SDK (vendor/amazon-cognito-identity.min.js) did not load');
  return library;
}

let pool = null;

function userPool() {
  if (!pool) {
    const data = { UserPoolId: config.userPoolId, ClientId: config.userPoolClientId };
    // Locally the pool lives in the emulator; on AWS the SDK derives the endpoint from the pool's region.
    if (config.cognitoEndpoint) data.endpoint = config.cognitoEndpoint;
    pool = new (sdk().CognitoUserPool)(data);
  }
  return pool;
}

function cognitoUser(email) {
  return new (sdk().CognitoUser)({ Username: email, Pool: userPool() });
}

/** Node-style callback -> promise. */
function call(fn) {
  return new Promise((resolve, reject) => fn((err, result) => (err ? reject(err) : resolve(result))));
}

export function signUp({ email, password, displayName }) {
  const { CognitoUserAttribute } = sdk();
  const attributes = [new CognitoUserAttribute({ Name: 'email', Value: email })];
  if (displayName) attributes.push(new CognitoUserAttribute({ Name: 'preferred_username', Value: displayName }));
  return call((done) => userPool().signUp(email, password, attributes, null, done));
}

export function confirmSignUp(email, code) {
  return call((done) => cognitoUser(email).confirmRegistration(code, false, done));
}

export function resendCode(email) {
  return call((done) => cognitoUser(email).resendConfirmationCode(done));
}

function unsupportedChallenge(name) {
  const error = new Error(`This account needs a sign-in step this site does not support (${name}).`);
  error.code = 'UnsupportedChallenge';
  return error;
}

export function signIn(email, password) {
  const { AuthenticationDetails } = sdk();
  const details = new AuthenticationDetails({ Username: email, Password: password });
  return new Promise((resolve, reject) => {
    cognitoUser(email).authenticateUser(details, {
      onSuccess: resolve,
      onFailure: reject,
      newPasswordRequired: () => reject(unsupportedChallenge('new password required')),
      mfaRequired: () => reject(unsupportedChallenge('SMS MFA')),
      totpRequired: () => reject(unsupportedChallenge('TOTP MFA')),
      selectMFAType: () => reject(unsupportedChallenge('MFA selection')),
      mfaSetup: () => reject(unsupportedChallenge('MFA setup')),
      customChallenge: () => reject(unsupportedChallenge('custom challenge')),
    });
  });
}

/** True when the SDK has tokens for someone (no network; use currentSession() to know they still work). */
export function hasStoredSession() {
  return userPool().getCurrentUser() !== null;
}

/**
 * The signed-in user's valid session, refreshed by the SDK when the ID token has expired; null when there is none
 * (or it can no longer be refreshed).
 */
export function currentSession() {
  const user = userPool().getCurrentUser();
  if (!user) return Promise.resolve(null);
  return new Promise((resolve) => {
    user.getSession((err, session) => resolve(err || !session || !session.isValid() ? null : { user, session }));
  });
}

/** The raw ID token for the API's Authorization header. */
export async function idToken() {
  const current = await currentSession();
  if (!current) throw new NotSignedInError();
  return current.session.getIdToken().getJwtToken();
}

/** Force a refresh (the API said 401 although the token looked valid, e.g. clock skew). */
export async function refreshedIdToken() {
  const current = await currentSession();
  if (!current) throw new NotSignedInError();
  try {
    const session = await call((done) => current.user.refreshSession(current.session.getRefreshToken(), done));
    return session.getIdToken().getJwtToken();
  } catch {
    throw new NotSignedInError('Your session has ended');
  }
}

/** Display identity from the ID token (getUsername() is the sub UUID, not something to show). */
export function profileOf(session) {
  const claims = session.getIdToken().decodePayload();
  return { email: claims.email || '', name: claims.preferred_username || claims.email || '' };
}

function clearTokens() {
  const prefix = `CognitoIdentityServiceProvider.${config.userPoolClientId}.`;
  const keys = [];
  for (let i = 0; i < localStorage.length; i += 1) {
    const key = localStorage.key(i);
    if (key && key.startsWith(prefix)) keys.push(key);
  }
  keys.forEach((key) => localStorage.removeItem(key));
}

function globalSignOut(user) {
  // Ends every session of this user at Cognito (refresh tokens revoked). Best effort: never blocks sign-out.
  const attempt = new Promise((resolve) => {
    user.getSession((err) => {
      if (err) return resolve();
      user.globalSignOut({ onSuccess: resolve, onFailure: resolve });
      return undefined;
    });
  });
  const timeout = new Promise((resolve) => setTimeout(resolve, SIGN_OUT_TIMEOUT_MS));
  return Promise.race([attempt, timeout]);
}

export async function signOut() {
  const user = userPool().getCurrentUser();
  if (user) {
    await globalSignOut(user);
    user.signOut();
  }
  clearTokens();
}

// Hand-over between pages in the same tab (never the password).
export function rememberEmail(email) {
  sessionStorage.setItem(PREFILL_EMAIL_KEY, email);
}

export function rememberedEmail() {
  return sessionStorage.getItem(PREFILL_EMAIL_KEY) || '';
}

export function setFlash(text, kind = 'info') {
  sessionStorage.setItem(FLASH_KEY, JSON.stringify({ text, kind }));
}

export function takeFlash() {
  const raw = sessionStorage.getItem(FLASH_KEY);
  sessionStorage.removeItem(FLASH_KEY);
  try {
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

const AUTH_MESSAGES = {
  UsernameExistsException: 'An account with this e-mail already exists. Sign in, or verify it if you have not yet.',
  InvalidPasswordException: null, // Cognito's own text names the unmet rule
  CodeMismatchException:
    'That code is not right for this e-mail. Check the address and the latest code, or send a new one.',
  ExpiredCodeException: 'That code has expired. Send a new one and use the latest e-mail.',
  LimitExceededException: 'Too many attempts. Wait a few minutes and try again.',
  TooManyRequestsException: 'Too many requests. Wait a moment and try again.',
  TooManyFailedAttemptsException: 'Too many failed attempts. Wait a few minutes and try again.',
  NetworkError: 'Cannot reach the sign-in service. Check your connection and try again.',
  UnsupportedChallenge: null,
};

/** A sentence for the page from a Cognito error. context: 'signin' | 'signup' | 'verify' | 'resend'. */
export function describeAuthError(err, context) {
  const code = err?.code || err?.name || '';
  const message = err?.message || '';
  if ((code === 'NotAuthorizedException' || code === 'UserNotFoundException') && context === 'signin') {
    // One answer for both, so the form does not reveal which e-mails have accounts.
    return 'Incorrect e-mail or password.';
  }
  if (code === 'UserNotFoundException') return 'There is no account with this e-mail. Check it, or sign up first.';
  if (code === 'NotAuthorizedException' && /CONFIRMED/i.test(message)) {
    return 'This account is already verified. Sign in to continue.';
  }
  if (code === 'InvalidParameterException' && context === 'resend' && /confirmed/i.test(message)) {
    return 'This account is already verified. Sign in to continue.';
  }
  if (code in AUTH_MESSAGES) return AUTH_MESSAGES[code] || message;
  if (/network|fetch/i.test(message)) return AUTH_MESSAGES.NetworkError;
  return message || 'Something went wrong. Try again.';
}
