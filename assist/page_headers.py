"""Security headers for the HTML pages the server renders (admin, demo, sidebar)."""


def secure_page(response, csp, referrer="same-origin", no_store=True):
    """Set what every page needs: its Content-Security-Policy, no MIME sniffing, a referrer policy, no caching."""
    response.headers["Content-Security-Policy"] = csp
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = referrer
    if no_store:
        response.headers["Cache-Control"] = "no-store"
    return response
