// The only source of ids and URLs: window.APP_CONFIG, written by the bootstrap into config.js
// (loaded by a plain <script> before any module). Nothing here is hard-coded per environment.

const REQUIRED = [
  'region',
  'userPoolId',
  'userPoolClientId',
  'apiUrl',
  'albumSchema',
  'albumChangesSchema',
  'albumFields',
  'listing',
  'passwordPolicy',
  'usernameRule',
];

function readConfig() {
  const raw = window.APP_CONFIG;
  const missing = raw ? REQUIRED.filter((key) => raw[key] == null || raw[key] === '') : REQUIRED;
  if (missing.length > 0) {
    const text =
      `This site is not configured (config.js is missing ${missing.join(', ')}). ` + 'Run "make up" to deploy it.';
    const banner = document.createElement('p');
    banner.className = 'config-error';
    banner.setAttribute('role', 'alert');
    banner.textContent = text;
    document.addEventListener('DOMContentLoaded', () => document.body.prepend(banner), { once: true });
    throw new Error(text);
  }
  return Object.freeze({
    region: raw.region,
    userPoolId: raw.userPoolId,
    userPoolClientId: raw.userPoolClientId,
    cognitoEndpoint: raw.cognitoEndpoint || null,
    apiUrl: String(raw.apiUrl).replace(/\/+$/, ''),
    mailboxUrl: raw.mailboxUrl || null,
    albumSchema: raw.albumSchema,
    albumChangesSchema: raw.albumChangesSchema,
    albumFields: raw.albumFields, // the backend's field table: album-fields.js
    listing: raw.listing,
    passwordPolicy: raw.passwordPolicy,
    usernameRule: raw.usernameRule,
  });
}

export const config = readConfig();
