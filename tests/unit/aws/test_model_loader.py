"""ServiceLoader answers botocore's "is this service known?" like botocore's own Loader."""

from __future__ import annotations

from pathlib import Path

import botocore.session
import pytest
from botocore.exceptions import UnknownServiceError
from botocore.loaders import Loader

from stackyard.aws.model_loader import ServiceLoader, install


def test_membership_matches_botocores_list() -> None:
    ours, theirs = ServiceLoader(), Loader()
    everything = theirs.list_available_services("service-2")
    listed = ours.list_available_services("service-2")
    for name in ("cloudformation", "ssm", "ecs", "elbv2", "s3"):
        assert (name in listed) == (name in everything)
    assert "no-such-service" not in listed
    assert "../cloudformation" not in listed
    # Asked for the whole list, it is botocore's.
    assert list(listed) == everything
    assert len(listed) == len(everything) and listed[0] == everything[0]


def test_a_type_the_service_lacks_is_not_found() -> None:
    # Every service has a model; few have waiters: membership is per model type.
    ours, theirs = ServiceLoader(), Loader()
    for name in ("cloudformation", "sts", "kms"):
        assert (name in ours.list_available_services("waiters-2")) == (
            name in theirs.list_available_services("waiters-2")
        )


def test_sessions_with_it_make_clients_and_name_unknown_services() -> None:
    session = botocore.session.Session()
    session.set_credentials("a", "b")
    install(session)
    client = session.create_client("cloudformation", region_name="us-east-1")
    assert client.meta.service_model.service_name == "cloudformation"
    with pytest.raises(UnknownServiceError) as caught:
        session.create_client("no-such-service", region_name="us-east-1")
    assert "cloudformation" in str(caught.value)  # the valid names, listed in full


def test_aws_data_path_is_searched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = tmp_path / "madeup" / "2020-01-01" / "service-2.json"
    model.parent.mkdir(parents=True)
    model.write_text("{}")
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    session = botocore.session.Session()
    install(session)
    loader = session.get_component("data_loader")
    assert "madeup" in loader.list_available_services("service-2")
