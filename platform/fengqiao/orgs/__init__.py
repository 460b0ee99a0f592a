"""Org hierarchy: units, moves and the one scoping function."""
