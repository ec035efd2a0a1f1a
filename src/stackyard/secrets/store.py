"""``SecretStore``: SecureString parameters in SSM, encrypted under one KMS key.

Every operation checks its input first (name under the namespace, key exists,
enabled and symmetric, parameter is a SecureString) so that a bad request
writes nothing. Values are ``Secret`` strings; they never appear in results
other than :meth:`SecretStore.get`'s, nor in any error message (AWS messages
are scrubbed of the value before they are raised).

Clients come from an injected ``clients(service_name)`` callable, so the
local endpoint, moto or botocore's ``Stubber`` plug in at the same seam.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from stackyard.aws.errors import AWSCallError, error_code, map_client_error
from stackyard.errors import StackyardError
from stackyard.lookups.secret import MASK, Secret
from stackyard.secrets.paths import (
    key_alias,
    parameter_arn,
    validate_name,
    validate_pattern,
)

__all__ = [
    "KeyInfo",
    "Migration",
    "Move",
    "PutResult",
    "SecretInfo",
    "SecretNotFound",
    "SecretStore",
    "SecretVersion",
    "SecretsError",
]

Clients = Callable[[str], Any]
#: SSM's limit for a standard-tier parameter value.
MAX_VALUE_BYTES = 4096


@dataclass(eq=False)
class SecretsError(StackyardError):
    """A secrets operation cannot be done as asked (exists, wrong type, bad key...)."""


@dataclass(eq=False)
class SecretNotFound(SecretsError):
    """No parameter has that name."""


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, dt.datetime) else None


@dataclass(frozen=True)
class KeyInfo:
    """A KMS key as the user named it and as KMS knows it."""

    given: str
    arn: str
    key_id: str

    def as_dict(self) -> dict[str, str]:
        """JSON-ready fields."""
        return {"given": self.given, "arn": self.arn, "key_id": self.key_id}


@dataclass(frozen=True)
class SecretInfo:
    """What is known about a secret without its value."""

    name: str
    type: str
    version: int
    key_id: str
    last_modified: dt.datetime | None
    last_modified_user: str
    description: str = ""
    tier: str = "Standard"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields (never a value)."""
        return {
            "name": self.name,
            "type": self.type,
            "version": self.version,
            "key": self.key_id,
            "last_modified": _iso(self.last_modified),
            "last_modified_user": self.last_modified_user,
            "description": self.description,
        }


@dataclass(frozen=True)
class SecretVersion:
    """One version of a secret, without its value."""

    name: str
    version: int
    key_id: str
    modified: dt.datetime | None
    user: str
    labels: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields (never a value)."""
        return {
            "name": self.name,
            "version": self.version,
            "key": self.key_id,
            "modified": _iso(self.modified),
            "user": self.user,
            "labels": list(self.labels),
        }


@dataclass(frozen=True)
class PutResult:
    """The outcome of a put: the new version and the key it is encrypted under."""

    name: str
    version: int
    key: KeyInfo
    created: bool


@dataclass(frozen=True)
class Move:
    """One parameter in a migration: what it was encrypted under and what happened."""

    name: str
    from_key: str
    to_key: str
    from_version: int
    to_version: int | None
    status: str  # "moved", "would move", "failed"
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields (never a value)."""
        return {
            "name": self.name,
            "from_key": self.from_key,
            "to_key": self.to_key,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "status": self.status,
            "error": self.error,
        }


@dataclass(frozen=True)
class Migration:
    """What a migration moved, what was already under the target key, what it left alone."""

    to_key: KeyInfo
    dry_run: bool
    moves: tuple[Move, ...] = ()
    already: tuple[str, ...] = ()
    other: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def failed(self) -> tuple[Move, ...]:
        """The moves that failed."""
        return tuple(m for m in self.moves if m.status == "failed")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields (never a value)."""
        return {
            "to_key": self.to_key.as_dict(),
            "dry_run": self.dry_run,
            "moves": [m.as_dict() for m in self.moves],
            "already_under_target": list(self.already),
            "other_keys": [{"name": n, "key": k} for n, k in self.other],
        }


def _scrub(text: str, secrets: Iterable[str]) -> str:
    for value in secrets:
        if value:
            text = text.replace(value, MASK)
    return text


class SecretStore:
    """Secrets of one namespace (or of any, with ``namespace=None``) in one region."""

    def __init__(self, clients: Clients, namespace: str | None = None) -> None:
        self._clients = clients
        self.namespace = namespace or None
        self._account: str | None = None
        self._keys: dict[str, KeyInfo | None] = {}

    # -- context -------------------------------------------------------------------------

    def client(self, service: str) -> Any:
        """A client for ``service`` from the injected factory (same region and credentials)."""
        return self._clients(service)

    @property
    def region(self) -> str:
        """The region of the SSM client."""
        region = self._clients("ssm").meta.region_name
        if not region:
            raise SecretsError("no AWS region is set", hint="pass -r/--region or set AWS_REGION")
        return str(region)

    @property
    def account(self) -> str:
        """The account of the caller (STS GetCallerIdentity, asked once)."""
        if self._account is None:
            with self._mapped("GetCallerIdentity"):
                self._account = str(self._clients("sts").get_caller_identity()["Account"])
        return self._account

    def parameter_arn(self, name: str) -> str:
        """The ARN of parameter ``name`` in this store's region and account."""
        return parameter_arn(name, self.region, self.account)

    def namespace_of(self, name: str) -> str:
        """The namespace of ``name``: the store's, else the name's first segment."""
        return self.namespace or name.lstrip("/").split("/", 1)[0]

    def default_key(self, name: str) -> str:
        """The alias of the key secrets of ``name``'s namespace are encrypted under."""
        return key_alias(self.namespace_of(name))

    def scope(self, prefix: str | None) -> str:
        """The path a listing covers: ``prefix``, else ``/namespace``, else everything."""
        if prefix:
            prefix = prefix.rstrip("/") or "/"
            if prefix != "/":
                validate_pattern(prefix + "/x", self.namespace)
            return prefix
        return f"/{self.namespace}" if self.namespace else "/"

    @contextmanager
    def _mapped(
        self, action: str, name: str | None = None, secrets: Iterable[str] = ()
    ) -> Iterator[None]:
        """Map botocore errors to ours, with secret values scrubbed from the message."""
        hidden = list(secrets)
        try:
            yield
        except StackyardError:
            raise
        except Exception as exc:
            code = error_code(exc)
            if code == "ParameterNotFound" and name:
                raise SecretNotFound(f"no secret named {name}") from None
            mapped = map_client_error(exc, action)
            if code in ("AccessDeniedException", "AccessDenied"):
                mapped.hint = "the caller's IAM policy, or the key policy, does not allow this"
            mapped.message = _scrub(mapped.message, hidden)
            raise mapped from (None if hidden else exc)

    # -- keys ----------------------------------------------------------------------------

    def resolve_key(self, key: str) -> KeyInfo:
        """The key named by an alias, alias ARN, key id or key ARN; checked usable for SSM."""
        with self._mapped("DescribeKey"):
            try:
                meta = self._clients("kms").describe_key(KeyId=key)["KeyMetadata"]
            except Exception as exc:
                if error_code(exc) in ("NotFoundException", "InvalidArnException"):
                    raise SecretsError(
                        f"KMS key {key} not found in {self.region}",
                        hint="deploy the secrets key stack (stackyard.library.secrets_key) "
                        "or pass --key",
                    ) from None
                raise
        if meta.get("KeyState", "Enabled") != "Enabled":
            raise SecretsError(
                f"KMS key {key} is {meta.get('KeyState')}, not Enabled",
                hint="enable the key, or choose another with --key",
            )
        spec = meta.get("KeySpec") or meta.get("CustomerMasterKeySpec") or "SYMMETRIC_DEFAULT"
        if spec != "SYMMETRIC_DEFAULT" or meta.get("KeyUsage", "ENCRYPT_DECRYPT") != (
            "ENCRYPT_DECRYPT"
        ):
            raise SecretsError(
                f"KMS key {key} is {spec}; SSM encrypts with symmetric keys only",
                hint="use the namespace's secrets key",
            )
        info = KeyInfo(given=key, arn=str(meta["Arn"]), key_id=str(meta["KeyId"]))
        self._keys[key] = info
        return info

    def key_arn_of(self, key: str) -> str:
        """The ARN of a key as a parameter names it; the name itself if KMS does not know it."""
        if key not in self._keys:
            try:
                with self._mapped("DescribeKey"):
                    meta = self._clients("kms").describe_key(KeyId=key)["KeyMetadata"]
                self._keys[key] = KeyInfo(key, str(meta["Arn"]), str(meta["KeyId"]))
            except StackyardError:
                self._keys[key] = None
        info = self._keys[key]
        return info.arn if info else key

    # -- reads ---------------------------------------------------------------------------

    def describe(self, name: str) -> SecretInfo | None:
        """The secret's metadata (any parameter type), or None if there is no such parameter."""
        name = validate_name(name, self.namespace)
        with self._mapped("DescribeParameters", name):
            answer = self._clients("ssm").describe_parameters(
                ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}]
            )
        for item in answer.get("Parameters", []):
            if item.get("Name") == name:
                return _info(item)
        return None

    def require_secret(self, name: str) -> SecretInfo:
        """The metadata of SecureString ``name``; a clear error if missing or not secure."""
        info = self.describe(name)
        if info is None:
            raise SecretNotFound(
                f"no secret named {name}", hint="`stackyard secrets list` shows them"
            )
        if info.type != "SecureString":
            raise SecretsError(
                f"{name} is a {info.type} parameter, not a SecureString",
                hint="stackyard secrets manages SecureString parameters only",
            )
        return info

    def get(self, name: str) -> tuple[SecretInfo, Secret]:
        """The secret's metadata and its decrypted value, marked :class:`Secret`."""
        info = self.require_secret(name)
        with self._mapped("GetParameter", name):
            answer = self._clients("ssm").get_parameter(Name=info.name, WithDecryption=True)
        return info, Secret(answer["Parameter"]["Value"])

    def list_secrets(self, prefix: str | None = None) -> list[SecretInfo]:
        """SecureString secrets under ``prefix`` (a path; default the namespace), by name."""
        scope = self.scope(prefix)
        filters: list[dict[str, Any]] = [
            {"Key": "Type", "Option": "Equals", "Values": ["SecureString"]}
        ]
        if scope != "/":
            filters.append({"Key": "Name", "Option": "BeginsWith", "Values": [scope]})
        found: list[SecretInfo] = []
        with self._mapped("DescribeParameters"):
            paginator = self._clients("ssm").get_paginator("describe_parameters")
            for page in paginator.paginate(ParameterFilters=filters):
                found.extend(_info(item) for item in page.get("Parameters", []))
        inside = [
            s for s in found if scope == "/" or s.name == scope or s.name.startswith(scope + "/")
        ]
        return sorted(inside, key=lambda s: s.name)

    def history(self, name: str) -> list[SecretVersion]:
        """Every version of the secret, oldest first, without values."""
        info = self.require_secret(name)
        versions: list[SecretVersion] = []
        with self._mapped("GetParameterHistory", name):
            paginator = self._clients("ssm").get_paginator("get_parameter_history")
            for page in paginator.paginate(Name=info.name, WithDecryption=False):
                for item in page.get("Parameters", []):
                    versions.append(
                        SecretVersion(
                            name=info.name,
                            version=int(item.get("Version", 0)),
                            key_id=str(item.get("KeyId", "")),
                            modified=item.get("LastModifiedDate"),
                            user=str(item.get("LastModifiedUser", "")),
                            labels=tuple(item.get("Labels", [])),
                        )
                    )
        return sorted(versions, key=lambda v: v.version)

    # -- writes --------------------------------------------------------------------------

    def prepare_put(
        self, name: str, key: str | None = None, overwrite: bool = False
    ) -> tuple[KeyInfo, SecretInfo | None]:
        """Check a put before asking for the value: name, key, existing parameter."""
        name = validate_name(name, self.namespace)
        key_info = self.resolve_key(key or self.default_key(name))
        existing = self.describe(name)
        if existing is not None:
            if existing.type != "SecureString":
                raise SecretsError(
                    f"{name} is a {existing.type} parameter, not a SecureString",
                    hint="choose another name; stackyard secrets writes SecureStrings only",
                )
            if not overwrite:
                raise SecretsError(
                    f"secret {name} already exists (version {existing.version})",
                    hint="pass --overwrite to replace its value",
                )
        return key_info, existing

    def put(
        self,
        name: str,
        value: str,
        key: str | None = None,
        *,
        overwrite: bool = False,
        description: str | None = None,
    ) -> PutResult:
        """Store ``value`` as SecureString ``name`` under ``key`` (default: the namespace's)."""
        name = validate_name(name, self.namespace)
        if not value:
            raise SecretsError(f"the value for {name} is empty")
        size = len(value.encode("utf-8"))
        if size > MAX_VALUE_BYTES:
            raise SecretsError(
                f"the value for {name} is {size} bytes; a standard parameter holds "
                f"{MAX_VALUE_BYTES}",
                hint="store a reference (an S3 object, say) instead of the value",
            )
        key_info, existing = self.prepare_put(name, key, overwrite)
        request: dict[str, Any] = {
            "Name": name,
            "Value": value,
            "Type": "SecureString",
            "KeyId": key_info.arn,
            "Overwrite": existing is not None,
        }
        if description is not None:
            request["Description"] = description
        with self._mapped("PutParameter", None, [value]):
            try:
                answer = self._clients("ssm").put_parameter(**request)
            except Exception as exc:
                if error_code(exc) == "ParameterAlreadyExists":
                    raise SecretsError(
                        f"secret {name} was created meanwhile by someone else",
                        hint="check it with `stackyard secrets history`; "
                        "pass --overwrite to replace it",
                    ) from None
                raise
        return PutResult(name, int(answer.get("Version", 1)), key_info, existing is None)

    def delete(self, name: str) -> SecretInfo:
        """Delete the secret (every version); returns what it was."""
        info = self.require_secret(name)
        with self._mapped("DeleteParameter", name):
            self._clients("ssm").delete_parameter(Name=info.name)
        return info

    def migrate(
        self,
        from_keys: Iterable[str],
        to_key: str,
        prefix: str | None = None,
        *,
        dry_run: bool = False,
    ) -> Migration:
        """Re-encrypt every SecureString under ``prefix`` whose key is one of ``from_keys``
        under ``to_key``, checking each value reads back unchanged."""
        target = self.resolve_key(to_key)
        sources = {self.key_arn_of(k) for k in from_keys}
        for given in from_keys:
            if self._keys.get(given) is None:
                raise SecretsError(
                    f"KMS key {given} not found in {self.region}", hint="check --from-key"
                )
        if target.arn in sources:
            raise SecretsError(
                f"--to-key {to_key} is also a --from-key", hint="migrate to a different key"
            )
        moves: list[Move] = []
        already: list[str] = []
        other: list[tuple[str, str]] = []
        for info in self.list_secrets(prefix):
            arn = self.key_arn_of(info.key_id)
            if arn == target.arn:
                already.append(info.name)
            elif arn not in sources:
                other.append((info.name, info.key_id))
            elif dry_run:
                moves.append(
                    Move(info.name, info.key_id, target.given, info.version, None, "would move")
                )
            else:
                moves.append(self._move(info, target))
        return Migration(target, dry_run, tuple(moves), tuple(already), tuple(other))

    def _move(self, info: SecretInfo, target: KeyInfo) -> Move:
        def failed(error: str) -> Move:
            return Move(info.name, info.key_id, target.given, info.version, None, "failed", error)

        ssm = self._clients("ssm")
        value = ""
        try:
            with self._mapped("GetParameter", info.name):
                value = ssm.get_parameter(Name=info.name, WithDecryption=True)["Parameter"]["Value"]
            request: dict[str, Any] = {
                "Name": info.name,
                "Value": value,
                "Type": "SecureString",
                "KeyId": target.arn,
                "Overwrite": True,
                "Tier": info.tier,
            }
            if info.description:
                request["Description"] = info.description
            with self._mapped("PutParameter", info.name, [value]):
                version = int(ssm.put_parameter(**request).get("Version", 0))
            with self._mapped("GetParameter", info.name, [value]):
                check = ssm.get_parameter(Name=info.name, WithDecryption=True)["Parameter"]
            if check["Value"] != value:
                return failed("the value read back differs; it changed during the migration")
        except (AWSCallError, SecretsError) as exc:
            return failed(_scrub(exc.message, [value]))
        return Move(info.name, info.key_id, target.given, info.version, version, "moved")


def _info(item: dict[str, Any]) -> SecretInfo:
    return SecretInfo(
        name=str(item["Name"]),
        type=str(item.get("Type", "")),
        version=int(item.get("Version", 0)),
        key_id=str(item.get("KeyId", "")),
        last_modified=item.get("LastModifiedDate"),
        last_modified_user=str(item.get("LastModifiedUser", "")),
        description=str(item.get("Description", "")),
        tier=str(item.get("Tier", "Standard")),
    )
