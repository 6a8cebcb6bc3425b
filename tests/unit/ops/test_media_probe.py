from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import InvalidMedia
from pipeline.media.info import MediaKind
from tests.unit.ops.helpers import run_op


def test_the_probe_returns_media_facts_and_no_output(video: Path, tmp_path: Path) -> None:
    result = run_op("media.probe", video, tmp_path / "work")
    assert result.output is None
    assert result.media is not None and result.media.kind is MediaKind.VIDEO
    assert list((tmp_path / "work").iterdir()) == []


def test_the_probe_refuses_an_empty_upload(tmp_path: Path) -> None:
    (tmp_path / "input").touch()
    with pytest.raises(InvalidMedia, match="empty"):
        run_op("media.probe", tmp_path / "input", tmp_path / "work")
