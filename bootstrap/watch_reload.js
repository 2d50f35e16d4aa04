// Added by `make watch` (bootstrap/watch.py) to the pages it uploads to the LOCAL bucket, never to what `make up` or
// a deploy uploads. Served by our MiniStack server from the site's own origin (the pages' CSP allows 'self'): it
// waits for the server to say that the site changed, then reloads the page. Where to wait is given by its tag
// (data-version-url, from bootstrap/server_protocol.py).
(async () => {
  const versionUrl = document.currentScript.dataset.versionUrl; // before the first await: set only until then
  let version = null;
  for (;;) {
    try {
      const response = await fetch(`${versionUrl}${version === null ? "" : `?after=${version}`}`,
        { cache: "no-store" });
      const body = await response.json();
      if (version !== null && body.version !== version) {
        location.reload();
        return;
      }
      version = body.version;
    } catch {
      await new Promise((resolve) => { setTimeout(resolve, 1000); });
    }
  }
})();
