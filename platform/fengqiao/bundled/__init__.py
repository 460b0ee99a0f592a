"""Data the distribution ships from the repository's top folders.

``themes/`` and ``form_definitions/`` stay at the top of the checkout, where they are edited;
setup.cfg maps them to the data-only packages ``fengqiao.bundled.themes`` and
``fengqiao.bundled.form_definitions``, so a wheel carries them inside ``fengqiao`` and an
editable install reads them in place. Either way :mod:`importlib.resources` finds them.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def bundled_folder(name: str) -> Path:
    """The folder of the data package ``fengqiao.bundled.<name>``, as a real directory.

    Jinja's loader and ``send_from_directory`` need one; pip installs wheels unzipped, so
    anything else means a broken install, reported here rather than as a missing template.
    """
    folder = files(f"{__name__}.{name}")
    if not isinstance(folder, Path) or not folder.is_dir():
        raise RuntimeError(f"{__name__}.{name} is not installed as a folder ({folder!r})")
    return folder
