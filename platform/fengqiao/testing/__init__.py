"""Test kit for the core and for plugin authors (a pytest plugin: ``pytest11``).

Real services only: PostgreSQL and Redis on 127.0.0.1 when they answer, otherwise a
throwaway server started from the installed binaries, otherwise a skip that says why.
"""
