"""Region names checked before AWS is asked: ``region: mars-1`` is a config error with a
did-you-mean, not an endpoint error halfway through a build.

Known regions are those cfn-lint ships CloudFormation data for. A name shaped like a region
(``xx-name-N``) but newer than the installed cfn-lint is left for AWS to judge.
"""

from __future__ import annotations

import difflib
import re

from stackyard import schemas

__all__ = ["region_problem"]

_SHAPE = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")


def region_problem(region: str) -> tuple[str, str] | None:
    """None for a usable region name; else (message, hint)."""
    known = schemas.regions()
    if region in known or _SHAPE.fullmatch(region):
        return None
    close = difflib.get_close_matches(region, sorted(known), n=1)
    hint = f"did you mean {close[0]!r}?" if close else "for example: us-east-1, eu-west-1"
    return f"{region!r} is not an AWS region", hint
