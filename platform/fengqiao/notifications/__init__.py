"""Reaching people: the message centre (站内信) now; channels and webhooks build on it.

``service.deliver`` writes one row per recipient from the outbox job; the web and API layers
list, count and mark rows of the signed-in user only. See docs/notifications.md.
"""
