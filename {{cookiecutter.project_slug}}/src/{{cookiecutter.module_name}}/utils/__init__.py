"""Helpers shared by training and serving: errors, atomic files, column kinds, progress, CLI."""
