// The app's entry: reads what the API says of itself (`/model`, `/openapi.json`,
// `/health`), mounts the views, switches between them by the URL's hash, and
// asks for an access key when an answer says one is needed.

import { json, key, onLocked, setKey } from "./api.js";
import * as batch from "./batch.js";
import { explainFailure, notice, show } from "./dom.js";
import * as history from "./history.js";
import * as modelCard from "./model.js";
import * as monitor from "./monitor.js";
import * as predict from "./predict.js";

const VIEWS = ["predict", "batch", "history", "monitor", "model"];
let model = null;

function current() {
  const name = location.hash.slice(1);
  return VIEWS.includes(name) ? name : "predict";
}

function route(focus) {
  const name = current();
  for (const v of VIEWS) document.getElementById(`view-${v}`).hidden = v !== name;
  for (const a of document.querySelectorAll("nav a")) {
    if (a.dataset.view === name) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.title = `${document.querySelector(`#view-${name} h2`).textContent} · Titanic survival model`;
  if (name === "history") history.open();
  if (name === "monitor") monitor.open();
  if (name === "model") modelCard.open(model);
  if (focus) document.getElementById(`h-${name}`).focus();
}

function keyForm() {
  const form = document.getElementById("key-form");
  const input = document.getElementById("key-input");
  form.hidden = !key();
  onLocked(() => {
    form.hidden = false;
    if (document.activeElement !== input) input.focus();
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    setKey(input.value.trim());
    input.value = "";
    input.placeholder = key() ? "a key is set for this tab" : "";
    route(false);
  });
  document.getElementById("key-forget").addEventListener("click", () => {
    setKey("");
    input.placeholder = "";
    route(false);
  });
  if (key()) input.placeholder = "a key is set for this tab";
}

async function start() {
  keyForm();
  for (const v of VIEWS) document.getElementById(`h-${v}`).setAttribute("tabindex", "-1");
  try {
    const [m, spec, health] = await Promise.all([json("/model"), json("/openapi.json"), json("/health")]);
    model = m;
    document.getElementById("serving").textContent =
      `${health.name}: model ${m.name} ${m.version}` + (m.versions.length > 1 ? ` (${m.versions.length} versions served)` : "");
    predict.mount(m, spec);
    batch.mount();
    batch.setColumns(m.features);
    history.mount(m);
    monitor.mount(m);
  } catch (e) {
    show(document.getElementById("main"), notice(explainFailure(e, "Loading the model's description"), true));
    return;
  }
  window.addEventListener("hashchange", () => route(true));
  route(false);
  document.body.dataset.ready = "true";
}

start();
