"""Plugin loading (stevedore), registry and reports."""
