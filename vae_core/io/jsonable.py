"""Values as strict JSON: JSON has no inf or NaN, so a figure that does not exist is null.

One rule for every JSON the engine writes (a checkpoint's metadata, a CLI's last line, a sweep
table): an autoencoder's KL or likelihood is infinite by definition and is stored as null.
"""

from __future__ import annotations

import math


def finite_or_none(v):
    """A float that is not finite becomes None; anything else is returned as it is."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def jsonable(obj):
    """Nested dicts, lists and tensors as strict JSON values: tensors to lists, inf/nan to null."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if hasattr(obj, "tolist") and not isinstance(obj, (int, float, str)):  # a tensor or an array
        return jsonable(obj.tolist())
    return finite_or_none(obj)
