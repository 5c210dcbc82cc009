"""A checkpoint holds exactly the tensors its architecture has, plus well-named extras: unknown and
missing tensors are refused alike, by name, by the loader, the header check and the registry."""

import pytest
import torch
from safetensors.torch import load_file, save

import vae_core
from vae_core.io import registry
from vae_core.io.checkpoint import read_extras
from vae_core.io.header import CheckpointError, read_header, read_meta


def with_tensors(tmp_path, tiny_model, add=None, drop=(), name="m.safetensors"):
    """A valid tiny checkpoint rewritten with tensors added and others dropped, the metadata kept."""
    good = vae_core.save_checkpoint(tiny_model(), tmp_path / "good.safetensors", {"dataset": "digits"})
    tensors = {k: v for k, v in load_file(str(good)).items() if k not in drop}
    tensors.update(add or {})
    path = tmp_path / name
    path.write_bytes(save(tensors, metadata=read_header(good)["__metadata__"]))
    return path


def refusals(path) -> list[str]:
    """The message of each way of reading the file: all must refuse it."""
    out = []
    for read in (vae_core.load_checkpoint, read_meta, read_extras):
        with pytest.raises(CheckpointError) as e:
            read(path)
        out.append(str(e.value))
    entry = registry.describe(path, "yours")
    assert not entry.ok
    return [*out, entry.error]


@pytest.mark.parametrize(
    "added",
    [
        "encoder.9.weight",  # a layer the architecture does not have
        "decoder.0.weight_orig",
        "extra.",  # the extras' prefix with no name
        "extra.a b",  # an extra name no save can write
        "extra.\u00e9t\u00e9",
        "extras.film",
        "__metadata__x",
    ],
)
def test_a_tensor_the_architecture_does_not_have_is_refused_by_name(tmp_path, tiny_model, added):
    path = with_tensors(tmp_path, tiny_model, add={added: torch.zeros(3)})
    for message in refusals(path):
        assert "unknown tensor" in message and repr(added)[1:-1][:20] in message, message
        assert "\n" not in message


def test_unknown_and_missing_tensors_are_named_together(tmp_path, tiny_model):
    path = with_tensors(tmp_path, tiny_model, add={"encoder.0.weigth": torch.zeros(16, 64)}, drop=["encoder.0.weight"])
    for message in refusals(path):
        assert "unknown tensor 'encoder.0.weigth'" in message and "missing tensor 'encoder.0.weight'" in message


def test_many_unknown_tensors_are_counted_not_all_listed(tmp_path, tiny_model):
    path = with_tensors(tmp_path, tiny_model, add={f"junk.{i:02d}": torch.zeros(1) for i in range(12)})
    message = refusals(path)[0]
    assert "junk.00" in message and "junk.04" in message and "junk.05" not in message and "and 7 more" in message


def test_well_named_extras_are_still_allowed(tmp_path, tiny_model):
    path = with_tensors(tmp_path, tiny_model, add={"extra.film_codes-2.v1": torch.arange(6).reshape(2, 3)})
    model, meta = vae_core.load_checkpoint(path)
    assert set(model.state_dict()) == set(load_file(str(path))) - {"extra.film_codes-2.v1"}
    assert read_extras(path)["film_codes-2.v1"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert registry.describe(path, "yours").ok
