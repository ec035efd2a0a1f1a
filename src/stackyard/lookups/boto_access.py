"""``AWSAccess`` with boto3: the reads AWS-backed lookups make.

The session factory is injected (``region -> boto3.Session``), so the local
endpoint, moto and botocore's ``Stubber`` all plug in at the same seam. boto3
is imported only when a client is first needed. botocore errors are mapped to
ours here, once: something missing becomes a ``LookupError_`` with a hint, any
other failure an ``AWSError``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from stackyard.errors import AWSError, LookupError_
from stackyard.lookups.ami import newest_matching_image
from stackyard.lookups.secret import Secret

if TYPE_CHECKING:
    import boto3


class BotoAWSAccess:
    """Reads stack outputs, SSM parameters, KMS plaintexts, AMIs and DynamoDB items."""

    def __init__(self, session_factory: Callable[[str | None], boto3.Session]) -> None:
        self._session_factory = session_factory
        self._clients: dict[tuple[str, str | None], Any] = {}

    def _client(self, service: str, region: str | None) -> Any:
        key = (service, region)
        if key not in self._clients:
            session: Any = self._session_factory(region)  # stubs type client() per literal name
            self._clients[key] = session.client(service)
        return self._clients[key]

    def stack_outputs(self, fqn: str, region: str | None = None) -> dict[str, str]:
        """The outputs of the deployed stack ``fqn``."""
        with _mapped(f"reading outputs of stack {fqn}", missing=("ValidationError",)):
            response = self._client("cloudformation", region).describe_stacks(StackName=fqn)
        return {
            str(output["OutputKey"]): str(output["OutputValue"])
            for stack in response.get("Stacks", [])[:1]
            for output in stack.get("Outputs", [])
        }

    def ssm_parameter(self, name: str, region: str | None = None) -> tuple[str, str]:
        """An SSM parameter's decrypted value and its type."""
        with _mapped(f"reading SSM parameter {name}", missing=("ParameterNotFound",)):
            response = self._client("ssm", region).get_parameter(Name=name, WithDecryption=True)
        parameter = response["Parameter"]
        value, kind = str(parameter["Value"]), str(parameter["Type"])
        if kind == "SecureString":
            # The version pins the reference: a new secret version changes the template,
            # so the next build deploys it.
            reference = f"{{{{resolve:ssm-secure:{name}:{parameter['Version']}}}}}"
            return Secret(value, reference), kind
        return value, kind

    def kms_decrypt(self, ciphertext_b64: str, region: str | None = None) -> str:
        """The UTF-8 plaintext of a base64 KMS ciphertext."""
        try:
            blob = base64.b64decode(ciphertext_b64, validate=True)
        except binascii.Error as exc:
            raise LookupError_("the KMS ciphertext is not base64") from exc
        with _mapped("decrypting with KMS", missing=("InvalidCiphertextException",)):
            response = self._client("kms", region).decrypt(CiphertextBlob=blob)
        plaintext: bytes = response["Plaintext"]
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LookupError_("the KMS plaintext is not UTF-8 text") from exc

    def ami_search(
        self,
        owners: Sequence[str],
        filters: Mapping[str, Sequence[str]],
        name_regex: str,
        region: str | None = None,
        executable_users: Sequence[str] = (),
    ) -> str:
        """The id of the newest image whose whole name matches ``name_regex``."""
        request: dict[str, Any] = {
            "Owners": list(owners),
            "Filters": [{"Name": k, "Values": list(v)} for k, v in filters.items()],
        }
        if executable_users:
            request["ExecutableUsers"] = list(executable_users)
        with _mapped("searching AMIs"):
            images = self._client("ec2", region).describe_images(**request).get("Images", [])
        image_id = newest_matching_image(images, name_regex)
        if image_id is None:
            raise LookupError_(
                f"no AMI owned by {','.join(owners)} has a name matching {name_regex!r}",
                hint=f"{len(images)} image(s) matched the owners and filters",
            )
        return image_id

    def dynamodb_item(
        self, table: str, key: Mapping[str, Mapping[str, str]], region: str | None = None
    ) -> dict[str, Any] | None:
        """The typed item with ``key``, or ``None`` if the table has none."""
        with _mapped(f"reading DynamoDB table {table}", missing=("ResourceNotFoundException",)):
            response = self._client("dynamodb", region).get_item(TableName=table, Key=dict(key))
        item = response.get("Item")
        return dict(item) if item is not None else None


@contextmanager
def _mapped(doing: str, missing: tuple[str, ...] = ()) -> Iterator[None]:
    """Turn botocore errors into ours: codes in ``missing`` are lookup errors."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = error.get("Code", ""), error.get("Message", str(exc))
        if code in missing:
            raise LookupError_(f"{doing}: {message}", hint=f"AWS answered {code}") from exc
        raise AWSError(f"{doing}: {code}: {message}") from exc
    except BotoCoreError as exc:
        raise AWSError(f"{doing}: {exc}") from exc
