"""stacker's ``aws_lambda.upload_lambda_functions`` hook: zip each function's folder, upload it
to S3 under a key made from its content, and hand the blueprint a ``Code`` pointing at it.

The zip is the same bytes for the same files (sorted, fixed timestamps), so an unchanged
function keeps its key and its stack does not change; an existing object is not uploaded again.
With a ``data_key``, ``${hook_data KEY::NAME}`` or ``context.hook_data`` gives each function's
``troposphere.awslambda.Code``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import os
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["upload_lambda_functions", "zip_function"]

DEFAULT_EXCLUDES = ("**/.git/**", "**/.gitignore", "**/.svn/**", "**/.hg/**", "**/*.pyc")
# Zip entries carry this date whatever the files' times are: same files, same bytes.
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def _patterns(value: str | Sequence[str] | None, default: Iterable[str]) -> list[str]:
    if value is None:
        return list(default)
    return [value] if isinstance(value, str) else list(value)


def _matches(relative: str, patterns: Iterable[str]) -> bool:
    # "**/x" also matches "x" at the top, as in stacker's globs.
    return any(
        fnmatch.fnmatchcase(relative, p)
        or (p.startswith("**/") and fnmatch.fnmatchcase(relative, p[3:]))
        for p in patterns
    )


def _files(root: Path, include: list[str], exclude: list[str], follow: bool) -> list[Path]:
    out: list[Path] = []
    for folder, dirs, names in os.walk(root, followlinks=follow):
        dirs.sort()
        for name in sorted(names):
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            if _matches(relative, include) and not _matches(relative, exclude):
                out.append(path)
    return out


def zip_function(
    root: Path,
    *,
    include: str | Sequence[str] | None = None,
    exclude: str | Sequence[str] | None = None,
    follow_symlinks: bool = False,
) -> bytes:
    """The deterministic zip of ``root``'s files that ``include`` and not ``exclude`` pick."""
    if not root.is_dir():
        raise ValueError(f"function folder {root} does not exist")
    files = _files(
        root,
        _patterns(include, ("**",)),
        _patterns(exclude, DEFAULT_EXCLUDES),
        follow_symlinks,
    )
    if not files:
        raise ValueError(f"function folder {root}: no file is included")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            entry = zipfile.ZipInfo(path.relative_to(root).as_posix(), _FIXED_TIME)
            entry.external_attr = (path.stat().st_mode & 0o777 | 0o100000) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, path.read_bytes())
    return buffer.getvalue()


def _ensure_bucket(s3: Any, bucket: str, region: str | None) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
        return
    except Exception as exc:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        if code not in ("404", "NoSuchBucket", "NotFound"):
            raise
    args: dict[str, Any] = {"Bucket": bucket}
    if region and region != "us-east-1":
        args["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**args)


def _exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except Exception as exc:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def upload_lambda_functions(
    *,
    context: Any,
    provider: Any,
    functions: Mapping[str, Mapping[str, Any]],
    bucket: str | None = None,
    prefix: str = "",
    follow_symlinks: bool = False,
    payload_acl: str = "private",
    **_: Any,
) -> dict[str, Any]:
    """Upload each function of ``functions`` (``{name: {path, include, exclude}}``, paths
    relative to the config's folder) and return ``{name: awslambda.Code}``."""
    from troposphere.awslambda import Code

    bucket = bucket or getattr(context, "bucket_name", None)
    if not bucket:
        raise ValueError("no bucket: give `bucket` or set the config's template bucket")
    if not functions:
        raise ValueError("no functions to upload")
    config_path = getattr(context, "config_path", None)
    base = Path(config_path).parent if config_path and config_path != "-" else Path.cwd()
    s3 = provider.client("s3")
    _ensure_bucket(s3, bucket, getattr(provider, "region", None))
    out: dict[str, Any] = {}
    for name, options in sorted(functions.items()):
        if not options.get("path"):
            raise ValueError(f"function {name}: `path` is required")
        payload = zip_function(
            base / str(options["path"]),
            include=options.get("include"),
            exclude=options.get("exclude"),
            follow_symlinks=follow_symlinks,
        )
        digest = hashlib.sha256(payload).hexdigest()[:32]
        key = f"{prefix}lambda-{name}-{digest}.zip"
        if not _exists(s3, bucket, key):
            s3.put_object(Bucket=bucket, Key=key, Body=payload, ACL=payload_acl)
        out[name] = Code(S3Bucket=bucket, S3Key=key)
    return out
