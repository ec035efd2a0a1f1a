"""botocore's data files come from the decoded cache only while it matches the file."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import botocore.session
import pytest
from botocore.loaders import JSONFileLoader

from stackyard.aws.model_cache import CachedFileLoader, default_model_cache_dir
from stackyard.aws.model_loader import install


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    decoded: list[str] = []
    original = JSONFileLoader.load_file

    def load_file(self: JSONFileLoader, file_path: str) -> object:
        decoded.append(os.path.basename(file_path))
        return original(self, file_path)

    monkeypatch.setattr(JSONFileLoader, "load_file", load_file)
    return decoded


def _model(folder: Path, data: object, *, gz: bool = False) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data).encode()
    if gz:
        (folder / "service-2.json.gz").write_bytes(gzip.compress(text))
    else:
        (folder / "service-2.json").write_bytes(text)
    return str(folder / "service-2")


def test_a_file_is_decoded_once_then_read_from_the_cache(
    tmp_path: Path, counting: list[str]
) -> None:
    path = _model(tmp_path / "data", {"b": 1, "a": {"z": [1, {"y": None}], "x": 2.5}})
    first = CachedFileLoader(tmp_path / "cache").load_file(path)
    again = CachedFileLoader(tmp_path / "cache").load_file(path)  # as a next command would
    assert first == again == {"b": 1, "a": {"z": [1, {"y": None}], "x": 2.5}}
    assert list(again) == ["b", "a"]  # the file's key order, as botocore's OrderedDict
    assert counting == ["service-2"]
    assert len(list((tmp_path / "cache").iterdir())) == 1


def test_gzipped_models_are_cached_too(tmp_path: Path, counting: list[str]) -> None:
    path = _model(tmp_path / "data", {"shapes": {}}, gz=True)
    for _ in range(2):
        assert CachedFileLoader(tmp_path / "cache").load_file(path) == {"shapes": {}}
    assert counting == ["service-2"]


def test_a_changed_file_is_decoded_again(tmp_path: Path, counting: list[str]) -> None:
    path = _model(tmp_path / "data", {"version": 1})
    loader = CachedFileLoader(tmp_path / "cache")
    assert loader.load_file(path) == {"version": 1}
    _model(tmp_path / "data", {"version": 2})
    stamp = os.stat(path + ".json")
    os.utime(path + ".json", ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 1_000_000))
    assert loader.load_file(path) == {"version": 2}
    assert loader.load_file(path) == {"version": 2}
    assert counting == ["service-2", "service-2"]


@pytest.mark.parametrize("junk", [b"", b"\x00garbage", b"\xe9" * 40])
def test_a_damaged_entry_is_decoded_again_and_replaced(
    tmp_path: Path, counting: list[str], junk: bytes
) -> None:
    path = _model(tmp_path / "data", {"ok": True})
    loader = CachedFileLoader(tmp_path / "cache")
    loader.load_file(path)
    (entry,) = (tmp_path / "cache").iterdir()
    entry.write_bytes(junk)
    assert loader.load_file(path) == {"ok": True}
    assert loader.load_file(path) == {"ok": True}
    assert counting == ["service-2", "service-2"]


def test_an_unwritable_cache_only_costs_time(tmp_path: Path) -> None:
    path = _model(tmp_path / "data", {"ok": True})
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    assert CachedFileLoader(blocked / "cache").load_file(path) == {"ok": True}


def test_a_missing_file_is_none_as_for_botocore(tmp_path: Path) -> None:
    assert CachedFileLoader(tmp_path / "cache").load_file(str(tmp_path / "nothing")) is None
    assert not (tmp_path / "cache").exists()


def test_cached_models_make_the_same_clients(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, counting: list[str]
) -> None:
    monkeypatch.setenv("STACKYARD_HOME", str(tmp_path))
    assert default_model_cache_dir().is_relative_to(tmp_path / "cache" / "botocore")
    shapes = []
    for _ in range(2):
        session = botocore.session.Session()
        session.set_credentials("a", "b")
        install(session)
        client = session.create_client("cloudformation", region_name="eu-west-1")
        model = client.meta.service_model
        members = model.operation_model("CreateStack").input_shape.members
        shapes.append(
            (model.operation_names, [(k, v.name, v.type_name) for k, v in members.items()])
        )
        assert client.meta.endpoint_url == "https://cloudformation.eu-west-1.amazonaws.com"
    assert shapes[0] == shapes[1]
    assert counting.count("endpoints") == 1  # the second session's came from the cache
