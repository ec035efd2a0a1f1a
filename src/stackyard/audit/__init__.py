"""Audits of what the config does not say: records in managed zones, and where they point."""
