"""Cases: queues, details and (with the case engine) workflows."""
