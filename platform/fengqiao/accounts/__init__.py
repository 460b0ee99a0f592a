"""Users, roles, permissions, login and API tokens."""
