"""Serves the wizard page and its static files.

The page holds no data, so it needs no token; it asks the user for one and sends it with
every call to ``/api/v1``. Responses carry a strict Content-Security-Policy (scripts and
styles only from this origin, nothing inline) and are never cached, so that a browser
keeps no copy of a page that once showed an integration.
"""

from pathlib import Path

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import FileResponse, RedirectResponse

STATIC_DIR = Path(__file__).resolve().parent / "static"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}

router = APIRouter(include_in_schema=False)


def _file(path: Path) -> FileResponse:
    media_type = _MEDIA_TYPES.get(path.suffix)
    if media_type is None or not path.is_file():
        raise _not_found()
    return FileResponse(path, media_type=media_type, headers=SECURITY_HEADERS)


def _not_found() -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, "No such file")


# No file of the page has a longer name; longer ones are refused before the file system
# sees them (which would answer ENAMETOOLONG).
MAX_NAME_LENGTH = 200


@router.get("/")
def wizard_page() -> FileResponse:
    """The page: marketplace, wizard, installed integrations and notifications."""
    return _file(STATIC_DIR / "index.html")


@router.get("/ui")
def wizard_page_alias() -> RedirectResponse:
    """``/ui`` leads to the page (whose links are fragments of ``/``)."""
    return RedirectResponse("/", status_code=status.HTTP_307_TEMPORARY_REDIRECT)


@router.get("/ui/static/{name:path}")
def static_file(name: str) -> FileResponse:
    """A file of the page (scripts, styles); nothing outside the static folder."""
    if len(name) > MAX_NAME_LENGTH or "\0" in name:
        raise _not_found()
    try:
        path = (STATIC_DIR / name).resolve()
        if not path.is_relative_to(STATIC_DIR):
            raise _not_found()
        return _file(path)
    except (OSError, ValueError):
        raise _not_found() from None
