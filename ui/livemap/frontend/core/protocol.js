// Streamlit's components-v1 protocol, by hand (no build step, no npm library at run time):
// the iframe says componentReady, receives streamlit:render with the arguments on every rerun,
// and answers with setComponentValue (triggers a rerun) and setFrameHeight.
const listeners = [];

function post(type, data) {
  window.parent.postMessage({isStreamlitMessage: true, type, ...data}, "*");
}

export function onRender(callback) {
  listeners.push(callback);
}

export function componentReady() {
  post("streamlit:componentReady", {apiVersion: 1});
}

export function setComponentValue(value) {
  post("streamlit:setComponentValue", {value, dataType: "json"});
}

let lastHeight = -1;
export function setFrameHeight(height) {
  const h = Math.ceil(height);
  if (h !== lastHeight) {
    lastHeight = h;
    post("streamlit:setFrameHeight", {height: h});
  }
}

window.addEventListener("message", (event) => {
  const msg = event.data;
  if (msg && msg.type === "streamlit:render") {
    for (const cb of listeners) cb(msg);
  }
});
