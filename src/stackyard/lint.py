"""cfn-lint over rendered templates, reported in stackyard's words."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """One cfn-lint match: rule, severity, where in the template, and what."""

    rule: str
    severity: str
    path: str
    message: str
    parts: tuple[str | int, ...] = ()

    @property
    def is_error(self) -> bool:
        """Errors fail ``validate``; warnings and informational findings do not."""
        return self.severity == "error"

    def __str__(self) -> str:
        return f"{self.severity} {self.rule} at {self.path}: {self.message}"


def lint_template(template_body: str, region: str) -> list[Finding]:
    """Lint one template (JSON or YAML text) for ``region``; [] when it is clean.

    Findings about placeholder values that only AWS can fill in
    ("known after apply") are left out: they say nothing about the template.
    """
    from cfnlint.api import ManualArgs, lint

    findings = []
    for match in lint(template_body, config=ManualArgs(regions=[region])):
        if "known after apply" in match.message:
            continue
        parts = tuple(getattr(match, "path", None) or ())
        path = "/".join(str(p) for p in parts) or "template"
        findings.append(Finding(match.rule.id, match.rule.severity, path, match.message, parts))
    return findings
