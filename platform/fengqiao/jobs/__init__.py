"""Background jobs: RQ over Redis, or in-process when no Redis is configured."""
