"""Operations: backups and restores, health, metrics, structured logs and service units.

What a city's IT team runs the hotline with. This package sits beside the front doors: it may use
``config``, ``reference``, ``ticketing`` and ``wiring``, never ``commands`` (the thin CLI edge over it).
"""
