"""The config's shape: stacker 1.7's format, plus a few keys of our own.

Unknown top-level keys are ignored, as stacker ignores them (that is where
YAML anchors live); unknown keys in a stack, hook or target are errors, since
they are almost always typos.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Hook(_Strict):
    """A pre/post build or destroy hook, as stacker defines it."""

    path: str = Field(
        description="Import path of the hook function.", examples=["mypackage.hooks.notify"]
    )
    required: bool = Field(default=True, description="When true, a failing hook stops the run.")
    enabled: bool = Field(default=True, description="`false` skips the hook.")
    data_key: str | None = Field(
        default=None,
        description="Keep the hook's result under this name, for the `hook_data` lookup.",
        examples=["dns"],
    )
    args: dict[str, Any] = Field(
        default_factory=dict,
        description="Keyword arguments for the hook; lookups allowed.",
        examples=[{"zone": "example.com"}],
    )


class Target(_Strict):
    """A named group of stacks with no template of its own."""

    name: str = Field(
        description="The target's name; stacks and targets share one namespace of names.",
        examples=["frontend"],
    )
    requires: list[str] = Field(
        default_factory=list,
        description="Stacks or targets this target needs.",
        examples=[["gateway", "dns"]],
    )
    required_by: list[str] = Field(
        default_factory=list, description="Stacks or targets that need this target."
    )


class Protection(_Strict):
    """Project-wide protection, on top of each stack's own ``protected``.

    A rule is terms joined by ``&``: change kinds (create, modify, remove,
    replace), risk kinds (destructive, security, routine), ``stateful``,
    ``any``, resource-type patterns (``AWS::RDS::*``) or logical-ID patterns.
    """

    rules: list[str] = Field(
        default_factory=lambda: ["destructive & stateful"],
        description=(
            "Changes that need approval anywhere in the project: terms joined by `&` (change "
            "kinds create, modify, remove, replace; risk kinds destructive, security, routine; "
            "`stateful`; `any`; resource-type or logical-ID patterns)."
        ),
        examples=[["destructive & stateful", "replace & AWS::RDS::*"]],
    )
    # Deleting a stack with termination protection needs approval.
    deletion: bool = Field(
        default=True, description="Deleting a stack with termination protection needs approval."
    )


class Stack(_Strict):
    """One CloudFormation stack: where its template comes from and what it is given."""

    name: str = Field(
        description=(
            "The stack's name in the config. Its CloudFormation name is namespace + delimiter + "
            "this (or `stack_name`)."
        ),
        examples=["network"],
    )
    stack_name: str | None = Field(
        default=None,
        description="The CloudFormation name after the namespace, when it differs from `name`.",
        examples=["vpc"],
    )
    class_path: str | None = Field(
        default=None,
        description="A Python blueprint, `module.ClassName`, importable from `sys_path`.",
        examples=["stackyard.library.network.Vpc"],
    )
    template_path: str | None = Field(
        default=None,
        description=(
            "A raw template (JSON, YAML, or Jinja2 when it ends in `.j2`): looked for in the "
            "working directory, then under `sys_path` (and Python's path), then beside the config."
        ),
        examples=["templates/alerts.yaml"],
    )
    description: str | None = Field(
        default=None, description="The template's Description (Python blueprints)."
    )
    variables: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "Values for the blueprint's VARIABLES or the template's Parameters; lookups allowed. "
            "A name the blueprint or template does not take is an error."
        ),
        examples=[{"CidrBlock": "10.0.0.0/16", "VpcId": "${output network::VpcId}"}],
    )
    # stacker's deprecated name for variables; merged into them when loading.
    parameters: dict[str, Any] = Field(
        default_factory=dict,
        description="stacker's deprecated name for `variables`; merged into them, with a notice.",
    )
    requires: list[str] = Field(
        default_factory=list,
        description="Stacks or targets to build first, besides those its output lookups imply.",
        examples=[["network"]],
    )
    required_by: list[str] = Field(
        default_factory=list, description="Stacks or targets that need this stack first."
    )
    locked: bool = Field(
        default=False,
        description="Never change this stack; it is only read (its outputs still serve lookups).",
    )
    enabled: bool = Field(
        default=True, description="`false` leaves the stack out of every command."
    )
    # `true`, or a list of annotations: logical IDs, resource-type patterns, risk kinds.
    protected: bool | list[str] = Field(
        default=False,
        description=(
            "`true`: any change that replaces or deletes its resources needs approval. A list "
            "protects only what matches: logical IDs, resource-type patterns, risk kinds."
        ),
        examples=[True, ["Database", "AWS::RDS::*"]],
    )
    tags: dict[str, str] = Field(
        default_factory=dict,
        description="Tags of this stack, on top of the config's `tags`.",
        examples=[{"tier": "data"}],
    )
    stack_policy_path: str | None = Field(
        default=None,
        description=(
            "A JSON stack policy file: from the working directory, else beside the config."
        ),
        examples=["policies/database.json"],
    )
    in_progress_behavior: Literal["wait"] | None = Field(
        default=None,
        description=(
            "`wait`: when CloudFormation is already changing the stack, wait for it instead of "
            "failing."
        ),
    )
    notification_arns: list[str] = Field(
        default_factory=list,
        description="SNS topics CloudFormation notifies of this stack's events.",
    )
    region: str | None = Field(
        default=None,
        description="This stack's region, instead of the run's (`-r`).",
        examples=["eu-west-1"],
    )
    profile: str | None = Field(
        default=None, description="This stack's AWS profile, instead of the run's (`-p`)."
    )
    termination_protection: bool | None = Field(
        default=None,
        description=(
            "CloudFormation termination protection; when unset, on for protected stacks and off "
            "otherwise, and as it is on a stack another tool deployed."
        ),
    )

    @field_validator("name")
    @classmethod
    def _name_not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a stack name cannot be empty")
        return value

    @field_validator("tags", mode="before")
    @classmethod
    def _tags_as_text(cls, value: Any) -> Any:
        # CloudFormation tags are strings; YAML turns `version: 2` into an int.
        if isinstance(value, dict):
            return {str(k): v if isinstance(v, str) else str(v) for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _one_template_source(self) -> Stack:
        if self.class_path and self.template_path:
            raise ValueError("set class_path or template_path, not both")
        # A locked stack is only read, so it needs no template (as in stacker).
        if not self.class_path and not self.template_path and not self.locked:
            raise ValueError("set class_path (a blueprint) or template_path (a template file)")
        return self

    @property
    def protected_all(self) -> bool:
        """True when the whole stack is protected."""
        return self.protected is True


class Config(BaseModel):
    """A whole config file, after environment substitution."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    namespace: str = Field(
        description="Prefix of every CloudFormation stack name; may be empty (`''`).",
        examples=["ops-stage"],
    )
    namespace_delimiter: str = Field(
        default="-", description="Text between the namespace and a stack's name."
    )
    # stacker's name for the template bucket, and our neutral alias for it.
    stacker_bucket: str | None = Field(
        default=None,
        alias="stacker_bucket",
        description=(
            "S3 bucket for templates too large to send inline; `''` means none (stacker's name)."
        ),
        examples=["ops-templates"],
    )
    template_bucket: str | None = Field(
        default=None,
        description="The same as `stacker_bucket` under a neutral name; wins when both are set.",
    )
    stacker_bucket_region: str | None = Field(
        default=None, description="The template bucket's region, when it differs from the stacks'."
    )
    stacker_cache_dir: str | None = Field(
        default=None, description="Accepted for stacker compatibility; unused."
    )
    sys_path: str | None = Field(
        default=None,
        description=(
            "A folder appended to Python's path for blueprints, lookups and hooks: relative to "
            "the working directory (as in stacker), else to the config's folder."
        ),
        examples=["."],
    )
    service_role: str | None = Field(
        default=None, description="An IAM role ARN CloudFormation assumes for every stack."
    )
    tags: dict[str, str] | None = Field(
        default=None,
        description="Tags on every stack (CloudFormation copies them to the resources).",
        examples=[{"team": "operations"}],
    )
    template_indent: int | None = Field(
        default=None, description="JSON indentation of rendered templates (stacker's default is 4)."
    )
    mappings: dict[str, dict[str, dict[str, Any]]] = Field(
        default_factory=dict,
        description="CloudFormation Mappings added to every Python blueprint's template.",
    )
    lookups: dict[str, str] = Field(
        default_factory=dict,
        description="Custom lookups: a name to the import path of its handler.",
        examples=[{"vault": "mylookups.vault.handler"}],
    )
    pre_build: list[Hook] = Field(default_factory=list, description="Hooks run before a build.")
    post_build: list[Hook] = Field(default_factory=list, description="Hooks run after a build.")
    pre_destroy: list[Hook] = Field(default_factory=list, description="Hooks run before a destroy.")
    post_destroy: list[Hook] = Field(default_factory=list, description="Hooks run after a destroy.")
    targets: list[Target] = Field(
        default_factory=list, description="Named groups of stacks, to select with `--targets`."
    )
    log_formats: dict[str, str] | None = Field(
        default=None, description="Accepted for stacker compatibility and ignored, with a notice."
    )
    package_sources: dict[str, Any] | None = Field(
        default=None,
        description="Not supported (a notice says so): install blueprint packages with pip.",
    )
    protection: Protection = Field(
        default_factory=Protection,
        description="Project-wide protection, on top of each stack's `protected`.",
    )
    stacks: list[Stack] = Field(
        default_factory=list,
        description="The stacks, in any order: the graph decides the order of work.",
    )

    @field_validator("namespace", mode="before")
    @classmethod
    def _namespace_text(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("namespace is required (it may be an empty string: namespace: '')")
        return str(value) if isinstance(value, int | float) else value

    @field_validator("tags", mode="before")
    @classmethod
    def _tags_as_text(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): v if isinstance(v, str) else str(v) for k, v in value.items()}
        return value

    @field_validator("mappings", mode="before")
    @classmethod
    def _mapping_numbers_as_text(cls, value: Any) -> Any:
        # stacker's schema holds mapping values as strings (`Count: 2` is "2"), and
        # CloudFormation's Fn::FindInMap gives strings: render them as stacker did.
        if not isinstance(value, dict):
            return value
        return {
            name: {
                key: {
                    k: str(v) if isinstance(v, int) and not isinstance(v, bool) else v
                    for k, v in entries.items()
                }
                if isinstance(entries, dict)
                else entries
                for key, entries in top.items()
            }
            if isinstance(top, dict)
            else top
            for name, top in value.items()
        }

    @property
    def bucket(self) -> str | None:
        """The template bucket: ``template_bucket``, else ``stacker_bucket``; '' means none."""
        if self.template_bucket is not None:
            return self.template_bucket
        return self.stacker_bucket

    @cached_property
    def _by_name(self) -> dict[str, Stack]:
        # The first of a name wins, as the scan it replaces did (duplicates are refused
        # when the config is checked).
        index: dict[str, Stack] = {}
        for stack in self.stacks:
            index.setdefault(stack.name, stack)
        return index

    def stack(self, name: str) -> Stack:
        """The stack called ``name``; KeyError if there is none."""
        return self._by_name[name]


# Keys a stack accepts, for "did you mean" suggestions.
STACK_KEYS = sorted(Stack.model_fields)
HOOK_KEYS = sorted(Hook.model_fields)
TARGET_KEYS = sorted(Target.model_fields)
PROTECTION_KEYS = sorted(Protection.model_fields)
