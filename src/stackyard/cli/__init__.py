"""The ``stackyard`` command line: arguments, exit codes and wiring, nothing else."""
