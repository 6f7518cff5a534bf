"""Persistence: one SQLite store (``store``) behind State (``state``), sessions, artifacts,
conversations, runs, checkpoints and the audit log. Import the submodule you need."""
