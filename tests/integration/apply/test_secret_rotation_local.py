"""A changed NoEcho value is deployed, though CloudFormation only ever shows it as ****."""

from __future__ import annotations

import json

from apply_helpers import Apply, phases

TEMPLATE = {
    "Parameters": {"Password": {"Type": "String", "NoEcho": True}},
    "Resources": {
        "Copy": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Type": "String", "Value": {"Ref": "Password"}},
        }
    },
}


def test_rotated_no_echo_value_updates_the_stack(apply: Apply, aws) -> None:
    (apply.folder / "templates" / "secret.json").write_text(json.dumps(TEMPLATE))
    (apply.folder / "secret.yaml").write_text(
        "namespace: ${namespace}\nstacks:\n"
        "  - name: db\n    template_path: templates/secret.json\n"
        "    variables:\n      Password: ${password}\n"
    )

    def build(password: str) -> dict[str, str]:
        return phases(apply.build(apply.project("secret.yaml", password=password)))

    assert build("first-secret") == {"db": "complete"}
    assert build("first-secret") == {"db": "no change"}
    assert build("second-secret") == {"db": "complete"}

    name = aws("cloudformation").describe_stack_resource(
        StackName=f"{apply.namespace}-db", LogicalResourceId="Copy"
    )["StackResourceDetail"]["PhysicalResourceId"]
    assert aws("ssm").get_parameter(Name=name)["Parameter"]["Value"] == "second-secret"
    template = aws("cloudformation").get_template(StackName=f"{apply.namespace}-db")
    assert "second-secret" not in json.dumps(template["TemplateBody"], default=str)
