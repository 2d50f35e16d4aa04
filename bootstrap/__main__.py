"""python -m bootstrap {up,down,reset,deploy,seed,destroy,restore,status,logs} [--target local|docker|localstack|aws]

`up` on the local target starts MiniStack (if not running), deploys, seeds an empty table and prints the URLs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from bootstrap import destroy, logs, stack
from bootstrap.emulator import Emulator
from bootstrap.errors import StackError, reported
from bootstrap.target import Target, port, resolve


def emulator_for(target: Target) -> Emulator:
    return Emulator(target.stack_dir, port())


def up(target: Target) -> None:
    began = time.monotonic()
    if target.name == "local":
        emulator = emulator_for(target)
        started = emulator.start()
        print(f"MiniStack {'started' if started else 'already running'} at {target.endpoint}")
        unclean = emulator.unclean_end(forget=True)
        if unclean:
            print(f"warning: {unclean.describe()}")
    else:
        require_reachable(target)
    outputs, report = stack.deploy(target, out=lambda line: print(line, flush=True))
    seeded = stack.seed(target)
    print(f"Deployed to {target.name} in {time.monotonic() - began:.1f}s "
          f"({', '.join(f'{k} {v}s' for k, v in report.timings.items())})")
    print(f"Changes: {len(report.changes)}" if report.changes else "Changes: none (already up to date)")
    print(f"Seeded {seeded} albums" if seeded else "Albums table already has data: not seeded")
    print()
    print(f"  Site:     {outputs['WebsiteUrl']}")
    print(f"  API:      {outputs['ApiUrl']}/album")
    if outputs["MailboxUrl"]:
        print(f"  Mailbox:  {outputs['MailboxUrl']}   (verification codes are 'sent' here)")
    print(f"  Outputs:  {target.outputs_file}")


def require_reachable(target: Target) -> None:
    """One quick look before any AWS call: boto3 would retry a refused connection for many seconds first."""
    if not target.local:
        return
    try:
        urllib.request.urlopen(target.endpoint or "", timeout=3).close()
    except urllib.error.HTTPError:
        pass  # it answered: that is all we need to know
    except OSError as error:
        hint = "make up" if target.name == "local" else f"make up STACK={target.name}"
        raise StackError(f"nothing answers at {target.endpoint} ({error}): start the stack first ({hint})") from None


def down(target: Target) -> None:
    if emulator_for(target).stop(report=lambda line: print(line, flush=True)):
        print("MiniStack stopped gracefully; its state is kept in " + str(target.stack_dir))
    else:
        print("MiniStack was not running")


def reset(target: Target) -> None:
    emulator_for(target).stop()
    if target.stack_dir.exists():
        shutil.rmtree(target.stack_dir)
    print(f"Local state wiped ({target.stack_dir})")


def status(target: Target) -> None:
    emulator = emulator_for(target)
    identity = emulator.identity()
    if emulator.serves_us(identity):
        saved = identity.get("lastSaveAt")
        saved_text = time.strftime("%H:%M:%S", time.localtime(saved)) if saved else "nothing changed yet"
        print(f"MiniStack at {target.endpoint}: healthy (pid {identity['pid']}, state saved: {saved_text})")
    elif identity is not None:
        print(f"MiniStack at {target.endpoint}: serves another stack ({identity['stackDir']}), not this one")
    elif emulator.healthy() and emulator.pid() is not None:
        print(f"MiniStack at {target.endpoint}: healthy, this stack's server by its pid file (pid {emulator.pid()}), "
              "but too busy to say so in time: try again")
    elif emulator.healthy():
        print(f"MiniStack at {target.endpoint}: something else answers there, not the MiniStack of this stack")
    else:
        print(f"MiniStack at {target.endpoint}: not running")
    if target.outputs_file.exists():
        print(json.dumps(json.loads(target.outputs_file.read_text()), indent=2))


def show_logs(target: Target, args: argparse.Namespace) -> None:
    require_reachable(target)
    try:
        count = logs.show(target, args.function, args.request_id, args.since, args.follow,
                          out=lambda line: print(line, flush=True))
    except KeyboardInterrupt:
        return
    if count == 0:
        what = f" for request {args.request_id}" if args.request_id else ""
        print(f"no log lines{what} in the last {args.since:g} minutes", file=sys.stderr)


def deploy(target: Target) -> None:
    require_reachable(target)
    print(json.dumps(stack.deploy(target, out=lambda line: print(line, flush=True))[0], indent=2))


def seed(target: Target) -> None:
    require_reachable(target)
    print(f"Seeded {stack.seed(target)} albums")


def destroy_stack(target: Target, args: argparse.Namespace) -> None:
    require_reachable(target)
    destroy.destroy(target, out=lambda line: print(line, flush=True), confirm=args.confirm, keep_data=args.keep_data)
    print(f"Destroyed the stack on {target.name}")


def restore_backup(target: Target, args: argparse.Namespace) -> None:
    require_reachable(target)
    destroy.restore(target, out=lambda line: print(line, flush=True), backup_name=args.backup)


COMMANDS: dict[str, Callable[[Target], None]] = {
    "up": up,
    "down": down,
    "reset": reset,
    "status": status,
    "deploy": deploy,
    "seed": seed,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bootstrap", description=__doc__)
    parser.add_argument("command", choices=[*COMMANDS, "destroy", "restore", "logs"])
    parser.add_argument("--target", default="local", choices=["local", "docker", "localstack", "aws"])
    parser.add_argument("--function", help="logs: one function (albums-get, get, stats, post, ...)")
    parser.add_argument("--request-id", help="logs: only the lines of this Lambda request id")
    parser.add_argument("--since", type=float, default=60, help="logs: minutes back (default 60)")
    parser.add_argument("--follow", action="store_true", help="logs: keep printing new lines")
    parser.add_argument("--confirm", help="destroy: <account>/<region> of the stack, or it changes nothing")
    parser.add_argument("--keep-data", action="store_true", help="destroy: keep the table and the user pool")
    parser.add_argument("--backup", help="restore: the backup's name or ARN (none: list the backups)")
    args = parser.parse_args(argv)

    def run() -> None:
        target = resolve(args.target)
        commands: dict[str, Callable[[Target], None]] = {
            **COMMANDS, "logs": lambda target: show_logs(target, args),
            "destroy": lambda target: destroy_stack(target, args),
            "restore": lambda target: restore_backup(target, args)}
        commands[args.command](target)

    return reported(args.target, run)


if __name__ == "__main__":
    sys.exit(main())
