"""Train: retrain a model from the browser. The job runs in the background; this page polls it."""

import time
import uuid

import numpy as np
import pandas as pd
import streamlit as st

import vae_core
from ui import figures, state
from vae_core.data import DATASETS, is_available
from vae_core.models import ModelConfig
from vae_core.registry import KIND_NAMES
from vae_core.train import RECIPE as RECIPE_DEFAULTS
from vae_core.train import TrainConfig

st.title("Train a model")
st.caption(
    "Training runs in the background: leave this page, come back, or refresh — the job goes on. "
    f"Models are saved in `{state.user_dir().name}/` and appear in the model picker."
)
manager = state.job_manager()
RECIPE = RECIPE_DEFAULTS
QUICK_EPOCHS = 60  # the shipped recipe runs 150; 60 finishes in well under a minute within a few nats of it

with st.form("train_form"):
    c1, c2, c3 = st.columns(3)
    kind = c1.selectbox("Kind", list(KIND_NAMES), format_func=KIND_NAMES.get, key="tr_kind")
    latent_dim = c2.number_input("Latent size", value=16, step=1, key="tr_d")
    beta = c3.number_input("β (KL weight)", value=1.0, step=0.5, key="tr_beta", disabled=False)
    c1, c2, c3 = st.columns(3)
    epochs = c1.number_input(
        "Epochs", value=QUICK_EPOCHS, step=1, key="tr_epochs", help=f"The shipped models ran {RECIPE['epochs']} epochs."
    )
    names = [n for n in DATASETS if is_available(n, state.DATA_ROOT)]
    dataset = c2.selectbox("Dataset", names, key="tr_data")
    seed = c3.number_input("Seed", value=0, step=1, key="tr_seed")
    with st.expander("Advanced"):
        a1, a2, a3 = st.columns(3)
        lr = a1.number_input("Learning rate", value=RECIPE["lr"], format="%.4f", step=1e-4, key="tr_lr")
        shift = a2.number_input("Random shift (px)", value=RECIPE["augment_shift"], step=1, key="tr_shift")
        bf16 = a3.checkbox(
            "Mixed precision (bf16)",
            key="tr_bf16",
            help="About 1.3x faster on CPUs with bfloat16 support, same quality in our tests.",
        )
    submitted = st.form_submit_button("Start training", type="primary")

missing = [n for n in DATASETS if n not in names]
if missing:
    st.caption(
        f"Not available offline here: {', '.join(missing)}. Start the app with VAE_EXPLORER_DATA_ROOT set to a "
        "torchvision root holding their IDX files (MNIST/raw, FashionMNIST/raw) to train on them."
    )

if submitted:
    try:
        shape = vae_core.load_dataset(dataset, "val", state.DATA_ROOT).image_shape
        mcfg = ModelConfig(
            kind=kind, latent_dim=int(latent_dim), beta=float(beta), image_shape=shape, hidden=RECIPE["hidden"]
        )
        tcfg = TrainConfig(
            epochs=int(epochs),
            lr=float(lr),
            seed=int(seed),
            augment_shift=int(shift),
            batch_size=RECIPE["batch_size"],
            precision="bf16" if bf16 else "fp32",
        )
        stamp = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:4]}"  # unique across sessions
        out = state.user_dir() / f"{kind}-z{int(latent_dim)}-{dataset}-{stamp}.safetensors"
        job = manager.submit(mcfg, tcfg, dataset, out, state.DATA_ROOT)
        st.session_state["job_id"] = job.id
    except (ValueError, RuntimeError) as e:
        st.error(str(e))


@st.fragment(run_every=1.0)
def show_job():
    jobs = manager.jobs()
    job_id = st.session_state.get("job_id") or next(
        (j["id"] for j in jobs if j["state"] in ("queued", "running")), None
    )
    job = manager.snapshot(job_id) if job_id else None
    if job is None:
        st.info("No training job yet. Choose settings above and press **Start training**.")
        return
    name = f"{KIND_NAMES[job['kind']]}, z = {job['latent_dim']} on {job['dataset']}"
    frac = job["step"] / job["total_steps"] if job["total_steps"] else 0.0
    st.progress(
        min(frac, 1.0), text=f"Job {job['id']} · {name} · epoch {job['epoch']}/{job['epochs']} · {job['state']}"
    )
    show = {"done": st.success, "failed": st.error, "cancelled": st.warning}.get(job["state"], st.caption)
    show(job["message"])
    if job["state"] in ("queued", "running") and st.button("Cancel", key=f"cancel_{job['id']}"):
        manager.cancel(job["id"])
    if job["history"]:
        c1, c2 = st.columns([3, 2])
        c1.plotly_chart(figures.loss_curves(job["history"]), key="tr_curves")
        if job["codes"]:
            codes = np.asarray(job["codes"])
            xy = codes[:, :2] if codes.shape[1] > 2 else np.c_[codes[:, 0], np.zeros(len(codes))]
            fig = figures.latent_scatter(
                xy,
                codes[:, -1].astype(int),
                [str(i) for i in range(10)],
                height=320,
                axis_labels=("z1", "z2"),
                marker_size=4,
            )
            fig.update_layout(showlegend=False, title="latent means (z1, z2), refreshed each epoch")
            c2.plotly_chart(fig, key="tr_map")
    if len(jobs) > 1:
        with st.expander(f"All jobs on this server ({len(jobs)})"):
            st.dataframe(
                pd.DataFrame(
                    [{k: j[k] for k in ("id", "state", "kind", "latent_dim", "dataset", "message")} for j in jobs]
                ).set_index("id")
            )


show_job()
