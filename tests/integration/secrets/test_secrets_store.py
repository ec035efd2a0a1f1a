"""SecretStore on the local AWS: round trips, bad input that writes nothing, migration."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from stackyard.lookups.secret import Secret
from stackyard.secrets.paths import SecretPathError
from stackyard.secrets.store import SecretNotFound, SecretsError, SecretStore


def test_put_get_list_history_rm_round_trip(
    store: SecretStore, namespace: str, make_key: Callable[[str], str]
) -> None:
    key_arn = make_key(f"alias/{namespace}/secrets")
    name = f"/{namespace}/web/DB_URL"

    created = store.put(name, "postgres://one")
    assert (created.version, created.created, created.key.arn) == (1, True, key_arn)
    with pytest.raises(SecretsError, match="already exists \\(version 1\\)") as info:
        store.put(name, "postgres://two")
    assert "--overwrite" in (info.value.hint or "")
    updated = store.put(name, "postgres://two", overwrite=True)
    assert (updated.version, updated.created) == (2, False)
    store.put(f"/{namespace}/web/TOKEN", "t0ken")
    store.put(f"/{namespace}/webapp/OTHER", "x")

    meta, value = store.get(name)
    assert isinstance(value, Secret) and value.reveal() == "postgres://two"
    assert repr(value) == "Secret('****')"
    assert meta.version == 2

    listed = store.list_secrets(f"/{namespace}/web")
    assert [s.name for s in listed] == [name, f"/{namespace}/web/TOKEN"]
    assert all(not hasattr(s, "value") for s in listed)
    assert len(store.list_secrets()) == 3

    versions = store.history(name)
    assert [v.version for v in versions] == [1, 2]
    assert all(store.key_arn_of(v.key_id) == key_arn for v in versions)

    assert store.delete(name).name == name
    with pytest.raises(SecretNotFound):
        store.get(name)


def test_bad_input_is_refused_before_anything_is_written(
    store: SecretStore,
    aws: Callable[[str], Any],
    namespace: str,
    make_key: Callable[[str], str],
) -> None:
    ssm = aws("ssm")
    # a path outside the namespace
    with pytest.raises(SecretPathError, match="outside the namespace"):
        store.put("/elsewhere/web/X", "v")
    # a missing key: the namespace's key was never deployed
    with pytest.raises(SecretsError, match=f"alias/{namespace}/secrets not found") as info:
        store.put(f"/{namespace}/web/X", "v")
    assert "secrets key stack" in (info.value.hint or "")
    with pytest.raises(SecretsError, match="not found"):
        store.put(f"/{namespace}/web/X", "v", key="alias/nope")
    # a wrong key: disabled, or not usable by SSM
    make_key(f"alias/{namespace}/secrets")
    disabled = make_key(f"alias/{namespace}/disabled")
    aws("kms").disable_key(KeyId=disabled.rsplit("/", 1)[1])  # moto wants the id
    with pytest.raises(SecretsError, match="Disabled"):
        store.put(f"/{namespace}/web/X", "v", key=disabled)
    signing = aws("kms").create_key(KeyUsage="SIGN_VERIFY", KeySpec="RSA_2048")["KeyMetadata"]
    with pytest.raises(SecretsError, match="symmetric"):
        store.put(f"/{namespace}/web/X", "v", key=signing["Arn"])
    # a parameter that is not a SecureString
    ssm.put_parameter(Name=f"/{namespace}/web/PLAIN", Value="p", Type="String")
    with pytest.raises(SecretsError, match="String parameter, not a SecureString"):
        store.put(f"/{namespace}/web/PLAIN", "v", overwrite=True)
    with pytest.raises(SecretsError, match="not a SecureString"):
        store.get(f"/{namespace}/web/PLAIN")
    # empty and oversized values
    with pytest.raises(SecretsError, match="empty"):
        store.put(f"/{namespace}/web/X", "")
    with pytest.raises(SecretsError, match="5000 bytes"):
        store.put(f"/{namespace}/web/X", "x" * 5000)
    # nothing was written
    names = [
        p["Name"]
        for p in ssm.describe_parameters(
            ParameterFilters=[{"Key": "Name", "Option": "BeginsWith", "Values": [f"/{namespace}/"]}]
        )["Parameters"]
    ]
    assert names == [f"/{namespace}/web/PLAIN"]
    assert ssm.get_parameter(Name=f"/{namespace}/web/PLAIN")["Parameter"]["Value"] == "p"
    with pytest.raises(SecretNotFound):
        store.delete(f"/{namespace}/web/MISSING")


def test_migrate_three_per_role_keys_to_one_keeps_every_value(
    store: SecretStore,
    aws: Callable[[str], Any],
    namespace: str,
    make_key: Callable[[str], str],
) -> None:
    ssm = aws("ssm")
    role_keys = [make_key(f"alias/{namespace}/role{i}") for i in range(3)]
    unrelated = make_key(f"alias/{namespace}/unrelated")
    target = make_key(f"alias/{namespace}/secrets")
    values = {}
    for i, key in enumerate(role_keys):
        for j in range(2):
            name = f"/{namespace}/app{i}/S{j}"
            values[name] = f"value-{i}-{j}"
            # the old way: each role's key given by alias, ARN or id
            given = [f"alias/{namespace}/role{i}", key, key.rsplit("/", 1)[1]][j % 3]
            ssm.put_parameter(
                Name=name,
                Value=values[name],
                Type="SecureString",
                KeyId=given,
                Description=f"d{i}{j}",
            )
    ssm.put_parameter(Name=f"/{namespace}/other/X", Value="o", Type="SecureString", KeyId=unrelated)
    ssm.put_parameter(Name=f"/{namespace}/done/Y", Value="y", Type="SecureString", KeyId=target)
    from_keys = [f"alias/{namespace}/role0", role_keys[1], role_keys[2].rsplit("/", 1)[1]]

    dry = store.migrate(from_keys, f"alias/{namespace}/secrets", dry_run=True)
    assert [m.status for m in dry.moves] == ["would move"] * 6
    assert all(
        store.key_arn_of(info.key_id) in role_keys
        for info in store.list_secrets()
        if info.name in values
    )

    report = store.migrate(from_keys, f"alias/{namespace}/secrets")
    assert sorted(m.name for m in report.moves) == sorted(values)
    assert {m.status for m in report.moves} == {"moved"}
    assert all(m.to_version == m.from_version + 1 for m in report.moves)
    assert report.already == (f"/{namespace}/done/Y",)
    assert [name for name, _ in report.other] == [f"/{namespace}/other/X"]
    for name, value in values.items():
        info, secret = store.get(name)
        assert secret.reveal() == value
        assert store.key_arn_of(info.key_id) == target
        assert info.description.startswith("d")

    again = store.migrate(from_keys, f"alias/{namespace}/secrets")
    assert again.moves == () and len(again.already) == 7

    with pytest.raises(SecretsError, match="also a --from-key"):
        store.migrate([target], target)
    with pytest.raises(SecretsError, match="not found"):
        store.migrate(["alias/missing-key"], target)
