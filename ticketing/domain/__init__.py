"""Pure domain logic: tickets, statuses, the working calendar, SLAs, routing. Standard library and pure
libraries only; no SQLAlchemy and no I/O (a test enforces this)."""
