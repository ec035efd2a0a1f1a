"""stackyard: AWS infrastructure as reviewed code."""

__version__ = "0.1.0"
