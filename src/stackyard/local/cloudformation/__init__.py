"""stackyard's CloudFormation emulator: a faithful lifecycle on top of moto's services."""

from __future__ import annotations

from stackyard.local.cloudformation.emulator import CloudFormationEmulator

__all__ = ["CloudFormationEmulator"]
