// The pages refuse to work inside another site's frame (clickjacking: a signed-in dashboard, Delete buttons and all,
// under someone else's page). On AWS, CloudFront's response headers say so (CSP frame-ancestors 'none',
// X-Frame-Options DENY); a <meta> CSP cannot, and the local bucket and the S3 website send no headers: this does.
// A classic script, first in <head>: it runs before anything else is parsed, and stops the rest from loading.
if (window.top !== window.self) {
  document.documentElement.hidden = true;
  window.stop();
}
