"""Rendering for people: progress while running, summaries, tables. Never calls AWS."""
