"""``${kms [REGION@]CIPHERTEXT}``: a KMS-encrypted value, decrypted and marked secret.

The argument may also be ``file://path`` to a file that holds
``[REGION@]CIPHERTEXT`` (relative to the config file), as in stacker.
"""

from __future__ import annotations

import base64
import binascii

from stackyard.lookups.base import Lookup, is_file_ref, read_value_from_path, split_region
from stackyard.lookups.context import ResolveContext
from stackyard.lookups.secret import Secret

FORM = "[REGION@]BASE64_CIPHERTEXT"


class KmsLookup(Lookup):
    """Decrypts base64 KMS ciphertext; the plaintext is a :class:`Secret`."""

    name = "kms"
    needs_aws = True
    description = "KMS-decrypted value: [REGION@]BASE64 or file://PATH"

    def validate(self, arg: str) -> None:
        if is_file_ref(arg):
            return
        self._parse(arg)

    def _parse(self, arg: str) -> tuple[str | None, str]:
        region, blob = split_region(arg.strip())
        blob = "".join(blob.split())
        try:
            if not blob or not base64.b64decode(blob, validate=True):
                raise ValueError("empty")
        except (binascii.Error, ValueError):
            raise self.error(
                arg, "the ciphertext is not base64", hint=f"write ${{{self.name} {FORM}}}"
            ) from None
        return region, blob

    def resolve(self, arg: str, ctx: ResolveContext) -> object:
        assert ctx.aws is not None
        region, blob = self._parse(read_value_from_path(self, arg, ctx.config_dir))
        return Secret(ctx.aws.kms_decrypt(blob, region or ctx.region))
