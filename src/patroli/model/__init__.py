"""The trained text classifier beside the rules (issue 4).

* ``classifier``: the scikit-learn pipeline and ``TextClassifier`` (fast ``predict_proba``);
* ``combine``: the one documented way rule results and model probabilities combine;
* ``registry``: where models live (bundled default, ``$PATROLI_MODEL_DIR``), the active one;
* ``train``: training with cross-validation, data hash, model card, refusal to replace a
  better active model.
"""

from __future__ import annotations

from patroli.model.classifier import ModelFileError, TextClassifier, build_pipeline
from patroli.model.combine import ModelView, combine, combine_assessment, model_view
from patroli.model.registry import active_model_dir, load_default_classifier, user_model_dir

__all__ = [
    "ModelFileError",
    "ModelView",
    "TextClassifier",
    "active_model_dir",
    "build_pipeline",
    "combine",
    "combine_assessment",
    "load_default_classifier",
    "model_view",
    "user_model_dir",
]
