"""Demo blueprints, written as a stacker user writes them (only the imports differ)."""
