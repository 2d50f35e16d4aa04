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

/** The group whose members may add, change and delete albums (the API decides; the page only shows or hides). */
export const EDITORS_GROUP = 'editors';

function unsupportedChallenge(name) {
  const error = new Error(`This account needs a sign-in step this site does not support (${name}).`);
  error.code = 'UnsupportedChallenge';
  return error;
}

/**
 * login: the username or the (verified) e-mail; Cognito resolves either. An e-mail signed up in this browser and not
 * yet verified is sent as its username, so the answer is "not confirmed" (-> verify) rather than "incorrect".
 * Resolves to {session} when signed in, or {codeNeeded: true, sendCode(code)} when the account has two-step sign-in
 * on: sendCode resolves to {session} for the authenticator's current code and rejects (CodeMismatchException) for
 * a wrong one, after which another code may be tried.
 */
export function signIn(login, password) {
  const { AuthenticationDetails } = sdk();
  const name = accountFor(login);
  const user = cognitoUser(name);
  const details = new AuthenticationDetails({ Username: name, Password: password });
  return new Promise((resolve, reject) => {
    user.authenticateUser(details, {
      onSuccess: (session) => resolve({ session }),
      onFailure: reject,
      totpRequired: () => resolve({ codeNeeded: true, sendCode: (code) => sendTotpCode(user, code) }),
      newPasswordRequired: () => reject(unsupportedChallenge('new password required')),
      mfaRequired: () => reject(unsupportedChallenge('SMS MFA')),
      selectMFAType: () => reject(unsupportedChallenge('MFA selection')),
      mfaSetup: () => reject(unsupportedChallenge('MFA setup')),
      customChallenge: () => reject(unsupportedChallenge('custom challenge')),
    });
  });
}

function sendTotpCode(user, code) {
  return new Promise((resolve, reject) => {
    user.sendMFACode(String(code).replace(/\s+/g, ''), {
      onSuccess: (session) => resolve({ session }),
      onFailure: reject,
    }, 'SOFTWARE_TOKEN_MFA');
  });
}

/** Forgotten password, step 1: Cognito e-mails a code (or, for an unknown login, pretends to: see the page). */
export function forgotPassword(login) {
  return new Promise((resolve, reject) => {
    cognitoUser(accountFor(login)).forgotPassword({ onSuccess: resolve, onFailure: reject });
  });
}

/** Forgotten password, step 2: the e-mailed code and the new password. */
export function confirmForgotPassword(login, code, newPassword) {
  return new Promise((resolve, reject) => {
    cognitoUser(accountFor(login)).confirmPassword(String(code).replace(/\s+/g, ''), newPassword, {
      onSuccess: resolve,
      onFailure: reject,
    });
  });
}

/** The signed-in user with a valid session (the SDK needs it for the calls below), or NotSignedInError. */
async function signedInUser() {
  const current = await currentSession();
  if (!current) throw new NotSignedInError();
  return current.user;
}

export async function changePassword(currentPassword, newPassword) {
  const user = await signedInUser();
  return call((done) => user.changePassword(currentPassword, newPassword, done));
}

/** Is two-step sign-in (an authenticator app's codes) on for the signed-in user? Asked of Cognito, not cached. */
export async function twoStepEnabled() {
  const user = await signedInUser();
  const data = await call((done) => user.getUserData(done, { bypassCache: true }));
  return (data?.UserMFASettingList || []).includes('SOFTWARE_TOKEN_MFA');
}

/** Step 1 of turning two-step sign-in on: a new secret for the authenticator app (not in force until verified). */
export async function newAuthenticatorSecret() {
  const user = await signedInUser();
  return new Promise((resolve, reject) => {
    user.associateSoftwareToken({ associateSecretCode: resolve, onFailure: reject });
  });
}

/** Step 2: a code from the app proves it holds the secret; only then is two-step sign-in turned on. */
export async function turnOnTwoStep(code) {
  const user = await signedInUser();
  await new Promise((resolve, reject) => {
    user.verifySoftwareToken(String(code).replace(/\s+/g, ''), 'Authenticator app', {
      onSuccess: resolve,
      onFailure: reject,
    });
  });
  await setAuthenticatorPreference(user, { Enabled: true, PreferredMfa: true });
}

function setAuthenticatorPreference(user, settings) {
  // `undefined`, not null, for the SMS settings: the request leaves them out then (MiniStack 1.5.33 fails on a null).
  return call((done) => user.setUserMfaPreference(undefined, settings, done));
}

export async function turnOffTwoStep() {
  const user = await signedInUser();
  await setAuthenticatorPreference(user, { Enabled: false, PreferredMfa: false });
}

/** Deletes the signed-in user's account at Cognito, then forgets this browser's tokens. */
export async function deleteAccount() {
  const user = await signedInUser();
  await call((done) => user.deleteUser(done));
  clearTokens();
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

/**
 * Display identity from the ID token: the username (cognito:username), the e-mail, and whether the user is an editor
 * (cognito:groups; the API decides on every write, this only shapes the page).
 */
export function profileOf(session) {
  const claims = session.getIdToken().decodePayload();
  const groups = Array.isArray(claims['cognito:groups']) ? claims['cognito:groups'] : [];
  return {
    email: claims.email || '',
    name: claims['cognito:username'] || claims.email || '',
    isEditor: groups.includes(EDITORS_GROUP),
  };
}

/** A new ID token now (e.g. after being made an editor): its profile, or NotSignedInError. */
export async function refreshedProfile() {
  await refreshedIdToken();
  const current = await currentSession();
  if (!current) throw new NotSignedInError();
  return profileOf(current.session);
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

function endSessions(user) {
  // Ends every session of this user at Cognito (GlobalSignOut), then revokes this browser's refresh token
  // (RevokeToken: needs no access token, so it works even where the global sign-out could not). Either way the
  // refresh token can mint no more tokens. Best effort, time-boxed: never blocks sign-out.
  const attempt = new Promise((resolve) => {
    user.getSession((err, session) => {
      if (err || !session) return resolve();
      const refreshToken = session.getRefreshToken().getToken();
      const revoke = () => user.revokeToken({ token: refreshToken, callback: () => resolve() });
      user.globalSignOut({ onSuccess: revoke, onFailure: revoke });
      return undefined;
    });
  });
  const timeout = new Promise((resolve) => setTimeout(resolve, SIGN_OUT_TIMEOUT_MS));
  return Promise.race([attempt, timeout]);
}

export async function signOut() {
  const user = userPool().getCurrentUser();
  if (user) {
    await endSessions(user);
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
  EnableSoftwareTokenMFAException: 'That code is not right. Enter the 6-digit code your app shows now.',
  ExpiredCodeException: 'That code has expired. Send a new one and use the latest e-mail.',
  LimitExceededException: 'Too many attempts. Wait a few minutes and try again.',
  TooManyRequestsException: 'Too many requests. Wait a moment and try again.',
  TooManyFailedAttemptsException: 'Too many failed attempts. Wait a few minutes and try again.',
  NetworkError: 'Cannot reach the sign-in service. Check your connection and try again.',
  UnsupportedChallenge: null,
};

const CONTEXT_MESSAGES = {
  // Two-step sign-in: the code of the authenticator app, not an e-mailed one.
  'signin-code': {
    CodeMismatchException: 'That code is not right. Enter the 6-digit code your authenticator app shows now.',
    NotAuthorizedException: 'This sign-in took too long. Enter your password again.',
    ExpiredCodeException: 'That code has expired. Enter the code your app shows now.',
  },
  // Forgotten password: a wrong code and an unknown account get the same answer (nothing tells them apart).
  reset: {
    CodeMismatchException:
      'That code is not right. Check the e-mail or username and the latest code we sent, or send a new one.',
    UserNotFoundException:
      'That code is not right. Check the e-mail or username and the latest code we sent, or send a new one.',
    ExpiredCodeException: 'That code has expired. Send a new one and use the latest e-mail.',
  },
  'change-password': {
    NotAuthorizedException: 'Your current password is not right.',
  },
  'account-delete': {
    NotAuthorizedException: 'Your session has ended. Sign in again, then delete your account.',
  },
};

/**
 * A sentence for the page from a Cognito error. context: 'signin' | 'signin-code' | 'signup' | 'verify' | 'resend'
 * | 'reset' | 'change-password' | 'two-step' | 'account-delete'.
 */
export function describeAuthError(err, context) {
  const code = err?.code || err?.name || '';
  const message = err?.message || '';
  const specific = CONTEXT_MESSAGES[context]?.[code];
  if (specific) return specific;
  if (err instanceof NotSignedInError) return 'Your session has ended. Sign in again.';
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
