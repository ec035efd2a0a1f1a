"""``stackyard init``: a minimal working project, as files.

One config, one environment file, one Python blueprint and one raw template, which
``validate`` and ``build --local`` accept as written; a start to edit rather than a blank page.
"""

from __future__ import annotations

from pathlib import Path

from stackyard.errors import UsageError

__all__ = ["FILES", "write_project"]

CONFIG = """\
# A stackyard project: one stack from a Python blueprint, one from a raw template.
#
#   stackyard validate stage.env stackyard.yaml
#   stackyard build --local stage.env stackyard.yaml     (the embedded local AWS)
#   stackyard diff stage.env stackyard.yaml              (against your AWS account)
#
# Reference: docs/config.md in stackyard's repository.
namespace: ${namespace}
sys_path: .

stacks:
  - name: queue
    class_path: blueprints.queue.Queue
    variables:
      QueueName: jobs
      RetentionSeconds: ${retention_seconds}

  - name: alerts
    template_path: templates/alerts.yaml
    variables:
      TopicName: alerts
      QueueArn: ${output queue::QueueArn}
"""

ENVIRONMENT = """\
# Values for ${key} in stackyard.yaml; -e key=value overrides one on the command line.
namespace: example-stage
retention_seconds: 86400
"""

BLUEPRINT = '''\
"""An SQS queue: a Python blueprint declares its variables and builds a template."""

from troposphere import GetAtt, sqs

from stackyard.blueprints.base import Blueprint


class Queue(Blueprint):
    VARIABLES = {
        "QueueName": {"type": str, "description": "The queue's name, after the namespace."},
        "RetentionSeconds": {
            "type": int,
            "default": 345600,
            "description": "How long a message is kept, in seconds.",
        },
    }

    def create_template(self):
        variables = self.get_variables()
        queue = self.template.add_resource(
            sqs.Queue(
                "Queue",
                QueueName=self.context.get_fqn(variables["QueueName"]),
                MessageRetentionPeriod=variables["RetentionSeconds"],
            )
        )
        self.add_output("QueueArn", GetAtt(queue, "Arn"))
'''

TEMPLATE = """\
# A raw CloudFormation template: stack variables with a parameter's name fill it in.
Parameters:
  TopicName:
    Type: String
  QueueArn:
    Type: String
    Description: The queue the alerts are delivered to (an output of the queue stack).
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Sub "${AWS::StackName}-${TopicName}"
      Subscription:
        - Protocol: sqs
          Endpoint: !Ref QueueArn
Outputs:
  TopicArn:
    Value: !Ref Topic
"""

#: Path (relative to the project folder) to content.
FILES: dict[str, str] = {
    "stackyard.yaml": CONFIG,
    "stage.env": ENVIRONMENT,
    "blueprints/__init__.py": "",
    "blueprints/queue.py": BLUEPRINT,
    "templates/alerts.yaml": TEMPLATE,
}


def write_project(folder: Path, *, force: bool = False) -> list[Path]:
    """Write :data:`FILES` under ``folder``; refuse to overwrite a file unless ``force``."""
    targets = {folder / name: content for name, content in FILES.items()}
    existing = [path for path in targets if path.exists()]
    if existing and not force:
        raise UsageError(
            f"{existing[0]} already exists",
            hint="run init in an empty folder, or pass --force to overwrite the starter files",
        )
    for path, content in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return list(targets)
