"""Build step the declarative configuration in pyproject.toml cannot say:
the shipped questionnaires and interface catalogs, kept once at the project
root for users to edit, are copied into the wheel as package data of
``surveycore`` (``surveycore/_shipped/``), where ``surveycore.resources``
finds them once installed. Everything else is in pyproject.toml."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED_FOLDERS = ("questionnaires", "locales")  # as surveycore.resources.SHIPPED_FOLDERS


class BuildPyWithShipped(build_py):
    """``build_py`` that also copies the root's shipped folders into the package."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return  # an editable install reads the root folders themselves
        for name in SHIPPED_FOLDERS:
            target = Path(self.build_lib) / "surveycore" / "_shipped" / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(ROOT / name, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildPyWithShipped})
