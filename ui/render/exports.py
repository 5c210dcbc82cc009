"""Files a user can take away: codes and map positions (CSV, NPZ), image strips (PNG) and
animations (GIF). Plain functions returning bytes, so pages hand them to st.download_button as
deferred data (built only when clicked) and tests can read them back."""

from __future__ import annotations

import csv
import io

import numpy as np
from PIL import Image

from ui.render.figures import image_grid, pixels


def code_table(indices, mean, logvar, xy, labels, classes, axis_labels=("x", "y")) -> dict[str, np.ndarray]:
    """The columns of an export, one row per dataset index: index, label, class, the map's two
    coordinates, posterior means mu_j and standard deviations sigma_j (0 for an autoencoder)."""
    idx = np.asarray(indices, dtype=np.int64)
    mean = np.asarray(mean, np.float32)[idx]
    sigma = np.exp(0.5 * np.asarray(logvar, np.float32)[idx])  # exp(-inf / 2) = 0: a point code
    lab = np.asarray(labels)[idx].astype(np.int64)
    cols = {"index": idx, "label": lab, "class": np.asarray(classes, dtype=str)[lab]}
    cols[f"map_{axis_labels[0]}"] = np.asarray(xy, np.float32)[idx, 0]
    cols[f"map_{axis_labels[1]}"] = np.asarray(xy, np.float32)[idx, 1]
    for j in range(mean.shape[1]):
        cols[f"mu_{j + 1}"] = mean[:, j]
    for j in range(mean.shape[1]):
        cols[f"sigma_{j + 1}"] = sigma[:, j]
    return cols


def to_csv(cols: dict[str, np.ndarray]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(cols)
    rows = zip(*(c.tolist() for c in cols.values()), strict=True)
    writer.writerows([f"{v:.6g}" if isinstance(v, float) else v for v in row] for row in rows)
    return out.getvalue().encode()


def to_npz(cols: dict[str, np.ndarray]) -> bytes:
    """The same columns as arrays; mu and sigma stacked as [N, D] (no pickle: strings as unicode)."""
    mu = [k for k in cols if k.startswith("mu_")]
    sigma = [k for k in cols if k.startswith("sigma_")]
    arrays = {k: v for k, v in cols.items() if k not in mu and k not in sigma}
    arrays["mu"] = np.stack([cols[k] for k in mu], 1) if mu else np.zeros((len(cols["index"]), 0), np.float32)
    arrays["sigma"] = np.stack([cols[k] for k in sigma], 1) if sigma else arrays["mu"].copy()
    buf = io.BytesIO()
    np.savez_compressed(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    return buf.getvalue()


def png_strip(images, nrow: int, scale: int = 4) -> bytes:
    """Decoded images [N, C, H, W] in [0, 1] as one PNG grid, nearest-neighbour upscaled."""
    buf = io.BytesIO()
    image_grid(images, nrow=nrow, scale=scale).save(buf, "PNG")
    return buf.getvalue()


def gif(images, scale: int = 8, ms_per_frame: int = 120, bounce: bool = True) -> bytes:
    """Decoded images [N, C, H, W] in [0, 1] as an animated GIF (there and back when `bounce`)."""
    frames = pixels(images)  # [N, H, W, C] uint8
    if bounce and len(frames) > 2:
        frames = np.concatenate([frames, frames[-2:0:-1]])
    h, w, c = frames.shape[1:]
    size = (w * scale, h * scale)
    pics = [Image.fromarray(f[..., 0] if c == 1 else f).resize(size, Image.Resampling.NEAREST) for f in frames]
    buf = io.BytesIO()
    pics[0].save(buf, "GIF", save_all=True, append_images=pics[1:], duration=ms_per_frame, loop=0)
    return buf.getvalue()
