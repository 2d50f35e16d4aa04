"""What the bootstrap and our MiniStack server (ministack_server.py, a process of its own) agree on: the paths the
server answers beside MiniStack, the files it keeps in the stack dir and the environment variables it is tuned by.
Both sides import these names from here."""

import os

LOOPBACK = "127.0.0.1"  # where the stack is reached: `make up` binds only here; a container publishes its port here
IDENTITY_PATH = "/_stack/identity"  # which stack dir, pid and instance serve the port
SITE_PATH = "/_stack/site/"  # make watch's reload endpoints, on the site's own origin
SITE_RELOAD_SCRIPT = "reload.js"  # GET: the script the watcher adds to the pages it uploads (bootstrap/watch_reload.js)
SITE_VERSION = "version"  # GET ?after=N: the site's version, once it is not N (a long poll); the script's tag names it
SITE_CHANGED = "changed"  # POST: the watcher says the site changed; open pages reload
RUN_FILE = "running.json"  # exists while the server runs, with its last save; left behind by a crash
STOP_FILE = "stop.json"  # the server's progress while it saves at stop
# MiniStack's state, S3's files and every temp file (its Lambda workers' code among them): folders of the stack dir,
# named to the server by these variables; the server makes them.
STACK_DIRS = {"STATE_DIR": "state", "S3_DATA_DIR": "s3", "TMPDIR": "tmp"}

# The server's knobs and their defaults (README: "Nothing acknowledged is lost", "Bursts"). The emulator passes these,
# and no other variable of the developer's, on to the server; the server reads them with setting().
SERVER_SETTINGS = {
    "STACK_DURABILITY": "journal",  # journal | periodic (the saver before issue 24, kept to measure against)
    "STACK_SAVE_INTERVAL": "1.0",  # periodic: seconds between saves of a changed state
    "STACK_API_CONCURRENCY": "4",  # API calls running at once; the rest wait their turn
    "STACK_API_QUEUE_SECONDS": "8",  # how long a call may wait for its turn before a 503
    "STACK_JOURNAL_FSYNC": "1",  # 0: survives a killed process, not a power cut
    "STACK_JOURNAL_COMPACT_BYTES": str(8 * 2**20),  # a journal folded into its snapshot from this size ...
    "STACK_JOURNAL_COMPACT_RATIO": "0.5",  # ... and this fraction of the snapshot's size
    "STACK_JOURNAL_COMPACT_IDLE": "60",  # or after this many seconds without changes
}


def origin(port: int | str) -> str:
    """The stack's address as the bootstrap, boto3, the Lambda workers and a browser reach it, and so the site's origin
    (the bucket's pages are served by the same server), the one the API allows locally. Built only here, by both sides:
    the bootstrap knows the port it started the server on, the server the port it was given. Never the address it binds
    (a container binds every interface, yet is reached at the loopback)."""
    return f"http://{LOOPBACK}:{port}"


def setting(name: str) -> str:
    """One of SERVER_SETTINGS, from the environment or its default (an unknown name is a KeyError)."""
    return os.environ.get(name, SERVER_SETTINGS[name])
