"""The web front door: a FastAPI app (:func:`web.app.create_app`) over the composition root.

Server-rendered Jinja2 pages with HTMX for the staff portal (:mod:`web.staff`), and the routers of the
public pages, the REST API and Open311 included beside them. No service is built here: everything
comes from :class:`wiring.Services`.
"""
