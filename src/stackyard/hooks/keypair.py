"""stacker's ``keypair.ensure_keypair_exists`` hook: an EC2 key pair, made once.

A missing key pair is created with its private key stored as an SSM SecureString
(``ssm_parameter_name``, encrypted with ``ssm_key_id`` when given), or imported from a public
key file (``public_key_path``). stacker asked on a terminal when neither was given; here that
is an error naming both options. The private key is never printed or returned.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["ensure_keypair_exists"]


def _code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def _existing(ec2: Any, name: str) -> dict[str, Any] | None:
    try:
        pairs = ec2.describe_key_pairs(KeyNames=[name])["KeyPairs"]
    except Exception as exc:
        if _code(exc) == "InvalidKeyPair.NotFound":
            return None
        raise
    return pairs[0] if pairs else None


def _result(status: str, pair: dict[str, Any], **extra: str) -> dict[str, str]:
    return {
        "status": status,
        "key_name": str(pair["KeyName"]),
        "fingerprint": str(pair.get("KeyFingerprint", "")),
        **extra,
    }


def ensure_keypair_exists(
    *,
    context: Any = None,
    provider: Any,
    keypair: str,
    ssm_parameter_name: str | None = None,
    ssm_key_id: str | None = None,
    public_key_path: str | None = None,
    **_: Any,
) -> dict[str, str]:
    """``{"status": "exists"|"created"|"imported", "key_name", "fingerprint"}``."""
    if ssm_parameter_name and public_key_path:
        raise ValueError(
            "ssm_parameter_name and public_key_path exclude each other: an imported key's "
            "private half is not ours to store"
        )
    ec2 = provider.client("ec2")
    found = _existing(ec2, keypair)
    if found is not None:
        return _result("exists", found)
    if public_key_path:
        path = Path(public_key_path).expanduser()
        try:
            material = path.read_bytes()
        except OSError as exc:
            raise ValueError(f"cannot read public key {public_key_path}: {exc.strerror}") from None
        imported = ec2.import_key_pair(KeyName=keypair, PublicKeyMaterial=material)
        return _result("imported", imported, file_path=str(path))
    if ssm_parameter_name:
        ssm = provider.client("ssm")
        created = ec2.create_key_pair(KeyName=keypair)
        args: dict[str, Any] = {
            "Name": ssm_parameter_name,
            "Value": created["KeyMaterial"],
            "Type": "SecureString",
            "Description": f"private key of EC2 key pair {keypair}",
            "Overwrite": False,
        }
        if ssm_key_id:
            args["KeyId"] = ssm_key_id
        try:
            ssm.put_parameter(**args)
        except Exception:
            ec2.delete_key_pair(KeyName=keypair)  # a key nobody can use is worse than none
            raise
        return _result("created", created)
    raise ValueError(
        f"key pair {keypair} does not exist: give ssm_parameter_name (create it and keep the "
        "private key in SSM) or public_key_path (import a public key)"
    )
