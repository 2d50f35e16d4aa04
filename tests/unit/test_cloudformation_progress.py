"""A long deploy says that it is still going (on AWS a CloudFront distribution takes minutes): a line every
PROGRESS_SECONDS naming what is still in progress; nothing when it finishes first. (A stand-in for CloudFormation's
two read calls: the real engine finishes far too fast to show this; the deploys themselves run on MiniStack's.)"""

from __future__ import annotations

from typing import Any

import pytest

from bootstrap import cloudformation


class SlowStack:
    def __init__(self, polls_in_progress: int) -> None:
        self.polls_left = polls_in_progress

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        self.polls_left -= 1
        return {"Stacks": [{"StackStatus": "CREATE_IN_PROGRESS" if self.polls_left >= 0 else "CREATE_COMPLETE"}]}

    def list_stack_resources(self, StackName: str) -> dict[str, Any]:
        return {"StackResourceSummaries": [
            {"LogicalResourceId": "SiteDistribution", "ResourceStatus": "CREATE_IN_PROGRESS"},
            {"LogicalResourceId": "AlbumsTable", "ResourceStatus": "CREATE_COMPLETE"}]}


def test_a_long_wait_names_what_is_still_in_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cloudformation, "PROGRESS_SECONDS", 0)
    said: list[str] = []
    assert cloudformation._wait(SlowStack(2), "albums", 0, said.append)["StackStatus"] == "CREATE_COMPLETE"
    assert len(said) == 2 and all("in progress: SiteDistribution" in line for line in said)
    assert not any("AlbumsTable" in line for line in said)


def test_a_quick_deploy_says_nothing_while_it_waits() -> None:
    said: list[str] = []
    cloudformation._wait(SlowStack(2), "albums", 0, said.append)
    assert said == []
