"""The import contract names every blueprint package: a new area is checked by `make lint` the day it is added."""

from __future__ import annotations

import tomllib
from pathlib import Path

from portal import BLUEPRINTS

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def _contracts() -> dict[str, dict]:
    config = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]
    return {contract["id"]: contract for contract in config["contracts"]}


def test_the_web_layer_of_the_contract_is_exactly_the_registered_blueprints():
    web_layer = _contracts()["layers"]["layers"][0]
    assert {name.strip() for name in web_layer.split("|")} == {f"portal.{name}" for name in BLUEPRINTS}


def test_workers_are_forbidden_every_registered_blueprint():
    forbidden = set(_contracts()["workers-not-web"]["forbidden_modules"])
    assert forbidden == {f"portal.{name}" for name in BLUEPRINTS}
