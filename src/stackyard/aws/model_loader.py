"""botocore's data loader, asked "is this service known?" without listing every service.

Before it loads a service's model, botocore lists every service it knows (a directory scan
of 400-odd services, twice: for the model and for its endpoint rules) only to check that
the one asked for is among them: about 20 ms of the 45 ms a first client costs, on the way
to every command's first call. :class:`ServiceLoader` answers that membership test by
looking in the one service's folder; anything else asked of the list gets botocore's own.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload

from botocore.loaders import Loader


class ServiceLoader(Loader):  # type: ignore[misc]
    """botocore's ``Loader`` whose service list checks membership one service at a time."""

    def list_available_services(self, type_name: str) -> Sequence[str]:  # type: ignore[override]
        """The services with a ``type_name`` model, as a list computed only when needed."""
        everything = super().list_available_services
        return _Services(lambda: list(everything(type_name)), self._has(type_name))

    def _has(self, type_name: str) -> Callable[[str], bool]:
        def has(service: str) -> bool:
            # botocore's own test, for one folder: some API version of the service has
            # the model file, in some search path.
            for path in self.search_paths:
                folder = os.path.join(path, service)
                if not os.path.isdir(folder):
                    continue
                for version in os.listdir(folder):
                    if self.file_loader.exists(os.path.join(folder, version, type_name)):
                        return True
            return False

        return has


class _Services(Sequence[str]):
    """A sorted list of service names, listed in full on first use other than ``in``."""

    def __init__(self, listing: Callable[[], list[str]], has: Callable[[str], bool]) -> None:
        self._listing = listing
        self._has = has
        self._names: list[str] | None = None

    def _all(self) -> list[str]:
        if self._names is None:
            self._names = self._listing()
        return self._names

    def __contains__(self, name: object) -> bool:
        if self._names is not None:
            return name in self._names
        return isinstance(name, str) and os.sep not in name and self._has(name)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __eq__(self, other: Any) -> bool:
        return self._all() == (list(other) if isinstance(other, Sequence) else other)

    __hash__ = None  # type: ignore[assignment]


def install(session: Any) -> None:
    """Give a botocore ``session`` a :class:`ServiceLoader` over its usual search path
    (botocore's data, ``~/.aws/models``, and ``AWS_DATA_PATH``), reading the files through
    the decoded-model cache."""
    data_path = session.get_config_variable("data_path")
    extra = [
        os.path.expanduser(os.path.expandvars(p)) for p in (data_path or "").split(os.pathsep) if p
    ]
    from stackyard.aws.model_cache import CachedFileLoader, default_model_cache_dir

    files = CachedFileLoader(default_model_cache_dir())
    session.register_component(
        "data_loader", ServiceLoader(extra_search_paths=extra, file_loader=files)
    )
