"""What the bootstrap and our MiniStack server (ministack_server.py, a process of its own) agree on: the paths the
server answers beside MiniStack and the files it keeps in the stack dir. Both sides import these names from here."""

IDENTITY_PATH = "/_stack/identity"  # which stack dir, pid and instance serve the port
SITE_PATH = "/_stack/site/"  # make watch's reload endpoints, on the site's own origin
SITE_RELOAD_SCRIPT = "reload.js"  # GET: the script the watcher adds to the pages it uploads
SITE_CHANGED = "changed"  # POST: the watcher says the site changed; open pages reload
RUN_FILE = "running.json"  # exists while the server runs, with its last save; left behind by a crash
STOP_FILE = "stop.json"  # the server's progress while it saves at stop
