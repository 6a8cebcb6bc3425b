import pytest

from pipeline.errors import NotFound
from pipeline.storage.local import LocalStore
from pipeline.storage.memory import MemoryStore


@pytest.fixture(params=["local", "memory"])
def objects(request, tmp_path):
    store = LocalStore(tmp_path / "objects") if request.param == "local" else MemoryStore()
    store.ensure_ready()
    return store


def test_an_object_round_trips_and_a_prefix_deletes_it(objects, tmp_path):
    source = tmp_path / "in.bin"
    source.write_bytes(b"pony" * 1000)
    objects.put_file("t/j/original", source, content_type="application/octet-stream")
    objects.get_file("t/j/original", tmp_path / "out.bin")
    assert (tmp_path / "out.bin").read_bytes() == source.read_bytes()
    assert b"".join(objects.iter_bytes("t/j/original")) == source.read_bytes()
    objects.delete_prefix("t/j/")
    with pytest.raises(NotFound):
        objects.get_file("t/j/original", tmp_path / "gone.bin")


def test_a_key_cannot_climb_out_of_the_local_folder(tmp_path):
    store = LocalStore(tmp_path / "objects")
    store.ensure_ready()
    (tmp_path / "secret").write_text("no")
    with pytest.raises(NotFound):
        store.get_file("../secret", tmp_path / "stolen")
