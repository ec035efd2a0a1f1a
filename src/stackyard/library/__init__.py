"""Built-in blueprints for the team's infrastructure.

- :mod:`stackyard.library.secrets_key` -- ``SecretsKey``: the namespace's one KMS key for secrets
- :mod:`stackyard.library.iam` -- least-privilege roles (ECS task roles, EMR roles)
- :mod:`stackyard.library.network` -- a VPC with public and private subnets
- :mod:`stackyard.library.dns` -- Route 53 hosted zones and records

Nothing is imported here, so importing the package stays cheap.
"""
