"""How the local ECS reads the agent's settings from an instance's user data."""

from __future__ import annotations

import base64

import pytest

from stackyard.library.ecs import pool_user_data
from stackyard.local.ecs.instances import _ATTRIBUTES, _CLUSTER, _user_data_text, instance_resources

ECHO = "#!/bin/bash\necho ECS_CLUSTER=prod-web >> /etc/ecs/ecs.config\n"
QUOTED = "#!/bin/bash\necho 'ECS_CLUSTER=prod-web' >> /etc/ecs/ecs.config\n"


@pytest.mark.parametrize(
    "user_data",
    [
        ECHO,
        QUOTED,
        base64.b64encode(ECHO.encode()).decode(),
        pool_user_data({"profile": "web"}).replace("${ClusterName}", "prod-web"),
    ],
)
def test_the_cluster_is_read_from_any_common_form(user_data: str) -> None:
    found = _CLUSTER.search(_user_data_text(user_data))
    assert found is not None and found.group(1) == "prod-web"


def test_instance_attributes_come_from_the_library_pools() -> None:
    text = pool_user_data({"profile": "worker", "lifecycle": "batch"})
    found = _ATTRIBUTES.search(text)
    assert found is not None
    assert found.group(1) == '{"lifecycle":"batch","profile":"worker"}'


def test_no_agent_settings_no_cluster() -> None:
    assert _CLUSTER.search(_user_data_text("#!/bin/bash\nyum install -y nginx\n")) is None


def test_resources_follow_the_instance_type() -> None:
    assert instance_resources("m5.large") == (2048, int(8192 * 0.94))
    assert instance_resources("no.such-type") is None
