// The Model card: every version served with its metrics and training data
// hash, the coefficient chart of one version, and its training report.

import { json } from "./api.js";
import { fmt, hbars, legend } from "./charts.js";
import { explainFailure, h, notice, show, table } from "./dom.js";

const metric = (s, k) => (s ? fmt(s[k], 4) : "–");
const cv = (m, k) => (m.cross_validation ? `${fmt(m.cross_validation[k].mean, 4)} ± ${fmt(m.cross_validation[k].sd, 4)}` : "–");

/** The derived features switched on, by name. */
const derived = (switches) => Object.keys(switches ?? {}).filter((k) => switches[k]).join(", ") || "none";

export async function open(model, version = model.version) {
  const body = document.getElementById("model-body");
  let info = model;
  if (version !== model.version) {
    try {
      info = await json(`/model?version=${encodeURIComponent(version)}`);
    } catch (e) {
      show(body, notice(explainFailure(e, "The model card"), true));
      return;
    }
  }
  const picker = h(
    "select",
    { id: "model-version", onchange: (e) => open(model, e.target.value) },
    model.versions.map((v) => h("option", { value: v.version, selected: v.version === version }, `${v.version} (${v.role})`)),
  );
  const v = info.versions.find((x) => x.version === version) ?? info.versions[0];
  const m = info.metrics;
  const coefficients = info.pipeline.columns
    .map((c) => ({ label: c.column, value: c.coefficient, kind: c.coefficient >= 0 ? "" : "alert" }))
    .sort((a, b) => Math.abs(b.value) - Math.abs(a.value));
  show(
    body,
    h(
      "div",
      { class: "card" },
      h("h3", {}, "Versions served"),
      table(
        "Versions served",
        ["version", "role", "source", "training data (SHA-256)", "test ROC-AUC", "test accuracy", "report"],
        info.versions.map((x) => [
          x.version,
          x.role,
          x.source,
          h("code", { title: x.training_data.sha256 }, `${x.training_data.sha256.slice(0, 12)}…`),
          metric(x.metrics.test, "roc_auc"),
          metric(x.metrics.test, "accuracy"),
          x.report ? h("a", { href: x.report }, "training report") : "none",
        ]),
        { numeric: [4, 5] },
      ),
    ),
    h(
      "div",
      { class: "card" },
      h("div", { class: "filter" }, h("div", { class: "field" }, h("label", { for: "model-version" }, "Version"), picker)),
      h("h3", {}, `${info.name} ${info.version}`),
      h(
        "p",
        {},
        `Trained on ${v.training_data.rows} rows (${v.training_data.train_rows} to fit, ${v.training_data.test_rows} held out); data SHA-256 `,
        h("code", { id: "model-sha" }, v.training_data.sha256),
        ". ",
        v.report ? h("a", { href: v.report, id: "model-report" }, "Open the training report (curves, calibration, confusion matrices)") : "No training report is bundled for this version.",
      ),
      table(
        "Metrics",
        ["rows", "n", "ROC-AUC", "accuracy", "log-loss", "Brier"],
        [
          ["train", String(m.train?.rows ?? "–"), metric(m.train, "roc_auc"), metric(m.train, "accuracy"), metric(m.train, "log_loss"), metric(m.train, "brier")],
          ["test (held out)", String(m.test?.rows ?? "–"), metric(m.test, "roc_auc"), metric(m.test, "accuracy"), metric(m.test, "log_loss"), metric(m.test, "brier")],
          m.cross_validation
            ? [`${m.cross_validation.folds}-fold CV`, "", cv(m, "roc_auc"), cv(m, "accuracy"), cv(m, "log_loss"), cv(m, "brier")]
            : null,
        ].filter(Boolean),
        { numeric: [1, 2, 3, 4, 5] },
      ),
      h(
        "p",
        { class: "hint" },
        `Configuration: C = ${info.config.pipeline.c}, class weight ${info.config.pipeline.class_weight ?? "none"}, `,
        `derived features ${derived(info.config.pipeline.derived)}, rare-label tolerance ${info.config.pipeline.rare_label_tol}, seed ${info.config.seed}.`,
      ),
    ),
    h(
      "div",
      { class: "card", id: "model-coefficients" },
      h("h3", {}, "Coefficients (on standardised columns)"),
      h(
        "p",
        { class: "hint" },
        `Intercept ${fmt(info.pipeline.intercept ?? NaN, 4)}. A positive coefficient raises the odds of survival as its column grows. `,
        "A derived column's effect is explained under the features it is computed from: ",
        info.pipeline.columns
          .filter((c) => c.features?.length > 1)
          .map((c) => `${c.column} (${c.features.join(", ")})`)
          .join("; ") || "this version has none",
        ".",
      ),
      legend([
        ["bar", "raises the odds"],
        ["down", "lowers them"],
      ]),
      hbars(coefficients, `Coefficients of ${info.name} ${info.version}, largest first`, { digits: 3 }),
    ),
  );
}
