// The History view: `/history` as a filterable, paginated table; each row
// takes "survived: yes / no" feedback (`POST /feedback`) and opens to its
// inputs and explanation (`GET /history/{id}`).

import { json } from "./api.js";
import { fmt } from "./charts.js";
import { explainFailure, h, notice, show } from "./dom.js";
import { explained } from "./predict.js";

const PAGE = 20;

let features = [];
let cursors = [null]; // the cursor of each page seen; the last is the current page's
let filter = new URLSearchParams();

export function mount(model) {
  features = model.features;
  const versions = document.getElementById("hf-version");
  for (const v of model.versions) versions.append(h("option", { value: v.version }, v.version));
  document.getElementById("history-filter").addEventListener("submit", (e) => {
    e.preventDefault();
    filter = new URLSearchParams();
    const time = (id) => {
      const v = document.getElementById(id).value;
      return v ? new Date(v).toISOString() : "";
    };
    const put = (k, v) => v && filter.set(k, v);
    put("since", time("hf-since"));
    put("until", time("hf-until"));
    put("version", document.getElementById("hf-version").value);
    put("prediction", document.getElementById("hf-prediction").value);
    put("has_feedback", document.getElementById("hf-feedback").value);
    cursors = [null];
    load();
  });
}

export function open() {
  load();
}

async function load() {
  const body = document.getElementById("history-body");
  const query = new URLSearchParams(filter);
  query.set("limit", String(PAGE));
  const cursor = cursors[cursors.length - 1];
  if (cursor) query.set("cursor", cursor);
  let page;
  try {
    page = await json(`/history?${query}`);
  } catch (e) {
    show(body, notice(explainFailure(e, "The history"), true));
    return;
  }
  const pageNo = cursors.length;
  const pager = h(
    "div",
    { class: "pager" },
    h("button", { type: "button", class: "secondary", disabled: pageNo === 1, onclick: () => (cursors.pop(), load()) }, "Newer"),
    h("span", {}, `Page ${pageNo}`),
    h(
      "button",
      { type: "button", class: "secondary", disabled: !page.next_cursor, onclick: () => (cursors.push(page.next_cursor), load()) },
      "Older",
    ),
  );
  if (page.items.length === 0) {
    show(body, notice("No prediction matches: predict something, or widen the filter."), pager);
    return;
  }
  const tbody = h("tbody");
  for (const item of page.items) row(tbody, item);
  show(
    body,
    h(
      "div",
      { class: "table-wrap card" },
      h(
        "table",
        { id: "history-table" },
        h("caption", { class: "visually-hidden" }, "Stored predictions, newest first"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["time (UTC)", "version", "sex", "pclass", "age", "probability", "prediction", "survived?", ""].map((c, i) =>
              h("th", { scope: "col", class: i === 5 ? "num" : undefined }, c),
            ),
          ),
        ),
        tbody,
      ),
    ),
    pager,
  );
}

function row(tbody, item) {
  const inputs = item.inputs;
  const detailsRow = h("tr", { hidden: true, class: "details" });
  const detailsCell = h("td", { colspan: 9 });
  detailsRow.append(detailsCell);
  const toggle = h("button", { type: "button", class: "small secondary", "aria-expanded": "false" }, "Details");
  toggle.addEventListener("click", async () => {
    const opening = detailsRow.hidden;
    detailsRow.hidden = !opening;
    toggle.setAttribute("aria-expanded", String(opening));
    if (opening && !detailsCell.hasChildNodes()) await details(detailsCell, item.id);
  });
  const tr = h(
    "tr",
    { "data-id": item.id },
    h("td", {}, item.time.replace("T", " ").slice(0, 19)),
    h("td", {}, item.version),
    h("td", {}, inputs.sex ?? "–"),
    h("td", {}, inputs.pclass ?? "–"),
    h("td", {}, inputs.age ?? "–"),
    h("td", { class: "num" }, fmt(item.probability, 4)),
    h("td", {}, item.prediction === 1 ? "survived" : "did not survive"),
    h("td", {}, feedback(item)),
    h("td", {}, toggle),
  );
  tbody.append(tr, detailsRow);
}

/** The "survived: yes / no" control: once given, an outcome is fixed (the API refuses a change). */
function feedback(item) {
  const group = h("div", { role: "group", "aria-label": "Did this passenger survive?", class: "actions", "data-feedback": item.id });
  const status = h("span", { class: "hint", role: "status" });
  const buttons = [1, 0].map((value) =>
    h(
      "button",
      {
        type: "button",
        class: "small secondary",
        "aria-pressed": String(item.survived === value),
        disabled: item.survived !== null && item.survived !== undefined,
        "data-survived": value,
        onclick: async () => {
          buttons.forEach((b) => (b.disabled = true));
          try {
            await json("/feedback", { method: "POST", body: { feedback: [{ id: item.id, survived: value }] } });
            item.survived = value;
            buttons.forEach((b) => b.setAttribute("aria-pressed", String(Number(b.dataset.survived) === value)));
            status.textContent = "saved";
          } catch (e) {
            buttons.forEach((b) => (b.disabled = false));
            status.textContent = explainFailure(e, "Feedback");
          }
        },
      },
      value === 1 ? "yes" : "no",
    ),
  );
  group.append(...buttons, status);
  return group;
}

async function details(cell, id) {
  show(cell, h("p", { class: "muted" }, "Loading…"));
  try {
    const item = await json(`/history/${encodeURIComponent(id)}`);
    const dl = h(
      "dl",
      { class: "inputs" },
      Object.entries(item.inputs).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v === null ? "missing" : String(v))]),
    );
    show(
      cell,
      h("p", { class: "hint" }, `Record ${item.id}, request ${item.request_id}`),
      h("div", { class: "columns" }, h("div", {}, h("h3", {}, "Inputs"), dl), h("div", {}, item.explanation
        ? explained(item.probability, item.prediction, item.explanation, features, item.inputs)
        : notice(`Version ${item.version} is no longer served, so this record cannot be explained.`))),
    );
  } catch (e) {
    show(cell, notice(explainFailure(e, "This record"), true));
  }
}
