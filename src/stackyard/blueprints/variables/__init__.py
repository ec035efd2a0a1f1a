"""Variable types a blueprint's ``VARIABLES`` may name (see :mod:`.types`)."""
