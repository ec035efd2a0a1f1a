"""Desired vs deployed: what to do with each stack. Plain data; no writes."""
