"""patroli's web application (issue 5): FastAPI, server-rendered Jinja2 pages.

``create_app()`` builds the app (``patroli.web.app``); security building blocks
(passwords, sessions, CSRF, headers, size and rate limits, roles) are in
``patroli.web.security``; the audit log in ``patroli.web.audit``. The web layer shows
what the store holds: it never decides a risk score.
"""

from patroli.web.app import create_app

__all__ = ["create_app"]
