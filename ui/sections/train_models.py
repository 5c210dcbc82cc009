"""The Train page's list of your own models, to rename or delete. Only files in your models folder
are offered, and the engine refuses anything else whatever the browser sends
(vae_core.io.user_models): shipped models, sweep points, links, files elsewhere."""

from __future__ import annotations

import re

import streamlit as st

from ui import settings
from ui.frame import context, probe
from ui.services import models
from vae_core.io.user_models import MAX_STEM, RULE, ModelFileError, delete_model, rename_model

ACTIVE = ("queued", "running")


def plain(text: str) -> str:
    """A file name inside Markdown, shown as typed: its Markdown characters escaped."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$])", r"\\\1", text)


def your_models(manager) -> None:
    st.subheader("Your models")
    if said := st.session_state.pop("_my_models_said", None):
        (st.error if said[0] == "error" else st.success)(said[1])
    mine = {str(e.path): e for e in models.model_entries() if e.source == "yours"}
    probe.record(your_models=sorted(e.name for e in mine.values()))
    if not mine:
        st.caption(
            f"The models you train are saved in `{settings.user_dir().name}/`; here you can rename or delete them."
        )
        return
    path = st.selectbox("Your model", list(mine), format_func=lambda p: mine[p].name, key="my_model")
    entry = mine[path]
    claimed = [j["out"] for j in manager.jobs() if j["state"] in ACTIVE]
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    c1.text_input("New name", max_chars=MAX_STEM + 20, key="my_new_name", help=f"Allowed: {RULE}.")
    c2.button("Rename", key="my_rename", on_click=rename, args=(path, claimed))
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    sure = c1.checkbox(f"Yes, delete {plain(entry.name)} for good", key=f"my_sure_{entry.name}")
    c2.button("Delete", key="my_delete", disabled=not sure, type="primary", on_click=delete, args=(path,))


# Callbacks: they run before the next run draws anything, so they may clear the name box, and
# they read the name box's state (a name typed just before the click arrives with the click).


def rename(path: str, claimed: list[str]) -> None:
    try:
        renamed = rename_model(settings.user_dir(), path, st.session_state.get("my_new_name", ""), claimed=claimed)
    except ModelFileError as e:
        st.session_state["_my_models_said"] = ("error", plain(str(e)))
        return
    if st.session_state.get("model") == path:
        context.open_model(str(renamed))  # the sidebar keeps showing the renamed model
    st.session_state["my_new_name"] = ""
    st.session_state["_my_models_said"] = ("done", f"Renamed to {plain(renamed.name)}.")


def delete(path: str) -> None:
    try:
        name = delete_model(settings.user_dir(), path)
    except ModelFileError as e:
        st.session_state["_my_models_said"] = ("error", plain(str(e)))
        return
    st.session_state["_my_models_said"] = ("done", f"Deleted {plain(name)}.")
