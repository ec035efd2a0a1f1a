"""stackyard.blueprints.loader: class_path and template_path to a blueprint, or a clear error."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from stackyard.blueprints.base import Blueprint
from stackyard.blueprints.loader import (
    import_blueprint_class,
    load_blueprint,
    resolve_template_path,
)
from stackyard.blueprints.raw import RawTemplateBlueprint
from stackyard.context import Context
from stackyard.errors import BlueprintError


def load_from(tmp_path: Path, class_path: str, sys_path: list[str] | None = None) -> Blueprint:
    return load_blueprint(
        stack_name="web",
        class_path=class_path,
        template_path=None,
        context=Context(namespace="acme"),
        description="Web tier",
        mappings={"M": {"a": {"b": "c"}}},
        sys_path=sys_path if sys_path is not None else ["lib"],
        base_dir=tmp_path,
    )


def write_module(tmp_path: Path, name: str, text: str) -> None:
    lib = tmp_path / "lib"
    lib.mkdir(exist_ok=True)
    (lib / f"{name}.py").write_text(text)


def test_class_path_is_instantiated_with_name_context_mappings_description(load: Any) -> None:
    bp = load("yardfixtures.vpc.VPC", mappings={"M": {}}, description="d", stack_name="vpc")
    assert type(bp).__name__ == "VPC"
    assert (bp.name, bp.mappings, bp.description) == ("vpc", {"M": {}}, "d")
    assert bp.context.namespace == "acme"


def test_sys_path_is_added_only_while_importing(tmp_path: Path) -> None:
    write_module(
        tmp_path,
        "yard_tmp_ok",
        "from stackyard.blueprints.base import Blueprint\n"
        "class Web(Blueprint):\n    def create_template(self):\n        pass\n",
    )
    before = list(sys.path)
    bp = load_from(tmp_path, "yard_tmp_ok.Web")
    assert type(bp).__name__ == "Web"
    assert sys.path == before


def test_template_path_relative_to_base_dir(load: Any) -> None:
    bp = load(template_path="templates/queue.json")
    assert isinstance(bp, RawTemplateBlueprint)
    assert bp.raw_template_path.name == "queue.json"


def test_template_path_found_under_a_sys_path_entry(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "t.yaml").write_text("Resources: {}\n")
    found = resolve_template_path("t.yaml", base_dir=tmp_path, sys_path=["pkg"])
    assert found == tmp_path / "pkg" / "t.yaml"
    assert resolve_template_path("t.yaml", base_dir=tmp_path) is None


def test_missing_template_path(tmp_path: Path) -> None:
    with pytest.raises(BlueprintError) as info:
        load_blueprint(
            stack_name="web",
            class_path=None,
            template_path="templates/missing.yaml",
            context=Context(),
            description=None,
            mappings=None,
            sys_path=None,
            base_dir=tmp_path,
        )
    err = info.value
    assert "template_path 'templates/missing.yaml' does not exist" in err.message
    assert (err.key, err.stack, err.exit_code) == ("template_path", "web", 2)


@pytest.mark.parametrize(("class_path", "template_path"), [(None, None), ("a.B", "t.yaml")])
def test_exactly_one_of_class_path_and_template_path(
    tmp_path: Path, class_path: str | None, template_path: str | None
) -> None:
    with pytest.raises(BlueprintError, match="class_path and template_path"):
        load_blueprint(
            stack_name="web",
            class_path=class_path,
            template_path=template_path,
            context=Context(),
            description=None,
            mappings=None,
            sys_path=None,
            base_dir=tmp_path,
        )


def test_class_path_without_module(tmp_path: Path) -> None:
    with pytest.raises(BlueprintError, match=r"not of the form module\.ClassName"):
        load_from(tmp_path, "VPC")


def test_module_not_found_hints_at_sys_path(tmp_path: Path) -> None:
    with pytest.raises(BlueprintError) as info:
        load_from(tmp_path, "yard_no_such_pkg.vpc.VPC")
    err = info.value
    assert "cannot import module 'yard_no_such_pkg.vpc'" in err.message
    assert "No module named 'yard_no_such_pkg'" in err.message
    assert err.hint is not None and "sys_path" in err.hint and "lib" in err.hint
    assert err.key == "class_path"
    assert isinstance(err.__cause__, ImportError)


def test_module_importing_something_missing(tmp_path: Path) -> None:
    write_module(tmp_path, "yard_tmp_dep", "import yard_missing_dependency\n")
    with pytest.raises(BlueprintError) as info:
        load_from(tmp_path, "yard_tmp_dep.Web")
    assert "importing 'yard_tmp_dep'" in info.value.message
    assert "'yard_missing_dependency'" in (info.value.hint or "")


def test_a_stacker_module_with_no_equivalent_is_named_with_what_to_do(tmp_path: Path) -> None:
    write_module(tmp_path, "yard_tmp_stacker", "from stacker.providers.aws import default\n")
    with pytest.raises(BlueprintError) as info:
        load_from(tmp_path, "yard_tmp_stacker.Web")
    assert "stacker.providers" in info.value.message
    assert "stackyard" in (info.value.hint or "")


def test_other_import_error(tmp_path: Path) -> None:
    write_module(tmp_path, "yard_tmp_importerr", "from os import no_such_name\n")
    with pytest.raises(BlueprintError, match="no_such_name"):
        load_from(tmp_path, "yard_tmp_importerr.Web")


def test_syntax_error_in_blueprint_module(tmp_path: Path) -> None:
    write_module(tmp_path, "yard_tmp_syntax", "class Web(:\n    pass\n")
    with pytest.raises(BlueprintError, match="syntax error") as info:
        load_from(tmp_path, "yard_tmp_syntax.Web")
    assert info.value.line == 1
    assert info.value.file is not None and info.value.file.endswith("yard_tmp_syntax.py")


def test_module_top_level_code_raising(tmp_path: Path) -> None:
    write_module(tmp_path, "yard_tmp_raises", "raise RuntimeError('boom')\n")
    with pytest.raises(BlueprintError, match="raised RuntimeError: boom"):
        load_from(tmp_path, "yard_tmp_raises.Web")


def test_missing_class_suggests_a_close_name(load: Any) -> None:
    with pytest.raises(BlueprintError) as info:
        load("yardfixtures.vpc.Vpc")
    assert "module 'yardfixtures.vpc' has no class 'Vpc'" in info.value.message
    assert info.value.hint == "did you mean yardfixtures.vpc.VPC?"


def test_missing_class_lists_classes_when_nothing_is_close(load: Any) -> None:
    with pytest.raises(BlueprintError) as info:
        load("yardfixtures.vpc.Zzzzzz")
    assert info.value.hint == "blueprints defined there: VPC"


@pytest.mark.parametrize(
    ("name", "what"),
    [("NotABlueprint", "class yardfixtures.broken.NotABlueprint"), ("NOT_A_CLASS", "a int")],
)
def test_not_a_blueprint(load: Any, name: str, what: str) -> None:
    with pytest.raises(BlueprintError) as info:
        load(f"yardfixtures.broken.{name}")
    assert f"is not a Blueprint class (it is {what})" in info.value.message


def test_subclass_of_another_blueprint_base_gets_the_import_hint(tmp_path: Path) -> None:
    write_module(
        tmp_path,
        "yard_tmp_foreign",
        "class Blueprint:\n    pass\nclass Web(Blueprint):\n    pass\n",
    )
    with pytest.raises(BlueprintError) as info:
        load_from(tmp_path, "yard_tmp_foreign.Web")
    assert "instead of stacker's" in (info.value.hint or "")


def test_blueprint_init_raising(tmp_path: Path) -> None:
    write_module(
        tmp_path,
        "yard_tmp_init",
        "from stackyard.blueprints.base import Blueprint\n"
        "class Web(Blueprint):\n"
        "    def __init__(self, *args, **kwargs):\n"
        "        raise ValueError('bad init')\n",
    )
    with pytest.raises(BlueprintError, match="failed to initialise: ValueError: bad init"):
        load_from(tmp_path, "yard_tmp_init.Web")


def test_import_blueprint_class_directly(tmp_path: Path) -> None:
    fixtures = Path(__file__).parent / "fixtures"
    cls = import_blueprint_class("yardfixtures.buckets.Buckets", sys_path=["."], base_dir=fixtures)
    assert issubclass(cls, Blueprint)


@pytest.mark.parametrize(
    "module",
    [
        "stackyard.blueprints.base",
        "stackyard.blueprints.raw",
        "stackyard.blueprints.cfn_yaml",
        "stackyard.blueprints.loader",
    ],
)
def test_public_api_is_present_and_unique(module: str) -> None:
    import importlib

    mod = importlib.import_module(module)  # ruff (RUF022) keeps __all__ sorted
    assert len(set(mod.__all__)) == len(mod.__all__)
    for name in mod.__all__:
        assert hasattr(mod, name), name
