// Cognito through the official browser SDK (global AmazonCognitoIdentity from vendor/amazon-cognito-identity.min.js).
// Tokens live where the SDK keeps them (localStorage, keyed by client id); passwords are never stored anywhere.
import { config } from './app-config.js';

const PREFILL_EMAIL_KEY = 'albums.prefillEmail';
// E-mail -> username of the accounts signed up in this browser: an unverified e-mail is not yet a sign-in alias
// (on AWS as here), so verifying "by e-mail" needs the username behind it. Not secret; no passwords.
const SIGNED_UP_KEY = 'albums.signedUp';
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

function cognitoUser(login) {
  return new (sdk().CognitoUser)({ Username: login, Pool: userPool() });
}

/** What the user typed as "e-mail or username" -> what Cognito resolves: usernames are kept in lower case. */
export function normaliseLogin(login) {
  const text = String(login).trim();
  return text.includes('@') ? text : text.toLowerCase();
}

function signedUpAccounts() {
  try {
    return JSON.parse(localStorage.getItem(SIGNED_UP_KEY) || '{}');
  } catch {
    return {};
  }
}

/** For the code step: the username behind an e-mail signed up in this browser, else the login as typed. */
export function accountFor(login) {
  const text = normaliseLogin(login);
  return (text.includes('@') && signedUpAccounts()[text.toLowerCase()]) || text;
}

/** Node-style callback -> promise. */
function call(fn) {
  return new Promise((resolve, reject) => fn((err, result) => (err ? reject(err) : resolve(result))));
}

/** The username is the Cognito Username (unique: a taken one fails here, before any code is sent). */
export async function signUp({ username, email, password }) {
  const { CognitoUserAttribute } = sdk();
  const attributes = [new CognitoUserAttribute({ Name: 'email', Value: email })];
  const name = normaliseLogin(username);
  const result = await call((done) => userPool().signUp(name, password, attributes, null, done));
  localStorage.setItem(SIGNED_UP_KEY, JSON.stringify({ ...signedUpAccounts(), [email.toLowerCase()]: name }));
  return result;
}

/** login: the username, or an e-mail signed up in this browser (forgotten here once confirmed). */
export async function confirmSignUp(login, code) {
  const name = accountFor(login);
  const result = await call((done) => cognitoUser(name).confirmRegistration(code, false, done));
  const remaining = Object.entries(signedUpAccounts()).filter(([, username]) => username !== name);
  localStorage.setItem(SIGNED_UP_KEY, JSON.stringify(Object.fromEntries(remaining)));
  return result;
}

export function resendCode(login) {
  return call((done) => cognitoUser(accountFor(login)).resendConfirmationCode(done));
}

function unsupportedChallenge(name) {
  const error = new Error(`This account needs a sign-in step this site does not support (${name}).`);
  error.code = 'UnsupportedChallenge';
  return error;
}

/**
 * login: the username or the (verified) e-mail; Cognito resolves either. An e-mail signed up in this browser and not
 * yet verified is sent as its username, so the answer is "not confirmed" (-> verify) rather than "incorrect".
 */
export function signIn(login, password) {
  const { AuthenticationDetails } = sdk();
  const name = accountFor(login);
  const details = new AuthenticationDetails({ Username: name, Password: password });
  return new Promise((resolve, reject) => {
    cognitoUser(name).authenticateUser(details, {
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

/** Display identity from the ID token: the username (cognito:username) and the e-mail. */
export function profileOf(session) {
  const claims = session.getIdToken().decodePayload();
  return { email: claims.email || '', name: claims['cognito:username'] || claims.email || '' };
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
  UsernameExistsException: 'This username is taken. Choose another one.',
  AliasExistsException: 'This e-mail already belongs to another account. Sign in with it, or use another e-mail.',
  InvalidPasswordException: null, // Cognito's own text names the unmet rule
  CodeMismatchException:
    'That code is not right for this account. Check the username (or e-mail) and the latest code, or send a new one.',
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
    return 'Incorrect username, e-mail or password.';
  }
  if (code === 'UserNotFoundException') return 'There is no such account. Check the username, or sign up first.';
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
