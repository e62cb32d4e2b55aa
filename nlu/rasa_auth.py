"""How the hotline authenticates to its Rasa server: a short-lived HS256 bearer token in a header.

Rasa accepts its ``--auth-token`` only as a ``?token=`` URL query, which httpx logs with every
request; its other mechanism, JWT (``--jwt-secret``), is read from the ``Authorization`` header. So the
server is started with the shared secret as its JWT secret (and no URL token), and every request
carries a token signed with it, with the admin role Rasa requires for ``/model/parse``.
"""

from __future__ import annotations

import time

import jwt

from config.log_redaction import register_secret

JWT_METHOD = "HS256"
LIFETIME_S = 300


def bearer_headers(secret: str, now: float | None = None) -> dict[str, str]:
    """``Authorization: Bearer <jwt>`` signed with ``secret``, valid for five minutes; no header when
    no secret is configured (the server then refuses the call, and the caller falls back)."""
    if not secret:
        return {}
    register_secret(secret)
    issued = int(time.time() if now is None else now)
    claims = {"user": {"username": "hotline", "role": "admin"}, "iat": issued, "exp": issued + LIFETIME_S}
    token = jwt.encode(claims, secret, algorithm=JWT_METHOD)
    return {"Authorization": f"Bearer {token}"}
