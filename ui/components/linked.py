"""Widgets whose value is part of the view (DESIGN.md, "Streamlit habits").

Each one: is seeded from the URL on a run that reads it (ui/frame/url.py checks the URL's text
by this widget's own options and bounds, so a link cannot hand a widget or an algorithm what the
widget itself would refuse); keeps its value when the user leaves the page and comes back
(persist_state="session"); and puts its value back into the URL. Segmented controls are
required: a click on the chosen option keeps it, so the control never shows "nothing" while
the page draws something.

`where` is the container to draw in (st, a column, the sidebar); `name` is the URL key.
"""

from __future__ import annotations

import streamlit as st

from ui.frame import url

PERSIST = "session"  # Streamlit's own keeping of a widget's value across page switches


def _fits(key: str, options, default) -> None:
    """A kept or seeded value that is no longer among the options (another model, another
    dataset) gives way to the default before the widget is drawn."""
    if key in st.session_state and st.session_state[key] not in options:
        st.session_state[key] = default


def segmented(where, label: str, options, *, key: str, name: str, default, format_func=str, help=None):
    options = list(options)
    check = url.Choice(tuple(options))
    url.seed(key, name, check, default)
    _fits(key, options, default)
    if key not in st.session_state:
        st.session_state[key] = default  # (not default=: a widget given both logs a warning)
    value = where.segmented_control(
        label,
        options,
        required=True,
        format_func=format_func,
        key=key,
        help=help,
        persist_state=PERSIST,
    )
    value = default if value is None else value  # defensive: required=True never gives None
    url.put(**{name: check.text(value)})
    return value


def select(
    where, label: str, options, *, key: str, name: str, default=None, format_func=str, help=None, width="stretch"
):
    options = list(options)
    default = options[0] if default is None else default
    check = url.Choice(tuple(options))
    url.seed(key, name, check, default)
    _fits(key, options, default)
    if key not in st.session_state:
        st.session_state[key] = default  # an index computed on every run would drop the user's next pick
    value = where.selectbox(
        label, options, format_func=format_func, key=key, help=help, width=width, persist_state=PERSIST
    )
    url.put(**{name: check.text(value)})
    return value


def radio(
    where, label: str, options, *, key: str, name: str, default=None, format_func=str, horizontal=True, help=None
):
    options = list(options)
    default = options[0] if default is None else default
    check = url.Choice(tuple(options))
    url.seed(key, name, check, default)
    _fits(key, options, default)
    if key not in st.session_state:
        st.session_state[key] = default
    value = where.radio(
        label, options, format_func=format_func, horizontal=horizontal, key=key, help=help, persist_state=PERSIST
    )
    url.put(**{name: check.text(value)})
    return value


def toggle(where, label: str, *, key: str, name: str, default: bool = False, help=None) -> bool:
    check = url.Flag()
    url.seed(key, name, check, default)
    if key not in st.session_state:
        st.session_state[key] = default
    value = where.toggle(label, key=key, help=help, persist_state=PERSIST)
    url.put(**{name: check.text(value)})
    return value


def slider(where, label: str, lo, hi, default, step=None, *, key: str, name: str, help=None):
    """A number slider; an integer one when its bounds and default are integers."""
    integer = all(isinstance(v, int) for v in (lo, hi, default)) and (step is None or isinstance(step, int))
    check = url.Number(lo, hi, integer)
    url.seed(key, name, check, default)
    if key not in st.session_state:
        st.session_state[key] = default
    value = where.slider(label, lo, hi, step=step, key=key, help=help, persist_state=PERSIST)
    url.put(**{name: check.text(value)})
    return value


def number(where, label: str, lo: int, hi: int, default: int, *, key: str, name: str, help=None) -> int:
    """A whole number in [lo, hi] typed in a box."""
    check = url.Number(lo, hi, integer=True)
    url.seed(key, name, check, default)
    if key not in st.session_state or not lo <= st.session_state[key] <= hi:
        st.session_state[key] = default
    value = where.number_input(label, lo, hi, step=1, key=key, help=help, persist_state=PERSIST)
    url.put(**{name: check.text(value)})
    return int(value)


def multiselect(where, label: str, options, *, key: str, name: str, default=None, format_func=str, help=None):
    options = list(options)
    default = list(options) if default is None else list(default)
    check = url.Subset(tuple(options))
    url.seed(key, name, check, default)
    if key not in st.session_state or any(v not in options for v in st.session_state[key]):
        st.session_state[key] = default
    value = where.multiselect(label, options, format_func=format_func, key=key, help=help, persist_state=PERSIST)
    url.put(**{name: check.text(value)})
    return value


def tabs(labels: dict[str, str], *, key: str, name: str, default: str | None = None):
    """st.tabs whose open tab is part of the view. labels: {URL value: tab label}. Returns
    (the tab containers, the open tab's URL value).

    Tabs have no persist_state, so the open tab is also kept in a plain session key, which
    Streamlit does not drop when the page is left."""
    values, shown = list(labels), list(labels.values())
    default = values[0] if default is None else default
    kept, state = f"_kept_{key}", f"_tab_{key}"
    if key not in st.session_state and st.session_state.get(kept) in values:
        st.session_state[key] = labels[st.session_state[kept]]
    url.seed(state, name, url.Choice(tuple(values)), default)
    if st.session_state.get(state) in values:  # seeded from the URL: open that tab
        st.session_state[key] = labels[st.session_state.pop(state)]
    _fits(key, shown, labels[default])
    containers = st.tabs(shown, key=key, default=labels[default], on_change="rerun")
    value = values[shown.index(st.session_state.get(key) or labels[default])]
    st.session_state[kept] = value
    url.put(**{name: value})
    return containers, value
