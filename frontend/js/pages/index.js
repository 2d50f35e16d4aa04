// index.html: straight to the dashboard when someone is signed in, else to sign-in (no network needed).
import { hasStoredSession } from '../auth.js';

window.location.replace(hasStoredSession() ? 'dashboard.html' : 'signin.html');
