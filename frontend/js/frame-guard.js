// The first script of every page (a classic script in <head>: it runs before anything else is parsed).
//
// 1. The pages refuse to work inside another site's frame (clickjacking: a signed-in dashboard, Delete buttons and
//    all, under someone else's page). On AWS, CloudFront's response headers say so (CSP frame-ancestors 'none',
//    X-Frame-Options DENY); a <meta> CSP cannot, and the local bucket and the S3 website send no headers: this does,
//    and stops the rest from loading.
// 2. No form is ever submitted natively: each page's module handles its forms with fetch. A click on a submit button
//    before that module has run (a slow connection, a fast hand) would otherwise reload the page with the fields in
//    the address (a password among them). Dialog forms (method="dialog") still close their dialog.
if (window.top !== window.self) {
  document.documentElement.hidden = true;
  window.stop();
}
document.addEventListener(
  'submit',
  (event) => {
    if (event.target.method !== 'dialog') event.preventDefault();
  },
  true,
);
