"""Secrets in SSM Parameter Store under one KMS key per namespace.

- :mod:`stackyard.secrets.paths` -- secret names and path patterns, checked before AWS
- :mod:`stackyard.secrets.policy` -- least-privilege read statements; ``SecretsAccessMixin``
- :mod:`stackyard.secrets.store` -- ``SecretStore``: put, get, list, history, rm, migrate
- :mod:`stackyard.secrets.iam_eval` -- IAM identity-policy evaluation with AWS's semantics
- :mod:`stackyard.secrets.audit` -- who can read which secret, from the deployed policies

Nothing is imported here, so importing the package stays cheap.
"""
