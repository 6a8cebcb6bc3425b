from pipeline.settings import Settings, redact


def test_settings_come_from_arguments_and_the_environment(monkeypatch):
    monkeypatch.setenv("PONY_MAX_PIXELS", "1234")
    settings = Settings(broker_url="memory://")
    assert settings.limits.max_pixels == 1234
    assert settings.broker_url == "memory://"
    assert settings.storage_url.startswith("file:///")


def test_passwords_are_redacted_from_urls_shown_to_people():
    shown = redact("s3://AKIA:sup3rsecret@minio:9000/pony?secure=false")
    assert "sup3rsecret" not in shown
    assert shown == "s3://AKIA:***@minio:9000/pony?secure=false"
    assert redact("sqlite:///var/pony.db") == "sqlite:///var/pony.db"
    assert "pw" not in redact("postgresql+psycopg://pony:pw@db:5432/pony")
