"""The shared read limiter, the batched poller, and the gateway's mapping of answers."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest

from stackyard.aws.cloudformation import CloudFormationGateway, DeployedStack, StackEvent
from stackyard.aws.errors import AWSCallError
from stackyard.aws.limiter import CallStats, RateLimiter
from stackyard.aws.poller import PollPolicy, StatusPoller
from stackyard.aws.session import ClientFactory, Location


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_limiter_allows_a_burst_then_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2, burst=4, clock=clock, sleep=clock.sleep)
    for _ in range(4):
        assert limiter.acquire() == 0
    for _ in range(10):
        limiter.acquire()
    assert clock.now == pytest.approx(5.0)  # 10 more calls at 2 per second


def test_limiter_refills_while_idle_up_to_the_burst() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=1, burst=3, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        limiter.acquire()
    clock.now += 100
    waits = [limiter.acquire() for _ in range(4)]
    assert waits == [0, 0, 0, pytest.approx(1.0)]


def test_call_stats_count_by_action() -> None:
    stats = CallStats()
    stats.record("DescribeStacks", read=True)
    stats.record("DescribeStacks", read=True)
    stats.record("CreateStack", read=False)
    assert stats.snapshot() == {"CreateStack": 1, "DescribeStacks": 2}
    assert (stats.reads, stats.writes, stats.total) == (2, 1, 3)


def test_poll_interval_is_short_while_young_and_long_later() -> None:
    policy = PollPolicy(min_interval=0.5, max_interval=10, ramp=0.1)
    assert policy.interval(1) == 0.5
    assert policy.interval(30) == pytest.approx(3.0)
    assert policy.interval(3600) == 10


class FakeGateway:
    def __init__(self) -> None:
        self.statuses: dict[str, str] = {}
        self.listings = 0
        self.described: list[str] = []
        self.pages: dict[Location, int] = {}
        self.event_reads: list[str] = []
        self.optional_reads: list[bool] = []

    def describe_stack(self, name: str, location: Location) -> DeployedStack | None:
        self.described.append(name)
        status = self.statuses.get(name)
        return DeployedStack(name, f"id-{name}", status) if status else None

    def list_stacks(self, location: Location) -> dict[str, DeployedStack]:
        self.listings += 1
        return {n: DeployedStack(n, f"id-{n}", s) for n, s in self.statuses.items()}

    def stack_events(
        self, stack_id: str, location: Location, *, stop: Any = (), optional: bool = False
    ) -> list[StackEvent]:
        self.optional_reads.append(optional)
        self.event_reads.append(stack_id)
        event = StackEvent(
            f"{stack_id}-{len(self.event_reads)}",
            stack_id,
            "R",
            "AWS::SQS::Queue",
            "CREATE_COMPLETE",
            "",
            None,
        )
        return [] if event.event_id in stop else [event]


def test_one_listing_per_round_whatever_the_number_of_stacks() -> None:
    clock = Clock()
    gateway = FakeGateway()
    poller = StatusPoller(gateway, clock=clock)  # type: ignore[arg-type]
    for i in range(50):
        gateway.statuses[f"s{i}"] = "CREATE_IN_PROGRESS"
        poller.watch(f"s{i}", f"s{i}", Location("eu-west-1"), status="CREATE_IN_PROGRESS")
    assert poller.poll() == []
    assert gateway.listings == 1 and gateway.event_reads == []
    gateway.statuses["s7"] = "ROLLBACK_IN_PROGRESS"
    gateway.statuses["s9"] = "CREATE_COMPLETE"  # a plain success: no events read
    updates = poller.poll()
    assert [u.key for u in updates] == ["s7", "s9"]
    assert gateway.listings == 2 and gateway.event_reads == ["id-s7"]
    del gateway.statuses["s8"]
    (update,) = poller.poll()
    assert update.key == "s8" and update.stack is None


def test_few_stacks_in_a_crowded_account_are_described_one_by_one() -> None:
    gateway = FakeGateway()
    gateway.pages[Location()] = 5  # the account's listing takes five pages
    gateway.statuses = {"a": "CREATE_IN_PROGRESS", "b": "CREATE_IN_PROGRESS"}
    poller = StatusPoller(gateway, clock=Clock())  # type: ignore[arg-type]
    poller.watch("a", "a", Location(), status="CREATE_IN_PROGRESS")
    poller.watch("b", "b", Location(), status="CREATE_IN_PROGRESS")
    gateway.statuses["b"] = "CREATE_COMPLETE"
    assert [u.key for u in poller.poll()] == ["b"]
    assert gateway.listings == 0 and gateway.described == ["a", "b"]


def test_one_listing_per_location() -> None:
    gateway = FakeGateway()
    poller = StatusPoller(gateway, clock=Clock())  # type: ignore[arg-type]
    poller.watch("a", "a", Location("eu-west-1"))
    poller.watch("b", "b", Location("us-east-1"))
    poller.watch("c", "c", Location("us-east-1", "prod"))
    poller.poll()
    assert gateway.listings == 3


def test_due_in_follows_the_youngest_operation() -> None:
    clock = Clock()
    poller = StatusPoller(FakeGateway(), policy=PollPolicy(0.5, 10, 0.1), clock=clock)  # type: ignore[arg-type]
    assert poller.due_in() is None
    poller.watch("old", "old", Location())
    assert poller.due_in() == 0.5
    clock.now = 100.0
    poller.poll()
    assert poller.due_in() == pytest.approx(10.0)
    poller.watch("new", "new", Location())
    assert poller.due_in() == pytest.approx(0.5)


def _gateway_with(stubbed: Any) -> CloudFormationGateway:
    class Clients(ClientFactory):
        def client(self, service: str, location: Location | None = None) -> Any:
            return stubbed

    return CloudFormationGateway(Clients(endpoint_url="http://127.0.0.1:1"))


def test_listing_pages_and_maps_stacks_with_stubber() -> None:
    import boto3
    from botocore.stub import Stubber

    client = boto3.client(
        "cloudformation", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    now = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    stack = {
        "StackName": "a",
        "StackId": "id-a",
        "StackStatus": "CREATE_COMPLETE",
        "CreationTime": now,
        "Tags": [{"Key": "k", "Value": "v"}],
        "Outputs": [{"OutputKey": "O", "OutputValue": "1"}],
        "Parameters": [{"ParameterKey": "P", "ParameterValue": "2"}],
        "EnableTerminationProtection": True,
    }
    gone = {**stack, "StackName": "b", "StackId": "id-b", "StackStatus": "DELETE_COMPLETE"}
    with Stubber(client) as stub:
        stub.add_response("describe_stacks", {"Stacks": [stack], "NextToken": "t"}, {})
        stub.add_response("describe_stacks", {"Stacks": [gone]}, {"NextToken": "t"})
        stub.add_client_error(
            "describe_stacks",
            "ValidationError",
            "Stack with id zz does not exist",
            expected_params={"StackName": "zz"},
        )
        stub.add_client_error("get_template", "AccessDenied", "no", http_status_code=403)
        gateway = _gateway_with(client)
        listing = gateway.list_stacks(Location())
        assert list(listing) == ["a"]
        a = listing["a"]
        assert (a.tags, a.outputs, a.parameters) == ({"k": "v"}, {"O": "1"}, {"P": "2"})
        assert a.termination_protection and a.last_change == now
        assert gateway.cached("a", Location()) == a
        assert gateway.describe_stack("zz", Location()) is None
        with pytest.raises(AWSCallError) as info:
            gateway.get_template("a", Location())
        assert info.value.code == "AccessDenied" and info.value.hint
    assert gateway.stats.snapshot() == {"DescribeStacks": 3, "GetTemplate": 1}
    assert gateway.stats.reads == 4


def test_client_factory_sets_endpoint_retries_and_user_agent() -> None:
    factory = ClientFactory(endpoint_url="http://localhost:4566", retry_mode="adaptive")
    client = factory.client("cloudformation", Location("eu-west-1"))
    assert client.meta.endpoint_url == "http://localhost:4566"
    assert client.meta.region_name == "eu-west-1"
    assert client.meta.config.retries["mode"] == "adaptive"
    assert "stackyard/" in client.meta.config.user_agent_extra
    assert factory.client("cloudformation", Location("eu-west-1")) is client
    assert factory.client("cloudformation", Location("us-east-1")) is not client
    assert ClientFactory().client is not factory.client  # no class-level cache


def test_routine_progress_events_are_optional_failures_are_not() -> None:
    gateway = FakeGateway()
    gateway.statuses = {"a": "CREATE_IN_PROGRESS", "b": "CREATE_IN_PROGRESS"}
    poller = StatusPoller(gateway, clock=Clock())  # type: ignore[arg-type]
    poller.watch("a", "a", Location())
    poller.watch("b", "b", Location(), status="CREATE_IN_PROGRESS")
    gateway.statuses["b"] = "CREATE_FAILED"
    poller.poll()
    assert dict(zip(gateway.event_reads, gateway.optional_reads, strict=True)) == {
        "id-a": True,
        "id-b": False,
    }


def test_try_acquire_keeps_a_reserve_and_never_sleeps() -> None:
    clock = Clock()
    slept: list[float] = []
    limiter = RateLimiter(rate=1.0, burst=4.0, clock=clock, sleep=slept.append)
    assert limiter.try_acquire(keep=2.0)  # 4 -> 3
    assert limiter.try_acquire(keep=2.0)  # 3 -> 2
    assert not limiter.try_acquire(keep=2.0)  # would leave 1 < 2
    assert limiter.acquire() == 0.0  # the reserve is there for required reads
    assert slept == []


def _finish(poller: StatusPoller, clock: Clock, key: str, took: float) -> None:
    poller.watch(key, key, Location(), status="CREATE_IN_PROGRESS", kind="create")
    clock.now += took
    poller._watches[key].status = "CREATE_COMPLETE"
    poller.unwatch(key)


def test_aimed_polls_cover_the_durations_seen_from_fastest_to_slowest() -> None:
    clock = Clock()
    policy = PollPolicy(
        min_interval=1.0, max_interval=1.0, aim_interval=0.02, aim_ratio=0, aim_lead=0.05
    )
    poller = StatusPoller(FakeGateway(), policy=policy, clock=clock)  # type: ignore[arg-type]
    for took in (10.0, 10.1, 10.2):
        _finish(poller, clock, f"done{took}", took)
    poller.watch("w", "w", Location(), status="CREATE_IN_PROGRESS", kind="create")
    start = clock.now
    aim = poller._aim("w")
    assert aim is not None and aim[1] == pytest.approx(start + 10.1)  # the median
    polls = []
    while clock.now < start + 12:
        clock.now += poller.due_in() or 0.0
        poller.poll()
        polls.append(clock.now - start)
    aimed = [t for t in polls if 9.9 <= t <= 10.3]
    # From 0.05 s before the fastest to 0.05 s after the slowest, every 0.02 s.
    assert aimed[0] == pytest.approx(9.95) and aimed[-1] == pytest.approx(10.25, abs=0.021)
    gaps = [b - a for a, b in itertools.pairwise(aimed)]
    assert max(gaps) == pytest.approx(0.02)
    # Outside the window, the plain interval (1 s).
    assert next(t for t in polls if t > 10.3) >= 11.0 - 1e-9


def test_a_wide_spread_is_aimed_at_only_within_the_window_around_the_median() -> None:
    clock = Clock()
    policy = PollPolicy(min_interval=5, max_interval=5, aim_window=0.3, aim_lead=0.06)
    poller = StatusPoller(FakeGateway(), policy=policy, clock=clock)  # type: ignore[arg-type]
    for took in (10.0, 20.0, 60.0):
        _finish(poller, clock, f"done{took}", took)
    poller.watch("w", "w", Location(), status="CREATE_IN_PROGRESS", kind="create")
    start = clock.now

    def due_at(age: float) -> float | None:
        clock.now = poller._last_round = start + age
        return poller.due_in()

    # Not from the fastest (10 s) on: from the median less the window, less the lead.
    assert due_at(12.0) == pytest.approx(5.0)
    assert due_at(19.0) == pytest.approx(0.64)
    # Inside, every 1% of the median (0.2 s): 20 ms apart would gain nothing here.
    assert due_at(20.2) == pytest.approx(0.2)
    # Past the median plus the window and the lead: back to the plain interval.
    assert due_at(20.4) == pytest.approx(5.0)


def test_aiming_can_be_turned_off() -> None:
    clock = Clock()
    policy = PollPolicy(min_interval=1, max_interval=1, aim_window=-1)
    poller = StatusPoller(FakeGateway(), policy=policy, clock=clock)  # type: ignore[arg-type]
    _finish(poller, clock, "done", 3.0)
    poller.watch("w", "w", Location(), status="CREATE_IN_PROGRESS", kind="create")
    start = clock.now
    polls = []
    while clock.now < start + 5:
        clock.now += poller.due_in() or 0.0
        poller.poll()
        polls.append(round(clock.now - start, 6))
    assert polls == [1.0, 2.0, 3.0, 4.0, 5.0]
