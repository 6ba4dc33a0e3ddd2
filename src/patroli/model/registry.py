"""Where models live, and which one is active.

* The bundled default model: ``patroli/data/model/`` (``model.joblib``, ``model.json``,
  ``MODEL_CARD.md``), committed with the code; reproduced by ``patroli train`` from the
  shared corpus (see its model card).
* Trained models: ``$PATROLI_MODEL_DIR`` (default ``~/.local/share/patroli/models``), one
  folder per version (``<dir>/<version>/model.joblib`` ...). The file ``<dir>/ACTIVE``
  names the active version; without it (or when it names a missing folder) the bundled
  model is active.

``load_default_classifier()`` loads the active model once per process (cached).
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from patroli.model.classifier import ModelFileError, TextClassifier

__all__ = [
    "BUNDLED_DIR",
    "ENV_VAR",
    "MODEL_FILE",
    "ModelFileError",
    "active_model_dir",
    "load_default_classifier",
    "read_model_meta",
    "set_active",
    "user_model_dir",
]

#: Folder of the bundled default model.
BUNDLED_DIR: Path = Path(__file__).resolve().parent.parent / "data" / "model"
#: Environment variable naming the folder of trained models.
ENV_VAR = "PATROLI_MODEL_DIR"
MODEL_FILE = "model.joblib"
META_FILE = "model.json"
CARD_FILE = "MODEL_CARD.md"
ACTIVE_FILE = "ACTIVE"


def user_model_dir() -> Path:
    """``$PATROLI_MODEL_DIR`` or ``~/.local/share/patroli/models`` (not created here)."""
    return Path(os.environ.get(ENV_VAR) or "~/.local/share/patroli/models").expanduser()


def active_model_dir() -> Path:
    """The folder of the active model: the version named in ``<user dir>/ACTIVE`` when
    that folder holds a model file, else ``BUNDLED_DIR``."""
    root = user_model_dir()
    marker = root / ACTIVE_FILE
    if marker.is_file():
        name = marker.read_text(encoding="utf-8").strip()
        if name and (root / name / MODEL_FILE).is_file():
            return root / name
    return BUNDLED_DIR


def set_active(model_dir: Path) -> None:
    """Make ``model_dir`` (a folder inside ``user_model_dir()``) the active model."""
    root = user_model_dir()
    model_dir = Path(model_dir).resolve()
    if model_dir.parent != root.resolve():
        raise ValueError(f"{model_dir}: an active model must be a folder inside {root}")
    root.mkdir(parents=True, exist_ok=True)
    (root / ACTIVE_FILE).write_text(model_dir.name + "\n", encoding="utf-8")
    load_default_classifier.cache_clear()


def read_model_meta(model_dir: Path) -> dict[str, Any] | None:
    """The ``model.json`` of a model folder (version, data hash, CV figures), or None."""
    p = Path(model_dir) / META_FILE
    if not p.is_file():
        return None
    try:
        meta = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return meta if isinstance(meta, dict) else None


@lru_cache(maxsize=1)
def load_default_classifier() -> TextClassifier | None:
    """The active model (cached for the process), or None when no model file exists.

    Raises ``ModelFileError`` when the active model file exists but cannot be read.
    """
    path = active_model_dir() / MODEL_FILE
    if not path.is_file():
        return None
    return TextClassifier.load(path)

