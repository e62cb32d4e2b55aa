"""Notifications: message texts (Jinja2 templates), the outbox policy (retries, dead letters) and the
delivery adapters (HTTP SMS gateway, SMTP e-mail, a file for development)."""
