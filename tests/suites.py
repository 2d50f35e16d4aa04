"""`make test`: lint and every suite on a fresh test stack, with one timing line per suite and the total.

    python -m tests.suites            # what `make test` runs (PORT / STACK_DIR name the test stack)

What runs at the same time, and why: lint, the unit tests, SAM CLI's venv and the integration modules that run stacks of
their own (marker `own_stack`) need no test stack, so they start at once and go on beside everything else. Once the test
stack is up, the few tests that need it to themselves (marker `alone`: they fill its gate or break a function on
purpose) run one at a time; then the integration, browser and Postman suites run side by side (the browser tests and the
own-stack modules with two pytest-xdist workers each, the unit and the other integration tests in one process: what
keeps the cores busy without paying for a worker that would not shorten the run; every test uses its own users and ranks
and expects other writers meanwhile). The machine's two cores are the limit: the schedule only keeps them busy, the
suites' own CPU cost is what sets the total (see README, Tests), and each suite's CPU-s counts every process it started,
the MiniStacks and browser processes that ran on their own included (REAPER below). Nothing waits on a fixed sleep.
Timings go to test-results/timings.json (read by `make bench`); a run that collects no test fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "test-results"
PYTHON = sys.executable
WORKERS = os.environ.get("TEST_WORKERS", "2")  # pytest-xdist workers per suite; 2 cores here


# A step runs under this: a Linux "child subreaper" (prctl PR_SET_CHILD_SUBREAPER), so the processes its command
# leaves to run on their own come back to it when their parent exits, and it reaps them, rather than init: the
# MiniStack that `python -m bootstrap up` starts for a test, Chromium's renderers and helpers. Their CPU time then
# counts in the step's wait4 (before, e2e showed about half of what it cost, and own-stacks missed those MiniStacks).
# Once the command has exited, what is left running is not waited for (nothing of a step should be).
REAPER = """
import ctypes, os, signal, subprocess, sys
try:
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
except (AttributeError, OSError):
    pass  # not Linux: the command runs as it would without this
signal.signal(signal.SIGINT, lambda *_: None)  # Ctrl-C is the command's to handle; its end is ours to report
command = subprocess.Popen(sys.argv[1:])
status = None
while status is None:
    pid, waited = os.waitpid(-1, 0)
    if pid == command.pid:
        status = waited
try:
    while os.waitpid(-1, os.WNOHANG)[0]:
        pass
except ChildProcessError:
    pass
sys.exit(os.waitstatus_to_exitcode(status))
"""


@dataclass
class Step:
    name: str
    command: list[str]
    junit: Path | None = None  # pytest's report, for exact counts
    env: dict[str, str] = field(default_factory=dict)
    reap: bool = True  # run under REAPER; False for a step whose processes must outlive it (the test stack's start)
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    status: int | None = None
    output: str = ""

    def run(self, *, quiet: bool) -> Step:
        started = time.perf_counter()
        command = [PYTHON, "-I", "-S", "-c", REAPER, *self.command] if self.reap else self.command
        with subprocess.Popen(command, cwd=ROOT, env={**os.environ, **self.env}, text=True,
                              stdout=subprocess.PIPE if quiet else None,
                              stderr=subprocess.STDOUT if quiet else None) as process:
            self.output = process.stdout.read() if process.stdout else ""
            # wait4: the CPU time of the step and of every process it waited for or that REAPER reaped (its workers,
            # the stacks and browsers it ran), not of the shared test stack: which suite costs what, even while the
            # suites share the cores.
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
        self.seconds = time.perf_counter() - started
        self.cpu_seconds = usage.ru_utime + usage.ru_stime
        self.status = process.returncode
        return self

    def counts(self) -> tuple[int, int, int]:
        """(passed, failed, skipped) from the JUnit report; (0, 0, 0) when there is none."""
        if not self.junit or not self.junit.exists():
            return 0, 0, 0
        suites = ElementTree.parse(self.junit).getroot()
        tests = failures = errors = skipped = 0
        for suite in suites.iter("testsuite"):
            tests += int(suite.get("tests", 0))
            failures += int(suite.get("failures", 0))
            errors += int(suite.get("errors", 0))
            skipped += int(suite.get("skipped", 0))
        return tests - failures - errors - skipped, failures + errors, skipped

    def line(self) -> str:
        passed, failed, skipped = self.counts()
        verdict = "ok" if self.status == 0 else f"FAILED (exit {self.status})"
        tally = ""
        if self.junit:
            tally = f", {passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else "")
        return f"  {self.name:<12} {self.seconds:6.1f} s  {self.cpu_seconds:6.1f} CPU-s  {verdict}{tally}"


# Installed pytest plugins each step can do without. Every pytest process (each xdist worker too) imports every
# installed plugin at start: schemathesis and hypothesis take ~0.3 of the ~0.7 CPU-s a browser-test process spends
# starting, with bytecode cached (~1.8 of 2.3 where it is not: see the Makefile's `unexport`).
NOT_NEEDED = {
    "unit": ["schemathesis", "docker", "anyio"],  # hypothesis stays: the unit tests generate input with it
    "integration": ["docker", "anyio"],  # schemathesis fuzzes the API here
    # The own-stack and `alone` modules neither fuzz nor generate input (a module that does would need these back).
    "own-stacks": ["schemathesis", "hypothesispytest", "docker", "anyio"],
    "alone": ["schemathesis", "hypothesispytest", "docker", "anyio"],
    "e2e": ["schemathesis", "hypothesispytest", "docker", "anyio"],
}


def pytest_step(name: str, *args: str, workers: bool = True, dist: str = "loadfile") -> Step:
    """A pytest run; `dist` is pytest-xdist's distribution: loadfile runs a file's tests on one worker, one after the
    other, as their module fixtures (a shared deployment, a seeded table, one user) expect."""
    junit = RESULTS / f"junit-{name}.xml"
    parallel = ["-n", WORKERS, "--dist", dist] if workers and WORKERS != "0" else []
    plugins = [option for plugin in NOT_NEEDED.get(name, []) for option in ("-p", f"no:{plugin}")]
    return Step(name, [PYTHON, "-m", "pytest", *args, "-q", *plugins, *parallel, f"--junitxml={junit}"], junit=junit)


def marked(marker: str, *folders: str) -> list[str]:
    """The test modules in `folders` that use `marker` (`pytest.mark.<marker>`, the only way these markers are given).
    A step that runs only those tests collects only these files: collecting a folder imports all of its modules (the
    contract fuzz brings in schemathesis and hypothesis) in every process of the step, for tests it then deselects."""
    return [str(path.relative_to(ROOT)) for folder in folders for path in sorted((ROOT / folder).glob("test_*.py"))
            if f"mark.{marker}" in path.read_text()]


def _last_line(output: str) -> str:
    lines = output.strip().splitlines()
    return lines[-1] if lines else ""


def in_background(step: Step) -> threading.Thread:
    thread = threading.Thread(target=step.run, kwargs={"quiet": True}, name=step.name)
    thread.start()
    return thread


def machine_cpu_seconds() -> float | None:
    """CPU time every process of the machine has used so far (Linux /proc/stat; None elsewhere): what a run costs,
    steadier than its wall time on a busy machine."""
    try:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def process_tree_cpu_seconds(pid: int) -> float | None:
    """CPU time of a process, of its children it has waited for, and of its children still running (Linux /proc):
    what the shared test stack (MiniStack and its Lambda workers) cost the run."""
    def stat(process: int) -> list[str]:
        text = Path(f"/proc/{process}/stat").read_text()
        return text[text.rindex(")") + 2:].split()  # the fields after the command name, from `state`

    try:
        parents = {int(entry.name): int(stat(int(entry.name))[1])
                   for entry in Path("/proc").iterdir() if entry.name.isdigit()}
        tree, ticks = [pid], 0
        while tree:
            process = tree.pop()
            fields = stat(process)
            ticks += sum(int(value) for value in fields[11:13 if process != pid else 15])  # utime stime (cutime cstime)
            tree += [child for child, parent in parents.items() if parent == process]
    except (OSError, ValueError):
        return None
    return ticks / os.sysconf("SC_CLK_TCK")


def main() -> int:
    RESULTS.mkdir(exist_ok=True)
    # Every process of the run caches what it compiles, as under make (see the Makefile's `unexport`): the later ones
    # then skip compiling the project, the tests and pytest's rewrite of its plugins.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.perf_counter()
    cpu_started = machine_cpu_seconds()
    stack_log = Path(os.environ.get("STACK_DIR", ROOT / ".stack-test")).with_suffix(".log")
    lint = Step("lint", ["make", "--no-print-directory", "lint"])
    stack = Step("stack", ["bash", "-c", f"{PYTHON} -m bootstrap reset && {PYTHON} -m bootstrap up > {stack_log} 2>&1"
                           f" || {{ cat {stack_log}; exit 1; }}"], reap=False)
    # One process: a second worker would import hypothesis, moto and botocore, make its moto table and seed it again
    # (2-3 CPU-s more a run), and the unit tests finish long before the own-stack modules either way.
    unit = pytest_step("unit", "tests/unit", workers=False)
    # SAM CLI's venv for tests/integration/test_sam_deploy.py (a few seconds to install, once): made beside everything
    # else; that test waits for it.
    sam = Step("sam venv", ["make", "--no-print-directory", "sam"])
    # The integration modules that run stacks of their own (marker `own_stack`) need nothing of the test stack: they
    # start at once too, and their waiting (deploys, kills, timeouts) overlaps everything else.
    own = pytest_step("own-stacks", *marked("own_stack", "tests/integration"), "-m", "own_stack and not alone",
                      "--no-loadscope-reorder")
    steps = [sam, lint, stack, unit, own]
    together: list[Step] = []

    # 1. Lint and the unit tests need no stack: they start at once, beside the stack's start, and go on beside
    #    everything that follows.
    beside = [in_background(sam), in_background(own), in_background(unit), in_background(lint)]
    stack.run(quiet=True)
    if stack.status != 0:
        print(stack.output)
    else:
        # 2. The tests that need the stack to themselves (marker `alone`), one at a time.
        alone = pytest_step("alone", *marked("alone", "tests/integration", "tests/e2e"), "-m", "alone", workers=False)
        alone.run(quiet=False)
        # 3. The suites on the stack, side by side (their tests are written for other writers meanwhile: each uses
        #    its own users and ranks), so the cores stay busy while one suite waits on the stack or a browser.
        together = [pytest_step("e2e", "tests/e2e", "-m", "not alone"),
                    # One process: these tests mostly wait on the stack, and the browser suite beside them takes
                    # longer either way; a second worker cost ~3.5 CPU-s (its start, where the contract fuzz makes
                    # its examples at collection, its own session user) for no shorter run.
                    pytest_step("integration", "tests/integration", "-m", "not alone and not own_stack",
                                workers=False),
                    Step("postman", [PYTHON, "tests/postman/run.py"], junit=RESULTS / "newman.xml")]
        for thread in [in_background(step) for step in together]:
            thread.join()
        steps += [alone, *together]
    for thread in beside:
        thread.join()
    for step in [sam, lint, unit, own, *together]:  # those that ran quietly, beside others
        print(step.output if step.status != 0 else _last_line(step.output))
    stack_pid = Path(os.environ.get("STACK_DIR", ROOT / ".stack-test")) / "ministack.pid"
    stack_cpu = process_tree_cpu_seconds(int(stack_pid.read_text())) if stack_pid.exists() else None
    down = Step("stack down", [PYTHON, "-m", "bootstrap", "down"]).run(quiet=True)

    total = time.perf_counter() - started
    failed = [step.name for step in steps if step.status != 0]
    if down.status != 0:
        print(down.output)
    passed = sum(step.counts()[0] for step in steps)
    failures = sum(step.counts()[1] for step in steps)
    print("\nmake test, per suite (wall time; lint and unit run beside the rest, integration, e2e and postman side by"
          " side):")
    for step in steps:
        print(step.line())
    cpu_now = machine_cpu_seconds()
    cpu = round(cpu_now - cpu_started, 1) if cpu_now is not None and cpu_started is not None else None
    cores = os.cpu_count() or 1
    busy = (f"; the machine used {cpu:.0f} CPU-s (cores busy {cpu / (total * cores):.0%} of the time)"
            if cpu else "")
    # The run's own cost: the steps (every process each started, see REAPER) and the test stack. Unlike the machine's
    # figure, other people's processes on a shared machine are not in it.
    own_cpu = round(sum(step.cpu_seconds for step in [*steps, down]) + (stack_cpu or 0.0), 1)
    if stack_cpu is not None:
        print(f"  {'test stack':<12} {'':8}  {stack_cpu:6.1f} CPU-s  (MiniStack and its Lambda workers, all suites)")
    print(f"  {'total':<12} {total:6.1f} s  {own_cpu:6.1f} CPU-s  on {cores} cores{busy}, load average "
          f"{os.getloadavg()[0]:.2f}")
    timings = {
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "total_seconds": round(total, 1),
        "machine_cpu_seconds": cpu,  # every process on the machine, the run's own and any other
        "run_cpu_seconds": own_cpu,  # the run's own processes only (the steps and the test stack)
        "test_stack_cpu_seconds": stack_cpu,
        "suites": {step.name: {"seconds": round(step.seconds, 1), "cpu_seconds": round(step.cpu_seconds, 1),
                               "status": step.status,
                               "passed": step.counts()[0], "failed": step.counts()[1]} for step in steps},
        "cores": os.cpu_count(),
        "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
    }
    (RESULTS / "timings.json").write_text(json.dumps(timings, indent=2) + "\n")
    with (RESULTS / "timings-history.jsonl").open("a") as history:  # one line per run: `make bench` compares
        history.write(json.dumps(timings) + "\n")
    if failed:
        print(f"FAILED: {', '.join(failed)}")
    print(f"make test: {passed} passed, {failures} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
