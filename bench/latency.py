"""2. API latency per method through API Gateway + authorizer + Lambda + DynamoDB (warm), against the same handler
called in-process on the same emulator (the floor), and the first (cold) call of each function."""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

from bench.common import Row, album_body, ms, summary_ms
from bench.context import Bench
from bootstrap import template
from tests.unit.factory import id_token_claims, make_event

SECTION = "2 latency"
API_RANKS = 990_001  # albums the API run creates and deletes (bucket 990)
LOCAL_RANKS = 991_001  # the in-process run (bucket 991)
COLD_RANK = 992_001
METHODS = ("GET page", "GET one", "POST", "PUT", "DELETE")
# The functions of /album's four methods and their handlers, as template.yaml declares them.
ALBUM_ROUTES = [function for function in template.functions() if function.path == "/album"]
FUNCTIONS = {function.method: function.name for function in ALBUM_ROUTES}
HANDLERS = {function.method: function.handler for function in ALBUM_ROUTES}  # "module.attribute"


def album(rank: int, label: str) -> dict[str, Any]:
    return album_body(rank, Album=f"Bench {label} {rank}")


class ApiClient:
    """One call per method over HTTP; returns (seconds, status)."""

    def __init__(self, bench: Bench) -> None:
        self.api = bench.api()

    def call(self, method: str, rank: int, version: int | None = None) -> tuple[float, int]:
        started = time.perf_counter()
        if method == "GET page":
            response = self.api.get(limit=50)
        elif method == "GET one":
            response = self.api.get(rank=rank)
        elif method == "POST":
            response = self.api.post(album(rank, "api"))
        elif method == "PUT":
            response = self.api.put(rank, {"Album": f"Bench api {rank} v2", "version": version})
        else:
            response = self.api.delete(rank, version=version)
        return time.perf_counter() - started, response.status_code


class InProcessClient:
    """The same four entry points imported here and called with a proxy event, DynamoDB on the same emulator."""

    def __init__(self, bench: Bench) -> None:
        self.claims = bench_claims(bench)
        self.handlers: dict[str, Callable[[Any, Any], dict]] = {}
        self.first_call: dict[str, float] = {}
        overrides = {
            "ALBUMS_TABLE": bench.outputs["TableName"],
            "AWS_ENDPOINT_URL": bench.endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": bench.outputs["Region"],
            "USER_POOL_CLIENT_ID": bench.outputs["UserPoolClientId"],
        }
        saved = {name: os.environ.get(name) for name in overrides}
        os.environ.update(overrides)
        try:  # settings and the boto3 resource are read once and cached, so the variables are needed only now
            for method, handler in HANDLERS.items():
                module, attribute = handler.rsplit(".", 1)
                self.handlers[method] = getattr(importlib.import_module(module), attribute)
            seconds, _ = self._invoke("GET", {"rank": "1"})  # first call: creates the boto3 resource
            self.first_call["GET"] = seconds
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    def _invoke(self, method: str, query: dict[str, str] | None, body: Any = None) -> tuple[float, int]:
        event = make_event(method, query, body, claims=self.claims)
        event["requestContext"]["requestId"] = str(uuid.uuid4())
        context = type("Context", (), {"aws_request_id": str(uuid.uuid4())})()
        sink = io.StringIO()  # the handler's one JSON log line per request: formatted, then dropped
        started = time.perf_counter()
        with contextlib.redirect_stdout(sink):
            response = self.handlers[method](event, context)
        return time.perf_counter() - started, response["statusCode"]

    def call(self, method: str, rank: int, version: int | None = None) -> tuple[float, int]:
        if method == "GET page":
            return self._invoke("GET", {"limit": "50"})
        if method == "GET one":
            return self._invoke("GET", {"rank": str(rank)})
        if method == "POST":
            return self._invoke("POST", None, album(rank, "local"))
        if method == "PUT":
            return self._invoke("PUT", {"rank": str(rank)}, {"Album": f"Bench local {rank} v2", "version": version})
        return self._invoke("DELETE", {"rank": str(rank), "version": str(version)})


EXPECTED = {"GET page": 200, "GET one": 200, "POST": 201, "PUT": 200, "DELETE": 204}


def measure(client: ApiClient | InProcessClient, first_rank: int, samples: int) -> tuple[dict, int]:
    """Warm-up, then `samples` calls per method (grouped by method). Returns (timings by method, unexpected)."""
    warm = first_rank + samples
    for method, version in (("POST", None), ("GET one", None), ("GET page", None), ("PUT", 1), ("DELETE", 2)):
        client.call(method, warm, version)
    timings: dict[str, list[float]] = {method: [] for method in METHODS}
    unexpected = 0
    ranks = range(first_rank, first_rank + samples)
    plan = [("POST", None), ("GET one", None), ("GET page", None), ("PUT", 1), ("DELETE", 2)]
    for method, version in plan:
        for rank in ranks:
            seconds, status = client.call(method, rank, version)
            timings[method].append(seconds)
            unexpected += status != EXPECTED[method]
    return timings, unexpected


def cold_calls(bench: Bench, api: ApiClient) -> dict[str, list[float]]:
    """Force each function cold by changing its configuration (any update retires the warm worker), call it once
    through the API; twice: with a marker variable, then with the original configuration restored."""
    lam = bench.client("lambda")
    results: dict[str, list[float]] = {}
    calls = {"GET": ("GET one", 1, None), "POST": ("POST", COLD_RANK, None), "PUT": ("PUT", COLD_RANK, 1),
             "DELETE": ("DELETE", COLD_RANK, 2)}
    originals = {m: lam.get_function_configuration(FunctionName=f)["Environment"]["Variables"]
                 for m, f in FUNCTIONS.items()}
    for round_number in range(2):
        for method in ("GET", "POST", "PUT", "DELETE"):
            variables = dict(originals[method])
            if round_number == 0:
                variables["BENCH_COLD_MARK"] = str(time.time())
            lam.update_function_configuration(FunctionName=FUNCTIONS[method], Environment={"Variables": variables})
            lam.get_waiter("function_updated_v2").wait(FunctionName=FUNCTIONS[method])
        for method in ("GET", "POST", "PUT", "DELETE"):
            label, rank, version = calls[method]
            seconds, status = api.call(label, rank, version)
            if status != EXPECTED[label]:
                raise RuntimeError(f"cold {label} answered {status}")
            results.setdefault(method, []).append(seconds)
    return results


def bench_claims(bench: Bench) -> dict[str, str]:
    """What the authorizer would pass for the bench user's ID token: the stack's app client, an editor."""
    return id_token_claims(sub=bench.user.sub, aud=bench.outputs["UserPoolClientId"])


def invoke_decomposition(bench: Bench, samples: int) -> dict[str, dict]:
    """GET one via lambda.invoke (no API Gateway, no authorizer): as deployed, then with LOG_LEVEL=INFO set on the
    function itself. MiniStack's workers inherit the emulator's environment (the bootstrap starts it with
    LOG_LEVEL=WARNING), which silences the handler's INFO access line; a worker that writes nothing to stderr makes
    MiniStack wait 50 ms for log output on every invocation. The configuration is restored afterwards."""
    lam = bench.client("lambda")
    payload = json.dumps(make_event("GET", {"rank": "1"}, claims=bench_claims(bench)))
    name = FUNCTIONS["GET"]

    def series() -> list[float]:
        lam.invoke(FunctionName=name, Payload=payload)["Payload"].read()  # warm (the update made it cold)
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            response = lam.invoke(FunctionName=name, Payload=payload)
            response["Payload"].read()
            times.append(time.perf_counter() - started)
        return times

    def configure(variables: dict[str, str]) -> None:
        lam.update_function_configuration(FunctionName=name, Environment={"Variables": variables})
        lam.get_waiter("function_updated_v2").wait(FunctionName=name)

    original = lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    as_deployed = series()
    configure({**original, "LOG_LEVEL": "INFO"})
    try:
        with_info = series()
    finally:
        configure(original)
        lam.invoke(FunctionName=name, Payload=payload)["Payload"].read()
    return {"as_deployed": summary_ms(as_deployed), "log_level_info": summary_ms(with_info),
            "function_env_log_level": original.get("LOG_LEVEL")}


def run(bench: Bench) -> tuple[list[Row], dict]:
    samples = bench.config.samples
    api = ApiClient(bench)
    api_timings, api_unexpected = measure(api, API_RANKS, samples)
    local = InProcessClient(bench)
    local_timings, local_unexpected = measure(local, LOCAL_RANKS, samples)
    cold = cold_calls(bench, api)
    invoke = invoke_decomposition(bench, samples)
    for method in ("GET page", "GET one", "POST", "PUT", "DELETE"):  # warm every function again for what follows
        api.call(method, COLD_RANK + 1, {"PUT": 1, "DELETE": 2}.get(method))

    raw: dict[str, Any] = {"samples": samples, "api": {}, "in_process": {}, "cold_api_ms": {},
                           "unexpected_status": {"api": api_unexpected, "in_process": local_unexpected},
                           "in_process_first_call_ms": ms(local.first_call.get("GET")), "invoke_get_one": invoke}
    rows = []
    for method in METHODS:
        a, f = summary_ms(api_timings[method]), summary_ms(local_timings[method])
        raw["api"][method], raw["in_process"][method] = a, f
        rows.append(Row(SECTION, f"{method}: API p50 (warm, N={samples})", a["p50"], "ms", f["p50"],
                        "in-process handler p50"))
        rows.append(Row(SECTION, f"{method}: API p95", a["p95"], "ms", f["p95"], "in-process handler p95"))
    floor = raw["in_process"]["GET one"]["p50"]
    rows.append(Row(SECTION, "GET one via lambda.invoke (no gateway), as deployed, p50", invoke["as_deployed"]["p50"],
                    "ms", floor, "in-process handler p50",
                    f"function env LOG_LEVEL={invoke['function_env_log_level']}" + (
                        "" if invoke["function_env_log_level"] else
                        " (unset: the worker inherits the emulator's LOG_LEVEL=WARNING, 50 ms log wait per call)")))
    rows.append(Row(SECTION, "GET one via lambda.invoke, LOG_LEVEL=INFO on the function, p50",
                    invoke["log_level_info"]["p50"], "ms", floor, "in-process handler p50",
                    "experiment, then restored: a handler that logs nothing makes MiniStack wait 50 ms per call"))
    warm_get = summary_ms(api_timings["GET one"])["p50"]
    for method, values in cold.items():
        raw["cold_api_ms"][method] = [ms(v) for v in values]
        rows.append(Row(SECTION, f"{FUNCTIONS[method]}: first call after config update (cold)",
                        ms(sum(values) / len(values)), "ms", warm_get, "warm GET one p50",
                        f"mean of 2 cold calls: {', '.join(str(ms(v)) for v in values)} ms"))
    if api_unexpected or local_unexpected:
        rows.append(Row(SECTION, "unexpected status codes (API / in-process)", f"{api_unexpected} / "
                        f"{local_unexpected}"))
    return rows, raw
