"""fleet: pool discovery, AMI validation, pool selection, where AMIs come from, the env file."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from stackyard.errors import ConfigError, UsageError
from stackyard.fleet import check_release, find_pools, record_ami, select_pools, validate_ami
from stackyard.project import Project

OPS = Path(__file__).resolve().parents[2] / "examples" / "ops"
NEW = "ami-0123456789abcdef0"

POOL = """
    class_path: {class_path}
    variables:
      ClusterName: c
      InstanceProfileArn: arn:aws:iam::123456789012:instance-profile/p
      SecurityGroupIds: sg-12345678
      SubnetIds: subnet-12345678
      ImageId: {image}
      Pools:
{pools}
"""

SUBCLASS = """
from stackyard.library.ecs import CapacityPools


class GpuPools(CapacityPools):
    pass
"""


def pool_stack(name: str, image: str, pools: str, class_path: str = "") -> str:
    body = POOL.format(
        class_path=class_path or "stackyard.library.ecs.CapacityPools",
        image=image,
        pools=textwrap.indent(textwrap.dedent(pools).strip("\n"), " " * 8),
    )
    return f"  - name: {name}\n" + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n"


def spec(*names: str, image: str = "") -> str:
    lines = []
    for name in names:
        lines.append(f"{name}:")
        lines.append("  {InstanceType: t3.small, MinSize: 1, MaxSize: 2}")
        if image:
            lines[-1] = f"  {{InstanceType: t3.small, MinSize: 1, MaxSize: 2, ImageId: {image}}}"
    return "\n".join(lines)


def load(tmp_path: Path, stacks: str, env: str = "", **overrides: str) -> Project:
    (tmp_path / "fleetbp.py").write_text(SUBCLASS)
    (tmp_path / "stage.env").write_text(env or "ami_id: ami-0a1b2c3d4e5f60718\n")
    config = tmp_path / "stackyard.yaml"
    config.write_text("namespace: ns\nsys_path: .\nstacks:\n" + stacks)
    return Project.load(
        str(config), environment_file=str(tmp_path / "stage.env"), overrides=overrides
    )


# --- AMI IDs -------------------------------------------------------------------------------


@pytest.mark.parametrize("ami", ["ami-0a1b2c3d", "ami-0123456789abcdef0"])
def test_ami_ids_of_8_or_17_hex_digits_are_valid(ami: str) -> None:
    assert validate_ami(ami) == ami


@pytest.mark.parametrize(
    "ami",
    [
        "ami-123",
        "ami-0123456789abcdef",
        "ami-0123456789abcdef0g",
        "i-0123456789abcdef0",
        "",
        "ami-",
    ],
)
def test_other_shapes_are_refused_with_the_expected_shape(ami: str) -> None:
    with pytest.raises(UsageError, match="is not an AMI ID") as err:
        validate_ami(ami)
    assert err.value.exit_code == 2
    assert "8 or 17" in (err.value.hint or "")


def test_an_uppercase_ami_gets_a_did_you_mean() -> None:
    with pytest.raises(UsageError) as err:
        validate_ami("AMI-0123456789ABCDEF0 ")
    assert err.value.hint == f"did you mean {NEW!r}?"


# --- pool discovery ------------------------------------------------------------------------


def test_the_ops_example_has_two_pools_fed_by_one_environment_key() -> None:
    project = Project.load(str(OPS / "stackyard.yaml"), environment_file=str(OPS / "stage.env"))
    pools = find_pools(project)
    assert [(p.name, p.stack, p.logical) for p in pools] == [
        ("web", "pool-web", "Web"),
        ("worker", "pool-worker", "Worker"),
    ]
    assert {(p.source.kind, p.source.text, p.source.path) for p in pools} == {
        ("env", "ami_id", "variables.ImageId")
    }
    assert {p.image for p in pools} == {"ami-0a1b2c3d4e5f60718"}


def test_pools_are_capacity_pools_stacks_and_subclasses_only(tmp_path: Path) -> None:
    stacks = (
        pool_stack("pools-a", "${ami_id}", spec("web", "batch-jobs"))
        + pool_stack("pools-gpu", "${ami_id}", spec("gpu"), class_path="fleetbp.GpuPools")
        + "  - name: bastion\n"
        "    class_path: stackyard.library.network.Vpc\n"
        "    variables: {CidrBlock: 10.0.0.0/16, ImageId: ami-0a1b2c3d}\n"
        + pool_stack("pools-off", "${ami_id}", spec("off")).replace(
            "    class_path", "    enabled: false\n    class_path"
        )
    )
    pools = find_pools(load(tmp_path, stacks))
    assert [p.label for p in pools] == ["pools-a/web", "pools-a/batch-jobs", "pools-gpu/gpu"]
    assert pools[1].logical == "BatchJobs"


def test_a_pool_with_its_own_image_id_has_its_own_source(tmp_path: Path) -> None:
    stacks = pool_stack("pools", "${ami_id}", spec("web") + "\n" + spec("gpu", image="${gpu_ami}"))
    env = "ami_id: ami-0a1b2c3d\ngpu_ami: ami-0b1b2c3d\n"
    web, gpu = find_pools(load(tmp_path, stacks, env))
    assert (web.source.text, web.image) == ("ami_id", "ami-0a1b2c3d")
    assert (gpu.source.text, gpu.source.path, gpu.image) == (
        "gpu_ami",
        "variables.Pools.gpu.ImageId",
        "ami-0b1b2c3d",
    )


# --- selection -----------------------------------------------------------------------------


def two_stacks(tmp_path: Path) -> Project:
    stacks = pool_stack("pool-web", "${web_ami}", spec("web")) + pool_stack(
        "pool-worker", "${worker_ami}", spec("worker")
    )
    return load(tmp_path, stacks, "web_ami: ami-0a1b2c3d\nworker_ami: ami-0a1b2c3d\n")


def test_pools_are_selected_by_pool_or_stack_name_and_commas(tmp_path: Path) -> None:
    pools = find_pools(two_stacks(tmp_path))
    assert [p.name for p in select_pools(pools, [])] == ["web", "worker"]
    assert [p.name for p in select_pools(pools, ["worker"])] == ["worker"]
    assert [p.name for p in select_pools(pools, ["pool-web"])] == ["web"]
    assert [p.name for p in select_pools(pools, ["worker,web", "web"])] == ["worker", "web"]


def test_an_unknown_pool_is_a_usage_error_with_a_suggestion(tmp_path: Path) -> None:
    pools = find_pools(two_stacks(tmp_path))
    with pytest.raises(UsageError, match="--pools wrker: no pool of that name") as err:
        select_pools(pools, ["wrker"])
    assert err.value.exit_code == 2
    assert err.value.hint == "did you mean 'worker'? pools: web, worker"


def test_a_pool_name_in_two_stacks_must_be_qualified(tmp_path: Path) -> None:
    stacks = pool_stack("a", "${ami_id}", spec("web")) + pool_stack("b", "${ami_id}", spec("web"))
    pools = find_pools(load(tmp_path, stacks))
    with pytest.raises(UsageError, match="several stacks") as err:
        select_pools(pools, ["web"])
    assert "a/web, b/web" in (err.value.hint or "")
    assert [p.label for p in select_pools(pools, ["b/web"])] == ["b/web"]


def test_a_config_without_pools_is_an_error() -> None:
    with pytest.raises(ConfigError, match="no capacity pools") as err:
        select_pools([], [])
    assert "CapacityPools" in (err.value.hint or "")


# --- where the AMI comes from ----------------------------------------------------------------


def test_a_release_sets_the_keys_of_the_selected_pools(tmp_path: Path) -> None:
    selected, keys = check_release(two_stacks(tmp_path), NEW, ["worker"])
    assert ([p.name for p in selected], keys) == (["worker"], ("worker_ami",))


def test_releasing_one_of_two_pools_sharing_a_key_is_refused() -> None:
    project = Project.load(str(OPS / "stackyard.yaml"), environment_file=str(OPS / "stage.env"))
    with pytest.raises(UsageError, match="web shares environment key 'ami_id'") as err:
        check_release(project, NEW, ["web"])
    assert "add --pools worker" in (err.value.hint or "")
    _, keys = check_release(project, NEW, [])
    assert keys == ("ami_id",)


@pytest.mark.parametrize(
    ("image", "described"),
    [
        ("ami-0a1b2c3d", "the value 'ami-0a1b2c3d' written in the config"),
        ("${ssm /ns/ami}", "the lookup ${ssm /ns/ami}"),
    ],
)
def test_an_ami_that_is_no_environment_key_cannot_be_released(
    tmp_path: Path, image: str, described: str
) -> None:
    project = load(tmp_path, pool_stack("pools", image, spec("web")))
    with pytest.raises(ConfigError) as err:
        check_release(project, NEW, [])
    assert described in err.value.message
    assert err.value.stack == "pools"
    assert err.value.key == "variables.ImageId"


def test_other_stacks_using_the_key_are_named_in_a_warning(tmp_path: Path) -> None:
    from stackyard.fleet import _other_uses

    stacks = pool_stack("pools", "${ami_id}", spec("web")) + (
        "  - name: bastion\n"
        "    class_path: stackyard.library.network.Vpc\n"
        "    variables: {CidrBlock: 10.0.0.0/16, Image: ${ami_id}}\n"
    )
    project = load(tmp_path, stacks)
    selected, keys = check_release(project, NEW, [])
    (warning,) = _other_uses(project, keys, selected)
    assert "'ami_id' is also used by stack 'bastion' (variables.Image)" in warning


def test_the_ami_shape_is_checked_before_the_pools(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not an AMI ID"):
        check_release(two_stacks(tmp_path), "ami-1", ["nope"])


# --- recording the AMI -----------------------------------------------------------------------


def test_recording_rewrites_only_the_key_line(tmp_path: Path) -> None:
    env = tmp_path / "stage.env"
    env.write_text("# stage\nnamespace: ops\nami_id: ami-0a1b2c3d\n\n# sizes\nweb_max: 3")
    assert record_ami(str(env), ["ami_id", "gpu_ami"], NEW) == [
        ("ami_id", "ami-0a1b2c3d"),
        ("gpu_ami", ""),
    ]
    assert env.read_text() == (
        f"# stage\nnamespace: ops\nami_id: {NEW}\n\n# sizes\nweb_max: 3\ngpu_ami: {NEW}\n"
    )
    assert record_ami(str(env), ["ami_id", "gpu_ami"], NEW) == []


def test_recording_in_a_yaml_environment_keeps_comments(tmp_path: Path) -> None:
    env = tmp_path / "stage.yaml"
    env.write_text("namespace: ops\nami_id: 'ami-0a1b2c3d'  # base image\nlist: [a, b]\n")
    assert record_ami(str(env), ["ami_id"], NEW) == [("ami_id", "ami-0a1b2c3d")]
    assert env.read_text() == f"namespace: ops\nami_id: {NEW}  # base image\nlist: [a, b]\n"
