"""Template transforms: the SAM transform expanded with ``aws-sam-translator``, as AWS does.

CloudFormation runs a template's ``Transform`` before anything else and keeps both forms:
``GetTemplate`` answers the original by default and the expansion with
``TemplateStage=Processed``. Creating or updating a stack directly from a template with a
transform needs ``CAPABILITY_AUTO_EXPAND``; a change set does not (its review is the
acknowledgement). Other transforms (``AWS::Include``, ``AWS::LanguageExtensions``, macros) are
left as written.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from stackyard.local.cloudformation.errors import InsufficientCapabilities, ValidationError

__all__ = ["SAM_TRANSFORM", "declared_transforms", "expand", "require_auto_expand"]

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"


def declared_transforms(template: Mapping[str, Any]) -> list[str]:
    """The transforms a template names, in order."""
    value = template.get("Transform")
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [item if isinstance(item, str) else str(item.get("Name", "")) for item in items]


def require_auto_expand(template: Mapping[str, Any], capabilities: list[str]) -> None:
    """Refuse a direct create or update of a template with a transform, unacknowledged."""
    if declared_transforms(template) and "CAPABILITY_AUTO_EXPAND" not in capabilities:
        raise InsufficientCapabilities("Requires capabilities : [CAPABILITY_AUTO_EXPAND]")


def expand(
    template: dict[str, Any], parameters: Mapping[str, Any], region: str, account_id: str
) -> dict[str, Any]:
    """The template with the SAM transform applied (unchanged if it does not declare it)."""
    if SAM_TRANSFORM not in declared_transforms(template):
        return template
    import boto3
    from samtranslator.metrics.metrics import Metrics
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    values: dict[str, Any] = {
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::Partition": "aws",
        **parameters,
    }
    # the session only tells the translator the region; it makes no calls
    session = boto3.session.Session(region_name=region)
    metrics = Metrics()
    translator = Translator(None, Parser(), boto_session=session, metrics=metrics)
    try:
        expanded: dict[str, Any] = translator.translate(
            copy.deepcopy(template),
            parameter_values=values,
            get_managed_policy_map=lambda: {},
        )
    except InvalidDocumentException as exc:
        raise ValidationError(f"Transform {SAM_TRANSFORM} failed with: {exc.message}") from exc
    finally:
        metrics.publish()  # to the translator's no-op publisher; unpublished metrics warn
    rest = [t for t in declared_transforms(template) if t != SAM_TRANSFORM]
    if rest:
        expanded["Transform"] = rest
    return expanded
