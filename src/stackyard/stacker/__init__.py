"""stacker's modules that have no stackyard module of the same shape: ``stacker.util``,
``stacker.exceptions`` and ``stacker.lookups.handlers`` as blueprints and lookups use them
(see ``stackyard.stacker_imports``)."""
