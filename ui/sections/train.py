"""The Train page's view of the server's jobs: every session sees all of them (queued, running,
done, failed, cancelled, with their models); only the browser that started a job may cancel it,
also after a refresh (its owner is the browser's id, ui/frame/browser.py, not the websocket
session), and a refreshed form shows what that browser last submitted. While a job is queued or
running, drawn in a fragment that polls the job manager once a second; otherwise drawn once per
run (a job another browser starts then shows at this page's next run)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from ui import settings
from ui.components import film
from ui.frame import browser, context, probe
from ui.render import figures
from ui.services import data
from vae_core.data import catalog
from vae_core.io.registry import KIND_NAMES

FOLLOW = "follow"


STATES = {  # what each state means, in words: shown whole, never cut to fit a column
    "queued": "queued (waits for the job ahead)",
    "running": "running",
    "done": "done (saved)",
    "failed": "failed (nothing saved)",
    "cancelled": "cancelled (nothing saved)",
}
FORM = (
    "tr_kind",
    "tr_d",
    "tr_beta",
    "tr_epochs",
    "tr_data",
    "tr_seed",
    "tr_lr",
    "tr_shift",
    "tr_device",
    "tr_precision",
)


CONV_HIDDEN = (256, 256)  # the β-VAE paper's fully connected layers after its convolutions (scripts/train_shapes.sh)


def folder_form(dataset: str, size, colour) -> dict:
    """load_dataset's image_size and channels for an allow-listed image folder ("auto": from the
    images); {} for a named dataset. A folder outside the root is refused (ValueError)."""
    if not dataset.startswith(catalog.FOLDER_PREFIX):
        return {}
    if settings.allowed_folder(dataset[len(catalog.FOLDER_PREFIX) :]) is None:
        raise ValueError(f"{catalog.title(dataset)} is not an image folder under VAE_EXPLORER_DATA_ROOT.")
    return {"image_size": None if size == "auto" else int(size), "channels": None if colour == "auto" else int(colour)}


def network(arch: str, image_shape: tuple) -> dict:
    """ModelConfig's architecture fields: "auto" is the MLP for 28×28 grey images (the recipe the
    shipped models use), the convolutional network for colour and other sizes."""
    if arch == "auto":
        arch = "mlp" if tuple(image_shape) == (1, 28, 28) else "conv"
    return {"arch": arch, "hidden": CONV_HIDDEN} if arch == "conv" else {"arch": arch}


def file_word(dataset: str) -> str:
    """The dataset in a model file's name: its name, a folder by its own name in safe characters."""
    if not dataset.startswith(catalog.FOLDER_PREFIX):
        return dataset
    return data.slug(catalog.title(dataset)) or "images"


def film_data(job: dict) -> str | None:
    """The app's name for the data of a job's film: a named dataset as it is, an image folder at
    its model's form while it is still allow-listed (settings.allowed_folder), else None."""
    if not job["dataset"].startswith(catalog.FOLDER_PREFIX):
        return job["dataset"]
    return data.folder_key(job["dataset"], job["image_shape"])


def owner() -> str:
    """This browser's opaque id: the jobs it starts are its own to cancel, across refreshes."""
    return browser.identity()


def restore_form(manager, choices: dict[str, list]) -> None:
    """On a session's first visit (a refresh, a new tab of this browser): the form shows the
    recipe of this browser's newest job, where it still fits the form's choices and bounds."""
    if st.session_state.get("_tr_form_seen"):
        return
    st.session_state["_tr_form_seen"] = True
    mine = [j for j in manager.jobs(viewer=owner()) if j["own"]]
    if not mine:
        return
    job, recipe = mine[0], mine[0]["recipe"]
    values = {
        "tr_kind": job["kind"],
        "tr_d": job["latent_dim"],
        "tr_beta": float(job["beta"]),
        "tr_epochs": recipe["epochs"],
        "tr_data": job["dataset"],
        "tr_seed": recipe["seed"],
        "tr_lr": float(recipe["lr"]),
        "tr_shift": recipe["augment_shift"],
        "tr_device": recipe["device"],
        "tr_precision": recipe["precision"],
    }
    for key, value in values.items():
        if key not in choices or value in choices[key]:
            st.session_state[key] = value


def duration(seconds) -> str:
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def name(job: dict) -> str:
    return f"{KIND_NAMES.get(job['kind'], job['kind'])}, z = {job['latent_dim']} on {job['dataset']}"


def file_cell(job: dict) -> str:
    """The file a job wrote; the one it will write while it runs; none for a job that wrote nothing."""
    if job["saved"]:
        return Path(job["saved"]).name
    if job["state"] in ("queued", "running"):
        return f"{Path(job['out']).name} (when done)"
    return "—"


def table(jobs: list[dict]) -> None:
    rows = [
        {
            "job": j["id"],  # what a narrow page must show first comes first; the long file name last
            "state": STATES.get(j["state"], j["state"]),
            "yours": "yes" if j["own"] else "",
            "progress": j["step"] / j["total_steps"] if j["total_steps"] else 0.0,
            "model": name(j),
            "elapsed": duration(j["elapsed_s"]),
            "ETA": duration(j["eta_s"]) if j["state"] == "running" else "—",
            "samples/s": round(j["samples_per_s"] or 0),
            "file": file_cell(j),
        }
        for j in jobs
    ]
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        column_config={
            "state": st.column_config.TextColumn("state", width="medium"),
            "progress": st.column_config.ProgressColumn("progress", min_value=0.0, max_value=1.0),
        },
    )


def default_job(jobs: list[dict]) -> int:
    """This session's newest job, else the newest running one, else the newest."""
    for pick in (lambda j: j["own"], lambda j: j["state"] == "running", lambda j: True):
        found = [j["id"] for j in jobs if pick(j)]
        if found:
            return found[0]
    return jobs[0]["id"]


def detail(manager, job: dict) -> None:
    frac = job["step"] / job["total_steps"] if job["total_steps"] else 0.0
    timing = f"elapsed {duration(job['elapsed_s'])}"
    if job["state"] == "running":
        timing += f" · about {duration(job['eta_s'])} left · {job['samples_per_s'] or 0:,.0f} samples/s"
    state = STATES.get(job["state"], job["state"])
    st.markdown(f"**Job {job['id']}: {state}** · {name(job)}")
    st.progress(min(frac, 1.0), text=f"epoch {job['epoch']}/{job['epochs']} · {timing}")
    show = {"done": st.success, "failed": st.error, "cancelled": st.warning}.get(job["state"], st.caption)
    show(job["message"])
    if job["state"] in ("queued", "running"):
        if job["own"]:
            if st.button("Cancel", key=f"cancel_{job['id']}"):
                manager.cancel(job["id"], owner())
        else:
            st.caption("Started in another browser: you can watch it, not cancel it.")
    if job["state"] == "done" and job["saved"] and st.button("Open it on the Latent map", key=f"open_{job['id']}"):
        context.open_model(job["saved"])
        st.switch_page("views/latent_map.py")
    if job["history"]:
        c1, c2 = st.columns([2, 3])
        c1.plotly_chart(figures.loss_curves(job["history"]), key="tr_curves")
        with c2:
            codes = job["film_codes"]
            shown = film_data(job)
            if codes is not None and shown is None:
                st.caption(f"No film: {catalog.title(job['dataset'])} is no longer an image folder this app may read.")
            elif codes is not None:
                film_key = f"job{job['id']}:{len(job['film_epochs'])}"
                stem = Path(job["saved"] or job["out"]).stem
                epochs, history = job["film_epochs"], job["history"]
                download = "later" if job["state"] in ("queued", "running") else "cached"
                film.show(
                    film_key,
                    shown,
                    codes.float().numpy(),
                    epochs,
                    history,
                    "tr_film",
                    name=stem,
                    download=download,
                )
                n = codes.shape[1]
                st.caption(
                    f"The latent codes of {n:,} validation images, epoch by epoch: press ▶ or drag the scrubber."
                )


LIVE = ("queued", "running")  # states a job view follows second by second


def jobs_view(manager) -> None:
    """The server's jobs: redrawn every second while one is queued or running (its progress, its
    film growing), drawn once otherwise. A list redrawn every second for nothing closed any
    drop-down a user had open on the page within a second (seen in Chromium: "Your model")."""
    jobs = manager.jobs(viewer=owner())
    st.session_state["_tr_saved_seen"] = _saved(jobs)  # a whole run lists every saved model itself
    if any(j["state"] in LIVE for j in jobs):
        _live_jobs(manager)
    else:
        _jobs(manager, jobs)


def _saved(jobs: list[dict]) -> set[int]:
    return {j["id"] for j in jobs if j["saved"]}


@st.fragment(run_every=1.0)
def _live_jobs(manager) -> None:
    jobs = manager.jobs(viewer=owner())
    if not any(j["state"] in LIVE for j in jobs) or _saved(jobs) - st.session_state["_tr_saved_seen"]:
        # the last job has ended, or a model was just written: the whole page runs once more, so
        # the model picker and "Your models" list it (a fragment cannot redraw them) and the jobs
        # are drawn still — one rerun, not one for each reason
        st.rerun()
    _jobs(manager, jobs)


def _jobs(manager, jobs: list[dict]) -> None:
    probe.record(jobs_seen=[(j["id"], j["state"], j["own"]) for j in jobs])
    if not jobs:
        st.info("No training job on this server yet. Choose settings above and press **Start training**.")
        return
    st.subheader(f"Jobs on this server ({len(jobs)})")
    table(jobs)
    by_id = {j["id"]: j for j in jobs}
    if st.session_state.pop("job_id", None) in by_id:  # a job this session just started: follow it
        st.session_state["tr_job"] = FOLLOW
    # The options are "follow" and job ids, with labels that never change (a job's state is not in
    # them): a list that changed under the widget would otherwise race the user's choice.
    pick = st.selectbox(
        "Show job",
        [FOLLOW, *by_id],
        format_func=lambda i: "the newest (yours, else a running one)" if i == FOLLOW else f"job {i}: {name(by_id[i])}",
        key="tr_job",
    )
    pick = default_job(jobs) if pick not in by_id else pick
    detail(manager, by_id[pick])
