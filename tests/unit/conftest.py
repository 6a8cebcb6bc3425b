"""Media shared by the unit tests, made once per session (each clip costs ffmpeg time)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import make_audio, make_video


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def video(media_dir: Path) -> Path:
    return make_video(media_dir / "clip.mp4")


@pytest.fixture(scope="session")
def rotated_video(media_dir: Path) -> Path:
    return make_video(media_dir / "phone.mp4", rotate=90, halves=True)


@pytest.fixture(scope="session")
def audio(media_dir: Path) -> Path:
    return make_audio(media_dir / "tone.mp3")


@pytest.fixture(scope="session")
def silent_video(media_dir: Path) -> Path:
    return make_video(media_dir / "silent.mp4", audio=False)
