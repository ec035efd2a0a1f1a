"""stacker's built-in hooks, by their stacker paths, on the local AWS: same arguments, same
results, and a second run changes nothing."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest

from stackyard.aws.session import ClientFactory
from stackyard.config.model import Hook
from stackyard.context import Context
from stackyard.hooks.runner import HookFailed, HookProvider, resolve_hook_path, run_hooks
from stackyard.local.runner import LocalEndpoint

STACKYARD = Path(sys.executable).with_name("stackyard")


@pytest.fixture
def provider(local_endpoint: LocalEndpoint) -> HookProvider:
    return HookProvider("us-east-1", ClientFactory(endpoint_url=local_endpoint.url))


def _run(path: str, provider: HookProvider, context: Context | None = None, **args: Any) -> Any:
    hook = resolve_hook_path(path)
    return hook(context=context or Context(namespace="h"), provider=provider, **args)


def test_route53_create_domain_makes_one_zone(provider: HookProvider, aws: Any) -> None:
    domain = f"h{uuid.uuid4().hex[:8]}.example.com"
    made = _run("stacker.hooks.route53.create_domain", provider, domain=domain)
    again = _run("stacker.hooks.route53.create_domain", provider, domain=domain)
    assert made == again and made["domain"] == domain and made["zone_id"]
    zones = [z for z in aws("route53").list_hosted_zones()["HostedZones"] if domain in z["Name"]]
    assert len(zones) == 1 and zones[0]["Id"].endswith(made["zone_id"])


def test_ecs_create_clusters(provider: HookProvider, aws: Any) -> None:
    names = [f"c{uuid.uuid4().hex[:6]}", f"c{uuid.uuid4().hex[:6]}"]
    made = _run("stacker.hooks.ecs.create_clusters", provider, clusters=names)
    assert sorted(made["clusters"]) == sorted(names)
    listed = aws("ecs").describe_clusters(clusters=names)["clusters"]
    assert sorted(c["clusterName"] for c in listed) == sorted(names)
    one = _run("stacker.hooks.ecs.create_clusters", provider, clusters=names[0])
    assert list(one["clusters"]) == [names[0]]


def test_iam_ecs_service_role_and_server_certificate(
    provider: HookProvider, aws: Any, tmp_path: Path
) -> None:
    role = f"ecs{uuid.uuid4().hex[:8]}"
    assert _run("stacker.hooks.iam.create_ecs_service_role", provider, role_name=role) is True
    assert _run("stacker.hooks.iam.create_ecs_service_role", provider, role_name=role) is True
    policy = aws("iam").get_role_policy(
        RoleName=role, PolicyName="AmazonEC2ContainerServiceRolePolicy"
    )
    document = policy["PolicyDocument"]
    if isinstance(document, str):
        document = json.loads(document)
    assert "elasticloadbalancing:RegisterTargets" in document["Statement"][0]["Action"]

    cert = f"cert{uuid.uuid4().hex[:6]}"
    with pytest.raises(ValueError, match="path_to_certificate"):
        _run("stacker.hooks.iam.ensure_server_cert_exists", provider, cert_name=cert)
    assert (
        _run("stacker.hooks.iam.ensure_server_cert_exists", provider, cert_name=cert, prompt=False)
        is False
    )
    body, key = _self_signed(tmp_path)
    uploaded = _run(
        "stacker.hooks.iam.ensure_server_cert_exists",
        provider,
        cert_name=cert,
        path_to_certificate=str(body),
        path_to_private_key=str(key),
    )
    assert uploaded["status"] == "uploaded" and uploaded["cert_arn"].endswith(cert)
    again = _run("stacker.hooks.iam.ensure_server_cert_exists", provider, cert_name=cert)
    assert again == {**uploaded, "status": "exists"}


def _self_signed(folder: Path) -> tuple[Path, Path]:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hooks.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    body, private = folder / "cert.pem", folder / "key.pem"
    body.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return body, private


def test_keypair_created_into_ssm_imported_or_kept(
    provider: HookProvider, aws: Any, tmp_path: Path
) -> None:
    name = f"kp{uuid.uuid4().hex[:8]}"
    parameter = f"/hooks/{name}"
    made = _run(
        "stacker.hooks.keypair.ensure_keypair_exists",
        provider,
        keypair=name,
        ssm_parameter_name=parameter,
    )
    assert made["status"] == "created" and made["key_name"] == name
    stored = aws("ssm").get_parameter(Name=parameter, WithDecryption=True)["Parameter"]
    assert stored["Type"] == "SecureString" and "PRIVATE KEY" in stored["Value"]
    assert stored["Value"] not in json.dumps(made)  # the private key is never returned
    kept = _run("stacker.hooks.keypair.ensure_keypair_exists", provider, keypair=name)
    assert kept == {"status": "exists", "key_name": name, "fingerprint": made["fingerprint"]}

    other = f"kp{uuid.uuid4().hex[:8]}"
    public = tmp_path / "id.pub"
    _write_public_key(public)
    imported = _run(
        "stacker.hooks.keypair.ensure_keypair_exists",
        provider,
        keypair=other,
        public_key_path=str(public),
    )
    assert imported["status"] == "imported"
    with pytest.raises(ValueError, match="ssm_parameter_name"):
        _run("stacker.hooks.keypair.ensure_keypair_exists", provider, keypair=f"x{other}")


def _write_public_key(path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
    )


def test_lambda_functions_are_zipped_the_same_way_and_uploaded_once(
    provider: HookProvider, aws: Any, tmp_path: Path
) -> None:
    source = tmp_path / "functions" / "hello"
    source.mkdir(parents=True)
    (source / "handler.py").write_text("def handler(event, context):\n    return 'hi'\n")
    (source / "cache.pyc").write_bytes(b"skip me")
    bucket = f"hooks-{uuid.uuid4().hex[:8]}"
    context = Context(namespace="h", bucket_name=bucket, config_path=str(tmp_path / "c.yaml"))
    args = {"functions": {"hello": {"path": "functions/hello"}}, "prefix": "code/"}
    first = _run("stacker.hooks.aws_lambda.upload_lambda_functions", provider, context, **args)
    code = first["hello"].to_dict()
    assert code["S3Bucket"] == bucket and code["S3Key"].startswith("code/lambda-hello-")
    body = aws("s3").get_object(Bucket=bucket, Key=code["S3Key"])["Body"].read()
    assert zipfile.ZipFile(io.BytesIO(body)).namelist() == ["handler.py"]
    (source / "handler.py").touch()  # a new mtime: the same bytes, the same key
    second = _run("stacker.hooks.aws_lambda.upload_lambda_functions", provider, context, **args)
    assert second["hello"].to_dict() == code
    keys = aws("s3").list_objects_v2(Bucket=bucket)["Contents"]
    assert [k["Key"] for k in keys] == [code["S3Key"]]


def test_stacker_hooks_run_from_a_config_and_feed_hook_data(
    local_endpoint: LocalEndpoint, tmp_path: Path
) -> None:
    ns = f"hk{uuid.uuid4().hex[:6]}"
    (tmp_path / "param.json").write_text(
        json.dumps(
            {
                "Parameters": {"Value": {"Type": "String"}},
                "Resources": {
                    "P": {
                        "Type": "AWS::SSM::Parameter",
                        "Properties": {"Type": "String", "Value": {"Ref": "Value"}},
                    }
                },
            }
        )
    )
    (tmp_path / "stackyard.yaml").write_text(
        textwrap.dedent(
            f"""\
            namespace: {ns}
            pre_build:
              - path: stacker.hooks.route53.create_domain
                data_key: zone
                args: {{domain: {ns}.example.com}}
              - path: stacker.hooks.ecs.create_clusters
                args: {{clusters: [{ns}-cluster]}}
            stacks:
              - name: uses-zone
                template_path: param.json
                variables: {{Value: "${{hook_data zone::zone_id}}"}}
            """
        )
    )
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": local_endpoint.url,
        "STACKYARD_HOME": str(tmp_path / "home"),
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [str(STACKYARD), "build", "--region", "us-east-1", "stackyard.yaml"],
        cwd=tmp_path,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pre_build hook stacker.hooks.route53.create_domain: done" in done.stdout + done.stderr


def test_a_failing_hook_names_itself(provider: HookProvider) -> None:
    hook = Hook(path="stacker.hooks.ecs.create_clusters", args={"clusters": []})
    with pytest.raises(HookFailed, match="create_clusters"):
        run_hooks("pre_build", [hook], Context(namespace="h"), provider)
