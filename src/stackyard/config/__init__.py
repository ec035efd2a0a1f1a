"""Loading and validating stackyard (and stacker 1.7) config files."""

from stackyard.config.loader import LoadedConfig, load_config
from stackyard.config.model import Config, Hook, Stack, Target

__all__ = ["Config", "Hook", "LoadedConfig", "Stack", "Target", "load_config"]
