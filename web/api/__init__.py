"""The REST API for staff and systems (``/api/v1``), authenticated with personal access tokens."""
