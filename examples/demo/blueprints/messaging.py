"""An SNS topic, and an SQS queue subscribed to it."""

from troposphere import GetAtt, Output, Ref, sns, sqs

from stackyard.blueprints.base import Blueprint
from stackyard.blueprints.variables.types import CFNString


class Topic(Blueprint):
    VARIABLES = {"TopicName": {"type": str, "description": "the topic's name"}}

    def create_template(self):
        topic = self.template.add_resource(
            sns.Topic("Topic", TopicName=self.get_variables()["TopicName"])
        )
        self.add_output("TopicArn", Ref(topic))


class Queue(Blueprint):
    VARIABLES = {
        "QueueName": {"type": str},
        "VisibilityTimeout": {"type": int, "default": 30},
        "TopicArn": {"type": CFNString, "description": "topic to subscribe to"},
    }

    def create_template(self):
        t = self.template
        variables = self.get_variables()
        queue = t.add_resource(
            sqs.Queue(
                "Queue",
                QueueName=variables["QueueName"],
                VisibilityTimeout=variables["VisibilityTimeout"],
            )
        )
        t.add_resource(
            sns.SubscriptionResource(
                "Subscription",
                Protocol="sqs",
                Endpoint=GetAtt(queue, "Arn"),
                TopicArn=Ref("TopicArn"),
            )
        )
        t.add_output(Output("QueueUrl", Value=Ref(queue)))
        t.add_output(Output("QueueArn", Value=GetAtt(queue, "Arn")))
