"""The package list, the one thing setup.cfg cannot declare: ``find:`` sees only platform/,
while the data-only packages mapped from the repository's top folders (setup.cfg,
``package_dir``) must be named too. Namespace discovery, as in the plugins' pyproject.toml,
counts data folders (templates, static, migrations) as packages, so setuptools ships them
without warning that they "would be ignored"."""

from setuptools import find_namespace_packages, setup

BUNDLED = {"fengqiao.bundled.themes": "themes", "fengqiao.bundled.form_definitions": "form_definitions"}

packages = find_namespace_packages("platform", include=["fengqiao", "fengqiao.*"])
for package, folder in BUNDLED.items():
    packages += [package, *(f"{package}.{sub}" for sub in find_namespace_packages(folder))]

setup(packages=packages)
