"""Settings that do not depend on where a command is typed."""

from integrations_platform.settings import PROJECT_ROOT, Settings


def test_the_default_home_is_the_projects_whatever_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({})
    assert settings.home == (PROJECT_ROOT / ".integrations").resolve()
    assert settings.database_url == f"sqlite:///{settings.home / 'integrations.db'}"
    assert settings.key_file == settings.home / "encryption.key"
    assert Settings.from_env({"INTEGRATIONS_HOME": str(tmp_path)}).home == tmp_path.resolve()
