// index.html: says what the app is, with "Create account" and "Sign in"; someone signed in goes to the dashboard
// (no network needed: the dashboard itself sends an expired session to sign-in).
import { hasStoredSession } from '../auth.js';

if (hasStoredSession()) window.location.replace('dashboard.html');
