"""The MiniStack fidelity fixes the app depends on (remove each when MiniStack does it itself).

1. E-mail verified on confirmation.

On AWS, confirming a sign-up with the code e-mailed to the user (the pool auto-verifies `email`) marks the e-mail
verified, and a verified e-mail is what makes it usable as a sign-in alias. MiniStack 1.5.33's ConfirmSignUp only
sets the status to CONFIRMED, so signing in by e-mail would never work locally. This wrapper adds the missing
`email_verified = "true"` after a successful confirmation, and nothing else. tests/integration/test_sign_up.py checks
the behaviour.

2. A table's point-in-time recovery from its template. On AWS `PointInTimeRecoverySpecification` on an
`AWS::DynamoDB::Table` turns continuous backups on; MiniStack 1.5.33's CloudFormation engine ignores the property
(its UpdateContinuousBackups API works). The wrapped table provisioner applies it after a create or an update, as
that API would. tests/integration/test_aws_deploy.py checks it on the deployed table.

3. A Lambda call in flight finishes on the code it started with. On AWS, UpdateFunctionCode and
UpdateFunctionConfiguration let running invocations finish; MiniStack 1.5.33 kills every worker of the function at
once (`invalidate_worker` -> `kill_workers`), busy ones included, and deletes their unpacked code: a call running at
that moment failed (API Gateway 502, "No such file ... .pyc"), which `make watch` hit on saves while a client called
the API. Here a busy worker that is no longer in the pool is only retired, and killed when its invocation releases
it. tests/unit/test_ministack_internals.py checks it with real processes; tests/integration/test_dev_loop.py sees no
failed call while the code is replaced under a polling client.

4. A reused Lambda worker runs the caller's code. An invocation that read the function just before an
UpdateFunctionCode could pool a worker of the old code, which MiniStack then reused for every later call. A reused
worker whose code is not the one the call read is dropped and the lease made again.
tests/unit/test_ministack_internals.py checks it; tests/integration/test_dev_loop.py saw the old code answer for 15 s.

Our server (ministack_server.py, run by path from this folder) imports this module before it serves; every internal
named here is listed in ministack_internals.py.
"""

from __future__ import annotations

from typing import Any

from ministack.services import cognito, dynamodb
from ministack.services.cloudformation import provisioners

_confirm_sign_up = cognito._confirm_sign_up


def _confirm_sign_up_verifying_email(data: dict[str, Any]) -> Any:
    response = _confirm_sign_up(data)
    if _status(response) == 200:
        pool, _pool_id = cognito._pool_for_client(data.get("ClientId"))
        user = cognito._resolve_user(pool, data.get("Username"))[0] if pool else None
        if user and "email" in (pool.get("AutoVerifiedAttributes") or []):
            attributes = cognito._attr_list_to_dict(user.get("Attributes", []))
            if attributes.get("email"):
                attributes["email_verified"] = "true"
                user["Attributes"] = cognito._dict_to_attr_list(attributes)
    return response


def _status(response: Any) -> int | None:
    return response[0] if isinstance(response, tuple) else getattr(response, "status_code", None)


# ConfirmSignUp is looked up by name on every request (cognito._dispatch_idp builds its table per call).
cognito._confirm_sign_up = _confirm_sign_up_verifying_email


_table_handlers = provisioners._RESOURCE_HANDLERS["AWS::DynamoDB::Table"]
_create_table, _update_table = _table_handlers["create"], _table_handlers["update"]


def _apply_point_in_time_recovery(table_name: str, properties: dict[str, Any]) -> None:
    spec = properties.get("PointInTimeRecoverySpecification")
    if isinstance(spec, dict):
        enabled = str(spec.get("PointInTimeRecoveryEnabled", False)).lower() == "true"
        dynamodb._update_continuous_backups({"TableName": table_name, "PointInTimeRecoverySpecification": {
            "PointInTimeRecoveryEnabled": enabled}})


def _create_table_with_recovery(logical_id: str, props: dict[str, Any], stack_name: str) -> Any:
    created = _create_table(logical_id, props, stack_name)
    _apply_point_in_time_recovery(created[0], props)
    return created


def _update_table_with_recovery(physical_id: str, old_props: dict[str, Any], new_props: dict[str, Any],
                                stack_name: str, logical_id: str | None = None) -> Any:
    updated = _update_table(physical_id, old_props, new_props, stack_name, logical_id=logical_id)
    name = updated[0] if isinstance(updated, tuple) and updated and isinstance(updated[0], str) else physical_id
    _apply_point_in_time_recovery(name, new_props)
    return updated


# The engine looks its handlers up in this table on every resource operation.
_table_handlers["create"] = _create_table_with_recovery
_table_handlers["update"] = _update_table_with_recovery


# ---- 3. busy workers are retired, not killed ----------------------------------------------------------------------
from ministack.core import lambda_runtime  # noqa: E402 -- kept beside the fix that uses it
from ministack.services import lambda_svc  # noqa: E402

_kill_workers = lambda_runtime.kill_workers
_release_worker = lambda_runtime.release_worker


def _kill_idle_workers(workers: Any) -> None:
    now = []
    with lambda_runtime._lock:  # release_worker changes in_use under this lock
        pooled = {id(w) for entries in lambda_runtime._workers.values() for w in entries}
        for worker in workers:
            if worker is None:
                continue
            if worker.in_use and id(worker) not in pooled:  # invalidated while it runs a call
                worker._retired = True  # killed by _release_and_retire
            else:
                now.append(worker)
    _kill_workers(now)


def _release_and_retire(worker: Any) -> None:
    _release_worker(worker)
    if worker is not None and getattr(worker, "_retired", False):
        _kill_workers([worker])


lambda_runtime.kill_workers = _kill_idle_workers
lambda_runtime.release_worker = _release_and_retire
lambda_svc.release_worker = _release_and_retire  # imported there by name


# ---- 4. a reused worker runs the caller's code ----------------------------------------------------------------------
# An invocation reads the function (its config and code) and only then leases a worker. An UpdateFunctionCode in
# between empties the pool (invalidate_worker), so the lease spawns a worker for the code read before the update and
# pools it, and MiniStack reuses a pooled worker without looking at its code: every later call got the old code
# (seen in tests/integration/test_dev_loop.py in 2 of 5 fresh-clone runs: a save deployed, the API answering with the
# one before for 15 s). Here a reused worker whose code is not the caller's is dropped and the lease made again; the
# call that read the old code still runs it (on AWS too, a call that started before an update finishes on its code).
_acquire_worker = lambda_runtime.acquire_worker


def _acquire_worker_with_the_callers_code(func_name: str, config: dict[str, Any], code_zip: bytes,
                                          qualifier: str = "$LATEST", max_concurrency: int | None = None) -> Any:
    while True:
        worker, reason = _acquire_worker(func_name, config, code_zip, qualifier=qualifier,
                                         max_concurrency=max_concurrency)
        if worker is None or reason != "reused" or worker.code_zip == code_zip:  # bytes: equal code, equal zip
            return worker, reason
        with lambda_runtime._lock:
            for entries in lambda_runtime._workers.values():
                if worker in entries:
                    entries.remove(worker)
        _kill_workers([worker])  # leased by this call, so idle: MiniStack's own kill, at once


lambda_runtime.acquire_worker = _acquire_worker_with_the_callers_code
lambda_svc.acquire_worker = _acquire_worker_with_the_callers_code  # imported there by name
