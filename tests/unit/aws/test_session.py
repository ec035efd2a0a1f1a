"""ClientFactory: botocore clients per location, and the errors a user can act on."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackyard.aws.session import ClientFactory, Location
from stackyard.errors import AWSError


@pytest.fixture
def aws_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "config"
    config.write_text("[profile team]\nregion = eu-west-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    return config


@pytest.mark.usefixtures("aws_config")
def test_an_unknown_profile_is_named_with_a_hint() -> None:
    factory = ClientFactory()
    with pytest.raises(AWSError) as caught:
        factory.client("cloudformation", Location(region="us-east-1", profile="nope"))
    assert "AWS profile 'nope' not found" in str(caught.value)
    assert caught.value.hint == "see ~/.aws/config"


@pytest.mark.usefixtures("aws_config")
def test_a_profile_gives_its_region_and_one_client_per_location() -> None:
    factory = ClientFactory()
    client = factory.client("cloudformation", Location(profile="team"))
    assert client.meta.region_name == "eu-west-1"
    assert factory.client("cloudformation", Location(profile="team")) is client
    other = factory.client("cloudformation", Location(region="us-west-2", profile="team"))
    assert other.meta.region_name == "us-west-2"


def test_the_local_endpoint_gets_its_own_credentials_and_the_user_agent() -> None:
    factory = ClientFactory(endpoint_url="http://127.0.0.1:1")
    client = factory.client("cloudformation")
    assert client.meta.endpoint_url == "http://127.0.0.1:1"
    assert client.meta.region_name == "us-east-1"
    credentials = client._request_signer._credentials
    assert credentials.access_key == "testing"
    assert "stackyard/" in client.meta.config.user_agent_extra


@pytest.mark.usefixtures("aws_config")
def test_a_profile_named_by_aws_profile_is_named_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "gone")
    with pytest.raises(AWSError) as caught:
        ClientFactory().client("cloudformation", Location(region="us-east-1"))
    assert "AWS profile 'gone' not found" in str(caught.value)
