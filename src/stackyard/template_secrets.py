"""Keep secret values out of rendered templates.

A secret from a lookup (an SSM SecureString, a KMS plaintext) may reach a
template in two ways:

- as a template *value* (a blueprint wrote it into a property): it is replaced
  by its CloudFormation dynamic reference (``{{resolve:ssm-secure:NAME:VERSION}}``),
  so CloudFormation fetches it and the clear value never leaves this process;
  a secret with no reference (a KMS plaintext) there is an error;
- as a *parameter value*: the parameter is made ``NoEcho`` so that
  CloudFormation masks it too.

Templates are only rewritten when a secret is found, so the common case keeps
the blueprint's exact bytes.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from typing import Any

from stackyard.errors import BlueprintError
from stackyard.lookups.secret import Secret

# Shorter secrets are only recognised as a whole value: as a substring they
# would match innocent text.
MIN_SUBSTRING = 6


def secrets_in(value: Any) -> list[Secret]:
    """Every ``Secret`` inside a resolved value, outermost first."""
    found: list[Secret] = []
    if isinstance(value, Secret):
        found.append(value)
    elif isinstance(value, dict):
        for item in value.values():
            found.extend(secrets_in(item))
    elif isinstance(value, list | tuple):
        for item in value:
            found.extend(secrets_in(item))
    return found


def keep_secrets_out(
    template_body: str,
    secrets: Iterable[Secret],
    secret_parameters: Iterable[str],
    *,
    stack: str,
) -> str:
    """The template with secret values replaced by references and secret parameters NoEcho."""
    secrets = [s for s in secrets if str.__str__(s)]
    secret_parameters = set(secret_parameters)
    if not secrets and not secret_parameters:
        return template_body
    template = json.loads(template_body)
    changed = False
    for name in sorted(secret_parameters):
        definition = template.get("Parameters", {}).get(name)
        if isinstance(definition, dict) and str(definition.get("NoEcho", "")).lower() != "true":
            definition["NoEcho"] = True
            changed = True
    if secrets:
        template, replaced = _replace(template, secrets, stack)
        changed = changed or replaced
    return json.dumps(template, indent=4) if changed else template_body


def _replace(node: Any, secrets: list[Secret], stack: str) -> tuple[Any, bool]:
    if isinstance(node, dict):
        changed = False
        out: dict[str, Any] = {}
        for key, value in node.items():
            out[key], hit = _replace(value, secrets, stack)
            changed = changed or hit
        return out, changed
    if isinstance(node, list):
        items = [_replace(v, secrets, stack) for v in node]
        return [v for v, _ in items], any(hit for _, hit in items)
    if not isinstance(node, str):
        return node, False
    text = node
    for secret in secrets:
        clear = str.__str__(secret)
        whole = text == clear
        inside = len(clear) >= MIN_SUBSTRING and clear in text
        if not (whole or inside):
            continue
        if secret.reference is None:
            raise BlueprintError(
                "a secret value from a lookup would be written into the template in clear",
                stack=stack,
                hint="pass it through a CFNString variable with no_echo: true, or keep it in "
                "SSM as a SecureString and use ${ssm NAME}, which becomes a dynamic reference",
            )
        text = text.replace(clear, secret.reference)
    return text, text != node


# Where a template records digests of its NoEcho parameter values. CloudFormation shows
# those values only as "****", so without a digest a changed secret would look unchanged
# and never be deployed; with one, the plan compares the digests and sees the change.
#
# They ride in the template because it is the one record CloudFormation keeps of a stack
# that every machine reads back and that nothing else acts on: stack tags are copied to
# every resource (so a digest there would touch them all, in 256 characters a tag), and a
# local cache is empty on the next machine. But the block is stackyard's bookkeeping, not
# part of the stack: comparisons leave it out (``without_digests``), so it never causes an
# update by itself, and a stack deployed by stacker (no block) is unchanged when nothing
# else differs. Such a stack's NoEcho values cannot be compared until its next update
# records them; until then the plan says so, keeps the deployed value, and counts the
# value as possibly changed when the stack is updated anyway.
DIGESTS_KEY = "StackyardParameterDigests"
# A slow, salted hash: the digest sits in a readable template, so a guessable secret must
# be expensive to confirm offline.
DIGEST_ITERATIONS = 100_000


@functools.lru_cache(maxsize=1024)
def parameter_digest(stack: str, parameter: str, value: str) -> str:
    """``pbkdf2-sha256:<hex>`` of a secret value, salted with the stack and parameter name.

    Cached per process: rendering, planning and fingerprinting the same stack ask for the
    same digest, and each costs tens of milliseconds by design.
    """
    import hashlib

    salt = f"stackyard:{stack}:{parameter}".encode()
    digest = hashlib.pbkdf2_hmac("sha256", value.encode(), salt, DIGEST_ITERATIONS)
    return f"pbkdf2-sha256:{digest.hex()}"


def add_parameter_digests(
    template_body: str, values: dict[str, Any], no_echo: Iterable[str], *, stack: str
) -> str:
    """The template with a digest of each known NoEcho parameter value in its Metadata."""
    from stackyard.unknown import Unknown

    digests = {
        name: parameter_digest(stack, name, str(values[name]))
        for name in sorted(no_echo)
        if name in values and not isinstance(values[name], Unknown)
    }
    if not digests:
        return template_body
    template = json.loads(template_body)
    metadata = template.setdefault("Metadata", {})
    if not isinstance(metadata, dict):
        return template_body
    metadata[DIGESTS_KEY] = digests
    return json.dumps(template, indent=4)


def recorded_digest(template: Any, parameter: str) -> str | None:
    """The digest a (deployed or desired) template records for ``parameter``, if any."""
    if not isinstance(template, dict):
        return None
    metadata = template.get("Metadata")
    digests = metadata.get(DIGESTS_KEY) if isinstance(metadata, dict) else None
    found = digests.get(parameter) if isinstance(digests, dict) else None
    return found if isinstance(found, str) else None


def digests_of(template: Any) -> dict[str, str]:
    """Every digest a (deployed or desired) template records, by parameter."""
    if not isinstance(template, dict):
        return {}
    metadata = template.get("Metadata")
    digests = metadata.get(DIGESTS_KEY) if isinstance(metadata, dict) else None
    if not isinstance(digests, dict):
        return {}
    return {str(k): v for k, v in digests.items() if isinstance(v, str)}


def without_digests(template: Any) -> Any:
    """``template`` (parsed) without its digests: what is compared to decide whether a
    template changed. The digests are stackyard's record, not part of the stack: a template
    that differs only by them is the same template (and a stack deployed by another tool,
    which has none, is not changed by them)."""
    if not isinstance(template, dict):
        return template
    metadata = template.get("Metadata")
    if not isinstance(metadata, dict) or DIGESTS_KEY not in metadata:
        return template
    rest = {k: v for k, v in metadata.items() if k != DIGESTS_KEY}
    out = {k: v for k, v in template.items() if k != "Metadata"}
    if rest:
        out["Metadata"] = rest
    return out


def carry_digests(template_body: str, deployed_template: Any, kept: Iterable[str]) -> str:
    """The template with the deployed digests of ``kept`` parameters (NoEcho parameters the
    config leaves out, which keep their deployed value) added where it records none, so an
    update does not lose what the deployed value was."""
    carried = digests_of(deployed_template)
    wanted = {name: carried[name] for name in sorted(kept) if name in carried}
    if not wanted:
        return template_body
    template = json.loads(template_body)
    if not isinstance(template, dict):
        return template_body
    metadata = template.setdefault("Metadata", {})
    if not isinstance(metadata, dict):
        return template_body
    recorded = metadata.setdefault(DIGESTS_KEY, {})
    if not isinstance(recorded, dict) or all(name in recorded for name in wanted):
        return template_body
    for name, digest in wanted.items():
        recorded.setdefault(name, digest)
    metadata[DIGESTS_KEY] = dict(sorted(recorded.items()))
    return json.dumps(template, indent=4)
