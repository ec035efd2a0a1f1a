"""stacker-compatible blueprints: Python classes and raw templates that render CloudFormation.

The module paths mirror stacker's, so a stacker blueprint moves over by changing
``stacker.blueprints`` to ``stackyard.blueprints`` in its imports:

- :mod:`stackyard.blueprints.base` -- ``Blueprint``, ``CFNParameter``
- :mod:`stackyard.blueprints.variables.types` -- ``CFNType`` and friends, ``TroposphereType``
- :mod:`stackyard.blueprints.raw` -- ``RawTemplateBlueprint`` (JSON, YAML, Jinja2)
- :mod:`stackyard.blueprints.cfn_yaml` -- YAML with CloudFormation short tags
- :mod:`stackyard.blueprints.loader` -- ``load_blueprint`` for the config layer

Nothing is imported here, so importing the package stays cheap.
"""
