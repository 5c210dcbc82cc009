"""3-D views of latent codes (vae_core.analysis.projection.embed_3d)."""

import numpy as np
import pytest

from vae_core.analysis import projection


def test_embed_3d_gives_the_chosen_native_axes_pca_components_and_refuses_two_dimensions():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(300, 5)).astype(np.float32) * np.array([5, 1, 3, 0.1, 2], np.float32)
    xyz, labels = projection.embed_3d(codes, "native", native_dims=(0, 2, 4))
    assert labels == ("z1", "z3", "z5") and np.array_equal(xyz, codes[:, [0, 2, 4]])
    xyz, labels = projection.embed_3d(codes, "pca")
    assert xyz.shape == (300, 3) and labels[0].startswith("PC1")
    assert np.var(xyz[:, 0]) >= np.var(xyz[:, 1]) >= np.var(xyz[:, 2])  # components by explained variance
    with pytest.raises(ValueError, match="at least 3 latent dimensions"):
        projection.embed_3d(codes[:, :2], "pca")
