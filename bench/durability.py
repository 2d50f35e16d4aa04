"""11. Zero loss and the daily loop (issue 24), each against what the server did before, measured in the same run.

- Durability: the server's write-ahead journal (STACK_DURABILITY=journal, the default) against the periodic saver it
  replaced (STACK_DURABILITY=periodic: state files saved about once a second after a change): API write latency
  (POST, PUT, DELETE in turn) at 500 and at BENCH_SCALE_ALBUMS albums, `make down` and `make up` with that state, and
  hard kills (SIGKILL of the server right after a run of acknowledged changes through the API: a sign-up and its
  confirmation, six creates, an update, a delete), counting what came back.
- The loop: `make watch` on a throwaway copy of lambdas/ and frontend/: save -> the next API call runs the new code,
  and save -> the file is in the bucket (medians of several saves).

Runs on two stacks of its own, side by side (the bench stack's dir + "-journal" on the bench port, + "-periodic" on
BENCH_PORT_2, default the bench port - 1), after the other sections have stopped the bench stack. Both large-state
stacks start from the same files: the journal stack's, stopped after the bulk seed.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import ROOT, BenchConfig, Row, album_body, summary_ms
from bench.context import Bench, directory_size_mb
from bench.scale import bulk_rows
from bootstrap.seeding import seed_albums

SECTION = "11 durability + loop"
WRITES = 60  # POST + PUT + DELETE cycles per stack and measurement
KILL_ROUNDS = 3
WATCH_SAVES = 7
FIRST_RANK = 900_000
GET_LINE = "return Response(200, default_repository().get(rank).to_json())"


def run(config: BenchConfig, log: Callable[[str], None]) -> tuple[list[Row], dict[str, Any]]:
    saved_env = {name: os.environ.get(name) for name in ("STACK_DURABILITY", "STACK_DIR", "PORT")}
    second_port = int(os.environ.get("BENCH_PORT_2", config.port - 1))
    journal = Bench(dataclasses.replace(config, stack_dir=config.stack_dir.with_name(
        config.stack_dir.name + "-journal")))
    periodic = Bench(dataclasses.replace(config, port=second_port, stack_dir=config.stack_dir.with_name(
        config.stack_dir.name + "-periodic")))
    stacks = {"journal": journal, "periodic": periodic}
    raw: dict[str, Any] = {"journal": {}, "periodic": {}}
    try:
        measure(stacks, config, log, raw)
    finally:
        for mode, bench in stacks.items():  # whatever happened, nothing of ours stays running
            try:
                use(bench, mode).emulator.stop(wait_seconds=120)
            except Exception:
                bench.emulator.stop(hard=True)
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    raw["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return rows(raw, config.scale_albums), raw


def measure(stacks: dict[str, Bench], config: BenchConfig, log: Callable[[str], None], raw: dict[str, Any]) -> None:
    journal, periodic = stacks["journal"], stacks["periodic"]
    log(f"  both modes side by side (ports {journal.config.port}, {periodic.config.port}): writes at 500 albums")
    for mode, bench in stacks.items():
        use(bench, mode).wipe()
        bench.bootstrap_up()
    apis = {mode: api_for(bench, mode) for mode, bench in stacks.items()}
    for mode, figures in writes(apis).items():
        raw[mode]["writes_500"] = figures
    for mode, bench in stacks.items():
        log(f"  {mode}: hard kills right after acknowledged changes")
        raw[mode]["kills_500"] = [hard_kill(use(bench, mode)) for _ in range(KILL_ROUNDS)]
    log("  journal: the loop (make watch)")
    raw["watch"] = watch_loop(use(journal, "journal"))
    log(f"  journal: bulk seed to {config.scale_albums:,}; both modes then start from its stopped state")
    use(periodic, "periodic").emulator.stop()
    use(journal, "journal")
    started = time.perf_counter()
    seed_albums(journal.table(), bulk_rows(501, config.scale_albums), seeded_by="bench")
    raw["journal"]["seed_s"] = round(time.perf_counter() - started, 1)
    journal.emulator.stop()
    use(periodic, "periodic").wipe()
    shutil.copytree(journal.config.stack_dir, periodic.config.stack_dir,
                    ignore=shutil.ignore_patterns("ministack.log", "tmp", "build*", "outputs.json"))
    for mode, bench in stacks.items():
        use(bench, mode).bootstrap_up()  # its own port: writes its own outputs
    log(f"  both modes side by side: writes at {config.scale_albums:,} albums, then make down and make up")
    apis = {mode: api_for(bench, mode) for mode, bench in stacks.items()}
    for mode, figures in writes(apis).items():
        raw[mode]["writes_large"] = figures
    for mode, bench in stacks.items():  # after the same writes, each saves what it has not saved yet
        raw[mode].update(down_up(use(bench, mode)))
    raw["journal"]["kill_large"] = hard_kill(use(journal, "journal"))


def use(bench: Bench, mode: str) -> Bench:
    """Point this process (bootstrap.access, the bootstrap subprocesses, the emulator's start) at the bench's stack,
    with the durability mode its server starts with."""
    os.environ.update({"STACK_DURABILITY": mode, "STACK_DIR": str(bench.config.stack_dir),
                       "PORT": str(bench.config.port)})
    bench._forget_outputs()
    bench.__dict__.pop("user", None)
    return bench


def api_for(bench: Bench, mode: str) -> Any:
    """A signed-in API client of this stack (it keeps its stack's URL and token whatever the environment says next)."""
    return use(bench, mode).api()


def down_up(bench: Bench) -> dict[str, Any]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bootstrap", "down"], cwd=ROOT, env={**os.environ},
                          capture_output=True, text=True, timeout=600, check=False)
    down_s = time.perf_counter() - started
    state_mb = directory_size_mb(bench.config.stack_dir / "state")
    up = bench.bootstrap_up()
    return {"down_s": round(down_s, 2), "down_ok": done.returncode == 0, "up_s": round(up.seconds, 2),
            "up_changes": up.changes, "state_mb": state_mb}


def writes(apis: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """POST, PUT, DELETE of one album, WRITES times per stack, the stacks taking turns call by call (the order
    swapping every round), so both meet the same machine: the ratio is what the journal costs."""
    times = {mode: {"POST": [], "PUT": [], "DELETE": []} for mode in apis}
    modes = list(apis)
    for n in range(-1, WRITES):  # round -1 warms the three functions of each stack: not counted
        rank = FIRST_RANK + n + 1
        for mode in (modes if n % 2 else modes[::-1]):
            api, record = apis[mode], times[mode]

            def timed(method: str, call: Callable[[], Any], record: dict[str, list[float]] = record,
                      counted: bool = n >= 0) -> Any:
                started = time.perf_counter()
                response = call()
                if counted:
                    record[method].append(time.perf_counter() - started)
                return response

            api.delete(rank)  # left by an earlier run: not timed
            created = timed("POST", lambda a=api, r=rank: a.post(album_body(r, Album=f"Bench {r}")))
            version = created.json()["version"]
            timed("PUT", lambda a=api, r=rank, v=version: a.put(r, {"Album": "Bench edited", "version": v}))
            timed("DELETE", lambda a=api, r=rank: a.delete(r))
    load = round(os.getloadavg()[0], 2)
    return {mode: {"all": summary_ms([t for values in record.values() for t in values]),
                   **{method: summary_ms(values) for method, values in record.items()}, "loadavg": load}
            for mode, record in times.items()}


def hard_kill(bench: Bench) -> dict[str, Any]:
    """Acknowledged changes through the API, SIGKILL at once, start, count what came back."""
    from tests.clients import Api, confirmed_user, sign_in

    user = confirmed_user("kill")  # a sign-up and its confirmation (by the e-mail's code)
    api = Api(user)
    acknowledged: list[tuple[Any, ...]] = [("sign-up", user.email), ("confirmation", user.email)]
    ranks = [FIRST_RANK + 1000 + int(time.time() * 1000) % 97_000 + i for i in range(6)]
    versions, refusals = {}, []
    for rank in ranks:
        created = api.post(album_body(rank, Album=f"Kill {rank}"))
        if created.status_code == 201:
            acknowledged.append(("create", rank))
            versions[rank] = created.json()["version"]
        else:
            refusals.append(f"{created.status_code} {created.text[:120]}")
    refused = [rank for rank in ranks if rank not in versions]
    if ranks[0] in versions:
        updated = api.put(ranks[0], {"Album": "Kill edited", "version": versions[ranks[0]]})
        if updated.status_code == 200:
            acknowledged.append(("update", ranks[0], updated.json()["version"]))
    if ranks[1] in versions and api.delete(ranks[1]).status_code == 204:
        acknowledged.append(("delete", ranks[1]))
    killed_at = time.perf_counter()
    bench.emulator.stop(hard=True)
    bench.emulator.start()
    restart_s = time.perf_counter() - killed_at
    unclean = bench.emulator.unclean_end(forget=True)
    bench._forget_outputs()
    back = []
    try:
        api = Api(sign_in(user))  # by e-mail: the confirmation (and the e-mail it verified) came back
        back += [("sign-up", user.email), ("confirmation", user.email)]
    except Exception:  # the user, or the confirmation, is gone
        api = Api(None)
    for change in acknowledged[2:]:
        answer = api.get(rank=change[1])
        if (change[0] == "create" and (answer.status_code == 200 or ("delete", change[1]) in acknowledged)) or \
                (change[0] == "update" and answer.json().get("version") == change[2]) or \
                (change[0] == "delete" and answer.status_code == 404):
            back.append(change)
    lost = [change for change in acknowledged if change not in back]
    # A create later deleted counts as back only if the delete is: it is checked there.
    return {"acknowledged": len(acknowledged), "back": len(acknowledged) - len(lost), "lost": [str(c) for c in lost],
            "creates_refused": len(refused), "refusals": refusals,
            "restart_s": round(restart_s, 2), "unclean_end": unclean.describe() if unclean else None}


def watch_loop(bench: Bench) -> dict[str, Any]:
    """`python -m bootstrap.watch --root <copy>` beside the stack: a handler saved WATCH_SAVES times, each time
    until an API call answers with the new code; a stylesheet saved as often, each time until it is in the bucket."""
    bench.emulator.start()
    api = bench.api()
    s3, bucket = bench.client("s3"), bench.outputs["BucketName"]
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as folder:
        tree = Path(folder)
        for name in ("lambdas", "frontend"):
            shutil.copytree(ROOT / name, tree / name, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(ROOT / "template.yaml", tree / "template.yaml")
        process = subprocess.Popen([sys.executable, "-m", "bootstrap.watch", "--root", str(tree)], cwd=ROOT,
                                   env={**os.environ}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            assert process.stdout is not None
            process.stdout.readline()  # "watching ..."
            handler = tree / "lambdas" / "albums" / "handlers" / "get.py"
            original = handler.read_text()
            code_s, failed = [], 0
            for save in range(WATCH_SAVES):
                marker = f"bench-{save}"
                saved = time.perf_counter()
                handler.write_text(original.replace(GET_LINE, GET_LINE[:-1] + f", {{'X-Watch': '{marker}'}})"))
                while True:
                    answer = api.get(rank=1)
                    failed += answer.status_code != 200
                    if answer.headers.get("X-Watch") == marker or time.perf_counter() - saved > 15:
                        break
                code_s.append(time.perf_counter() - saved)
                time.sleep(0.5)
            stylesheet = next((tree / "frontend" / "css").glob("*.css"))
            key = stylesheet.relative_to(tree / "frontend").as_posix()
            text, site_s = stylesheet.read_text(), []
            for save in range(WATCH_SAVES):
                marker = f"/* bench {save} */".encode()
                saved = time.perf_counter()
                stylesheet.write_text(text + marker.decode())
                while marker not in s3.get_object(Bucket=bucket, Key=key)["Body"].read():
                    if time.perf_counter() - saved > 15:
                        break
                    time.sleep(0.01)
                site_s.append(time.perf_counter() - saved)
                time.sleep(0.3)
        finally:
            process.terminate()
            process.wait(timeout=30)
    return {"code_s": [round(s, 3) for s in code_s], "code_median_s": round(statistics.median(code_s), 3),
            "calls_failed_meanwhile": failed, "site_s": [round(s, 3) for s in site_s],
            "site_median_s": round(statistics.median(site_s), 3), "loadavg": round(os.getloadavg()[0], 2)}


def rows(raw: dict[str, Any], albums: int) -> list[Row]:
    journal, periodic, result = raw["journal"], raw["periodic"], []
    for size, key in (("500", "writes_500"), (f"{albums:,}", "writes_large")):
        j, p = journal.get(key, {}).get("all", {}), periodic.get(key, {}).get("all", {})
        for stat in ("p50", "p95"):
            if j.get(stat) and p.get(stat):
                result.append(Row(SECTION, f"API write {stat} at {size} albums: journal (zero loss)", j[stat], "ms",
                                  floor=p[stat], floor_label="periodic saver (before)",
                                  note=f"goal <= 1.3x; load {journal[key]['loadavg']} / {periodic[key]['loadavg']}"))
    for mode, figures in (("journal", journal), ("periodic", periodic)):
        kills = figures.get("kills_500", []) + ([figures["kill_large"]] if "kill_large" in figures else [])
        if kills:
            back = sum(k["back"] for k in kills)
            total = sum(k["acknowledged"] for k in kills)
            slowest = max(k["restart_s"] for k in kills)
            result.append(Row(SECTION, f"SIGKILL right after acknowledged API changes ({mode}): back", back,
                              f"of {total}", note=f"{len(kills)} rounds; restart {slowest} s at most"))
        for what in ("down_s", "up_s"):
            if what in figures:
                verb = "make down" if what == "down_s" else "make up"
                result.append(Row(SECTION, f"{verb} with {albums:,} albums ({mode})", figures[what], "s",
                                  note=f"state {figures['state_mb']} MB"))
    loop = raw.get("watch")
    if loop:
        result.append(Row(SECTION, "make watch: save -> next API call runs the new code, median", loop["code_median_s"],
                          "s", note=f"{len(loop['code_s'])} saves, max {max(loop['code_s'])} s, "
                          f"{loop['calls_failed_meanwhile']} calls failed meanwhile; goal <= 1 s"))
        result.append(Row(SECTION, "make watch: save -> file in the bucket, median", loop["site_median_s"], "s",
                          note=f"{len(loop['site_s'])} saves, max {max(loop['site_s'])} s; goal <= 0.5 s"))
    return result
