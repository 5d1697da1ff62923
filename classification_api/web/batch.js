// The Batch view: a CSV file (picked or dropped) is sent to `/predict` in
// batches of rows, with progress; the answers make one result table,
// sortable by probability, with every refused row's errors beside its line,
// and one CSV to download (the API's CSV answer, rows numbered through the
// whole file).

import { ApiError, postCsv } from "./api.js";
import { fmt } from "./charts.js";
import { fields, quote, records } from "./csv.js";
import { explainFailure, h, notice, show } from "./dom.js";

/** Rows per request: well under MAX_BATCH and MAX_BODY_BYTES at their defaults. */
const ROWS_PER_REQUEST = 500;
/** Bytes per request, whatever the rows. */
const BYTES_PER_REQUEST = 256 * 1024;

/** Cuts the data records into batches within both limits. */
export function batches(data) {
  const out = [];
  let current = [];
  let bytes = 0;
  for (const r of data) {
    if (current.length && (current.length >= ROWS_PER_REQUEST || bytes + r.length > BYTES_PER_REQUEST)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += r.length + 1;
  }
  if (current.length) out.push(current);
  return out;
}

let last = null;

export function mount() {
  const drop = document.getElementById("drop");
  const picker = document.getElementById("batch-file");
  picker.addEventListener("change", () => picker.files[0] && score(picker.files[0]));
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    const file = e.dataTransfer?.files?.[0];
    if (file) score(file);
  });
}

export function setColumns(features) {
  document.getElementById("batch-columns").textContent = features.map((f) => f.name).join(", ");
}

async function score(file) {
  const status = document.getElementById("batch-status");
  const bar = document.getElementById("batch-progress");
  const out = document.getElementById("batch-result");
  show(out);
  const text = await file.text();
  const all = records(text);
  if (all.length < 2) {
    show(status, notice(`${file.name} has no rows under its header line.`, true));
    return;
  }
  const [header, ...data] = all;
  const parts = batches(data);
  bar.hidden = false;
  bar.max = data.length;
  bar.value = 0;
  const results = []; // per data row: {prediction, probability, id} or {errors}
  let answerHeader = null;
  let done = 0;
  let failed = null;
  for (const part of parts) {
    const offset = done;
    show(status, h("p", {}, `Scoring ${file.name}: ${done} of ${data.length} rows…`));
    try {
      const answer = await postCsv("/predict", `${header}\n${part.join("\n")}\n`, (f) => {
        bar.value = offset + f * part.length * 0.5;
      });
      const lines = records(answer).map(fields);
      answerHeader ??= lines[0];
      const col = (name) => answerHeader.indexOf(name);
      for (const l of lines.slice(1)) {
        results[offset + Number(l[col("row")])] = {
          prediction: Number(l[col("prediction")]),
          probability: Number(l[col("probability")]),
          fields: l,
        };
      }
    } catch (e) {
      if (e instanceof ApiError && e.status === 422) {
        for (const err of e.errors) {
          const row = Number.isInteger(err.row) ? offset + err.row : null;
          if (row === null) continue;
          (results[row] ??= { errors: [] }).errors ??= [];
          results[row].errors.push(err.field ? `${err.field}: ${err.message}` : err.message);
        }
      } else {
        failed = e;
        break;
      }
    }
    done += part.length;
    bar.value = done;
  }
  bar.hidden = true;
  if (failed) {
    show(status, notice(`${explainFailure(failed, "Scoring")} (${done} of ${data.length} rows were scored first.)`, true));
    if (!answerHeader) return;
  }
  const refused = results.filter((r) => r?.errors).length;
  const scored = results.filter((r) => r && !r.errors).length;
  if (!failed) {
    show(
      status,
      h(
        "p",
        { role: "status", id: "batch-summary" },
        `${file.name}: ${scored} rows scored`,
        refused ? `, ${refused} refused (their errors are beside their lines, and batches with a refused row were not scored)` : "",
        ".",
      ),
    );
  }
  const headerFields = fields(header);
  last = { file, data: data.map(fields), lines: all.lines.slice(1), headerFields, results, answerHeader };
  render(out, "desc");
}

/** The API's CSV answer for the whole file (rows numbered from 0 through it). */
export function resultCsv({ results, answerHeader }) {
  const lines = [answerHeader.map(quote).join(",")];
  const rowCol = answerHeader.indexOf("row");
  results.forEach((r, i) => {
    if (!r || r.errors) return;
    const f = [...r.fields];
    f[rowCol] = String(i);
    lines.push(f.map(quote).join(","));
  });
  return `${lines.join("\n")}\n`;
}

function render(out, order) {
  const { file, data, lines, headerFields, results, answerHeader } = last;
  const col = (name) => headerFields.findIndex((c) => c.trim().toLowerCase() === name);
  const shown = ["name", "sex", "pclass", "age"].map((n) => [n, col(n)]).filter(([, i]) => i >= 0);
  const rows = data.map((d, i) => ({ i, d, r: results[i] }));
  const key = (x) => (x.r && !x.r.errors ? x.r.probability : -1);
  if (order) rows.sort((a, b) => (order === "desc" ? key(b) - key(a) : key(a) - key(b)) || a.i - b.i);
  const download = answerHeader
    ? (() => {
        const url = URL.createObjectURL(new Blob([resultCsv(last)], { type: "text/csv" }));
        const name = file.name.replace(/\.csv$/i, "") + "_predictions.csv";
        return h("a", { class: "button", href: url, download: name, id: "batch-download" }, `Download the results (${name})`);
      })()
    : null;
  const sortButton = h(
    "button",
    {
      type: "button",
      class: "sort",
      onclick: () => render(out, order === "desc" ? "asc" : "desc"),
    },
    `probability ${order === "desc" ? "▼" : "▲"}`,
  );
  show(
    out,
    h("div", { class: "actions" }, download),
    h(
      "div",
      { class: "table-wrap card" },
      h(
        "table",
        { id: "batch-table" },
        h("caption", { class: "visually-hidden" }, "Results per line of the file"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col", class: "num" }, "line"),
            shown.map(([n]) => h("th", { scope: "col" }, n)),
            h("th", { scope: "col", class: "num", "aria-sort": order === "desc" ? "descending" : "ascending" }, sortButton),
            h("th", { scope: "col" }, "prediction / errors"),
          ),
        ),
        h(
          "tbody",
          {},
          rows.map(({ i, d, r }) =>
            h(
              "tr",
              { class: r?.errors ? "bad" : undefined },
              h("td", { class: "num" }, String(lines[i])),
              shown.map(([, c]) => h("td", {}, d[c] ?? "")),
              h("td", { class: "num" }, r && !r.errors ? fmt(r.probability, 4) : "–"),
              r?.errors
                ? h("td", { class: "errors" }, r.errors.join("; "))
                : h("td", {}, r ? (r.prediction === 1 ? "survived" : "did not survive") : "not scored"),
            ),
          ),
        ),
      ),
    ),
  );
}
