"""Serves the page (the static export of ``web/frontend``) and its files.

The page holds no data, so it needs no token; it asks the user for one and sends it with
every call to ``/api/v1``. Responses carry a strict Content-Security-Policy (scripts and
styles only from this origin, nothing inline). The page itself is never cached, so that a
browser keeps no copy of a page that once showed an integration; its content-hashed
scripts and styles (``_next/static/``), which hold no data, are cached for good.
"""

import secrets
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse

from integrations_platform.web.build import EXPORT_DIR

STATIC_DIR = EXPORT_DIR

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'{style_nonce}",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY.format(style_nonce=""),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
IMMUTABLE = "public, max-age=31536000, immutable"
_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".woff2": "font/woff2",
}
NOT_BUILT = (
    "The page is not built yet. Run `integrations page build` (or `integrations up`, "
    "which builds it), then reload."
)

router = APIRouter(include_in_schema=False)


def _file(path: Path) -> FileResponse:
    media_type = _MEDIA_TYPES.get(path.suffix)
    if media_type is None or not path.is_file():
        raise _not_found()
    headers = dict(SECURITY_HEADERS)
    if path.is_relative_to(STATIC_DIR / "_next" / "static"):
        headers["Cache-Control"] = IMMUTABLE
    return FileResponse(path, media_type=media_type, headers=headers)


def _not_found() -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, "No such file")


# No file of the page has a longer name; longer ones are refused before the file system
# sees them (which would answer ENAMETOOLONG).
MAX_NAME_LENGTH = 200


@lru_cache(maxsize=4)
def _index_html(mtime_ns: int) -> str:
    return (STATIC_DIR / "index.html").read_text(encoding="utf-8")


@router.get("/", response_model=None)
def wizard_page() -> HTMLResponse | PlainTextResponse:
    """The page: marketplace, wizard, installed integrations, notifications and runs.

    Each response has its own nonce, in a meta tag and in the policy's ``style-src``: the
    dialogs' scroll lock adds a ``<style>`` element that carries it (no script is inline,
    and no other style may be).
    """
    index = STATIC_DIR / "index.html"
    try:
        html = _index_html(index.stat().st_mtime_ns)
    except OSError:
        return PlainTextResponse(
            NOT_BUILT, status_code=status.HTTP_503_SERVICE_UNAVAILABLE, headers=SECURITY_HEADERS
        )
    nonce = secrets.token_urlsafe(18)
    html = html.replace("<head>", f'<head><meta name="csp-nonce" content="{nonce}"/>', 1)
    headers = dict(SECURITY_HEADERS)
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.format(
        style_nonce=f" 'nonce-{nonce}'"
    )
    return HTMLResponse(html, headers=headers)


@router.get("/ui")
def wizard_page_alias() -> RedirectResponse:
    """``/ui`` leads to the page (whose links are fragments of ``/``)."""
    return RedirectResponse("/", status_code=status.HTTP_307_TEMPORARY_REDIRECT)


@router.get("/ui/static/{name:path}")
def static_file(name: str) -> FileResponse:
    """A file of the page (scripts, styles); nothing outside the export folder."""
    if len(name) > MAX_NAME_LENGTH or "\0" in name:
        raise _not_found()
    try:
        path = (STATIC_DIR / name).resolve()
        if not path.is_relative_to(STATIC_DIR):
            raise _not_found()
        return _file(path)
    except (OSError, ValueError):
        raise _not_found() from None
