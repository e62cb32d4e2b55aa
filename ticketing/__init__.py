"""Ticketing: the work-management system behind the hotline (domain rules, storage, services)."""
