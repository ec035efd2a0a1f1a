"""The config's shape: stacker 1.7's format, plus a few keys of our own.

Unknown top-level keys are ignored, as stacker ignores them (that is where
YAML anchors live); unknown keys in a stack, hook or target are errors, since
they are almost always typos.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Hook(_Strict):
    """A pre/post build or destroy hook, as stacker defines it."""

    path: str
    required: bool = True
    enabled: bool = True
    data_key: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)


class Target(_Strict):
    """A named group of stacks with no template of its own."""

    name: str
    requires: list[str] = Field(default_factory=list)
    required_by: list[str] = Field(default_factory=list)


class Protection(_Strict):
    """Project-wide protection, on top of each stack's own ``protected``.

    A rule is terms joined by ``&``: change kinds (create, modify, remove,
    replace), risk kinds (destructive, security, routine), ``stateful``,
    ``any``, resource-type patterns (``AWS::RDS::*``) or logical-ID patterns.
    """

    rules: list[str] = Field(default_factory=lambda: ["destructive & stateful"])
    # Deleting a stack with termination protection needs approval.
    deletion: bool = True


class Stack(_Strict):
    """One CloudFormation stack: where its template comes from and what it is given."""

    name: str
    stack_name: str | None = None
    class_path: str | None = None
    template_path: str | None = None
    description: str | None = None
    variables: dict[str, Any] = Field(default_factory=dict)
    # stacker's deprecated name for variables; merged into them when loading.
    parameters: dict[str, Any] = Field(default_factory=dict)
    requires: list[str] = Field(default_factory=list)
    required_by: list[str] = Field(default_factory=list)
    locked: bool = False
    enabled: bool = True
    # `true`, or a list of annotations: logical IDs, resource-type patterns, risk kinds.
    protected: bool | list[str] = False
    tags: dict[str, str] = Field(default_factory=dict)
    stack_policy_path: str | None = None
    in_progress_behavior: Literal["wait"] | None = None
    notification_arns: list[str] = Field(default_factory=list)
    region: str | None = None
    profile: str | None = None
    termination_protection: bool | None = None

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

    namespace: str
    namespace_delimiter: str = "-"
    # stacker's name for the template bucket, and our neutral alias for it.
    stacker_bucket: str | None = Field(default=None, alias="stacker_bucket")
    template_bucket: str | None = None
    stacker_bucket_region: str | None = None
    stacker_cache_dir: str | None = None
    sys_path: str | None = None
    service_role: str | None = None
    tags: dict[str, str] | None = None
    template_indent: int | None = None
    mappings: dict[str, dict[str, dict[str, Any]]] = Field(default_factory=dict)
    lookups: dict[str, str] = Field(default_factory=dict)
    pre_build: list[Hook] = Field(default_factory=list)
    post_build: list[Hook] = Field(default_factory=list)
    pre_destroy: list[Hook] = Field(default_factory=list)
    post_destroy: list[Hook] = Field(default_factory=list)
    targets: list[Target] = Field(default_factory=list)
    log_formats: dict[str, str] | None = None
    package_sources: dict[str, Any] | None = None
    protection: Protection = Field(default_factory=Protection)
    stacks: list[Stack] = Field(default_factory=list)

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

    @property
    def bucket(self) -> str | None:
        """The template bucket: ``template_bucket``, else ``stacker_bucket``; '' means none."""
        if self.template_bucket is not None:
            return self.template_bucket
        return self.stacker_bucket

    def stack(self, name: str) -> Stack:
        """The stack called ``name``; KeyError if there is none."""
        for stack in self.stacks:
            if stack.name == name:
                return stack
        raise KeyError(name)


# Keys a stack accepts, for "did you mean" suggestions.
STACK_KEYS = sorted(Stack.model_fields)
HOOK_KEYS = sorted(Hook.model_fields)
TARGET_KEYS = sorted(Target.model_fields)
PROTECTION_KEYS = sorted(Protection.model_fields)
