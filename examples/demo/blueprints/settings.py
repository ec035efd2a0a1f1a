"""SSM String parameters under one prefix, from a map."""

from troposphere import Output, Sub, ssm

from stackyard.blueprints.base import Blueprint


class Settings(Blueprint):
    VARIABLES = {
        "Parameters": {"type": dict, "description": "name -> value, stored under /<namespace>/"},
    }

    def create_template(self):
        t = self.template
        prefix = "/%s/" % self.context.namespace
        for name, value in sorted(self.get_variables()["Parameters"].items()):
            title = "".join(part.capitalize() for part in name.replace("-", " ").split())
            t.add_resource(
                ssm.Parameter(title, Name=prefix + name, Type="String", Value=str(value))
            )
        t.add_output(Output("Prefix", Value=Sub(prefix)))
