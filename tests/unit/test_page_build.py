"""The page's build: rebuilt when a source changes, left alone otherwise, and the front
end's own checks (TypeScript strict, the linter, the component tests) pass."""

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from integrations_platform.cli import main
from integrations_platform.web import build


@pytest.fixture
def sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the page's sources (not its packages) that the build module looks at."""
    root = tmp_path / "frontend"
    root.mkdir()
    for name in ("package.json", "package-lock.json", "next.config.mjs", "tsconfig.json"):
        shutil.copy(build.FRONTEND_DIR / name, root / name)
    shutil.copytree(build.FRONTEND_DIR / "src", root / "src")
    monkeypatch.setattr(build, "FRONTEND_DIR", root)
    monkeypatch.setattr(build, "EXPORT_DIR", root / "out")
    return root


def test_the_export_is_stale_until_built_from_the_current_sources(sources: Path) -> None:
    assert not build.export_is_current()  # nothing built
    out = sources / "out"
    out.mkdir()
    (out / "index.html").write_text("<!doctype html>")
    (out / build.FINGERPRINT_FILE).write_text(build.source_fingerprint() + "\n")
    assert build.export_is_current()

    page = sources / "src" / "pages" / "index.tsx"
    page.write_text(page.read_text() + "\n// changed\n")
    assert not build.export_is_current()  # a source changed
    (out / build.FINGERPRINT_FILE).write_text(build.source_fingerprint() + "\n")
    assert build.export_is_current()
    (sources / "src" / "lib" / "new.ts").write_text("export const x = 1;\n")
    assert not build.export_is_current()  # a file was added


def test_a_failing_build_says_what_failed_and_what_to_do(sources: Path) -> None:
    with pytest.raises(Exception) as raised:
        build.run_npm(["run", "no-such-script"], log=print)
    message = str(raised.value)
    assert "npm run no-such-script" in message and "integrations page build" in message


def test_the_page_in_the_package_is_current_and_the_command_says_so() -> None:
    # The test session built it (tests/conftest.py), as `integrations up` does.
    assert build.export_is_current()
    result = CliRunner().invoke(main, ["page", "build"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output


def test_the_front_end_checks_pass() -> None:
    output = build.check_page(log=print)
    assert "tsc --noEmit" in output and "eslint" in output
    # Vitest's summary: "Tests  77 passed (77)", with "N failed" when any fails (a test's
    # own name may say "failed").
    assert re.search(r"Tests\s+\d+ passed", _plain(output)), output[-2000:]
    assert not re.search(r"\d+ failed", _plain(output)), output[-2000:]


def _plain(text: str) -> str:
    """``text`` without terminal colour codes."""
    return re.sub(r"\x1b\[[0-9;]*m", "", text)
