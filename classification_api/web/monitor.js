// The Monitor view: `/monitoring` for one version as charts: records over
// time with the positive rate, the probability histogram, drift per
// feature (PSI) against its thresholds, live metrics from feedback against
// the training figures, and agreement with a shadow version.

import { json } from "./api.js";
import { columns, fmt, hbars, legend, percent } from "./charts.js";
import { explainFailure, h, notice, show, table } from "./dom.js";

/** PSI above which a feature is worth watching (the alert level comes from the report). */
const PSI_WATCH = 0.1;

let defaultVersion = "";

export function mount(model) {
  defaultVersion = model.version;
  const select = document.getElementById("mf-version");
  for (const v of model.versions) {
    select.append(h("option", { value: v.version, selected: v.version === model.version }, `${v.version} (${v.role})`));
  }
  document.getElementById("monitor-form").addEventListener("submit", (e) => {
    e.preventDefault();
    open();
  });
}

export async function open() {
  const body = document.getElementById("monitor-body");
  const version = document.getElementById("mf-version").value || defaultVersion;
  let r;
  try {
    r = await json(`/monitoring?version=${encodeURIComponent(version)}`);
  } catch (e) {
    show(body, notice(explainFailure(e, "Monitoring"), true));
    return;
  }
  show(body, render(r));
}

/** Every bucket from the first to the last, the empty ones too (the API sends only those with records). */
export function timeline({ bucket_seconds: width, buckets }) {
  if (!buckets.length) return [];
  const at = new Map(buckets.map((b) => [Date.parse(b.from), b]));
  const first = Date.parse(buckets[0].from);
  const last = Date.parse(buckets.at(-1).from);
  const step = Math.max(1, width) * 1000;
  const out = [];
  for (let t = first; t <= last && out.length < 1000; t += step) {
    const b = at.get(t);
    const iso = new Date(t).toISOString();
    const short = width >= 86400 ? iso.slice(5, 10) : width >= 60 ? iso.slice(11, 16) : iso.slice(11, 19);
    out.push({ label: iso.replace("T", " ").slice(0, 19), short, value: b ? b.count : 0, rate: b ? b.positive_rate : null });
  }
  return out;
}

function figure(id, label, value, data) {
  return h("li", {}, h("span", { class: "hint" }, label), h("span", { class: "value", id, "data-value": data ?? "" }, value));
}

export function render(r) {
  const live = r.live;
  const test = r.training_test;
  const out = [
    h(
      "ul",
      { class: "figures" },
      figure("monitor-count", "records served", String(r.count), r.count),
      figure("monitor-positive-rate", "predicted to survive", percent(r.positive_rate), r.positive_rate),
      figure("monitor-feedback-rows", "records with feedback", String(live ? live.rows : 0), live ? live.rows : 0),
      figure("monitor-live-accuracy", "live accuracy", live ? percent(live.accuracy) : "no feedback yet", live?.accuracy),
      figure("monitor-live-auc", "live ROC-AUC", live?.roc_auc != null ? fmt(live.roc_auc) : "needs both outcomes", live?.roc_auc),
    ),
  ];
  if (r.count === 0) {
    out.push(notice(`Version ${r.version} has served nothing yet: predictions appear here as they are made.`));
    return out;
  }
  const width = r.timeline.bucket_seconds;
  const unit = width >= 86400 ? `${width / 86400} day` : width >= 3600 ? `${width / 3600} h` : width >= 60 ? `${width / 60} min` : `${width} s`;
  const slots = timeline(r.timeline);
  const psiRows = r.drift.map((d) => ({
    label: d.feature,
    value: d.psi,
    kind: d.psi > r.psi_alert ? "alert" : d.psi > PSI_WATCH ? "watch" : "",
  }));
  const drifted = r.drift.filter((d) => d.drifted).map((d) => d.feature);
  const metrics = [
    ["accuracy", live?.accuracy, test?.accuracy],
    ["ROC-AUC", live?.roc_auc, test?.roc_auc],
    ["log-loss", live?.log_loss, test?.log_loss],
    ["Brier", live?.brier, test?.brier],
  ];
  out.push(
    h(
      "div",
      { class: "grid2" },
      h(
        "div",
        { class: "card" },
        h("h3", {}, `Predictions over time (per ${unit})`),
        legend([
          ["bar", "records"],
          ["line", "share predicted to survive"],
        ]),
        columns(slots, `Records per ${unit}, with the share predicted to survive`, {
          line: slots.map((b) => b.rate),
          lineLabel: "predicted to survive",
        }),
      ),
      h(
        "div",
        { class: "card" },
        h("h3", {}, "Probability of survival served"),
        columns(
          r.probability_histogram.map((b) => ({ label: `${fmt(b.from, 1)}–${fmt(b.to, 1)}`, short: fmt(b.from, 1), value: b.count })),
          "Records per probability bin of width 0.1",
        ),
      ),
      h(
        "div",
        { class: "card", id: "monitor-drift" },
        h("h3", {}, "Drift per feature (PSI against the training data)"),
        h(
          "p",
          { class: "hint" },
          drifted.length ? `Drifted (PSI over ${r.psi_alert}): ${drifted.join(", ")}.` : `No feature is over the alert level ${r.psi_alert}.`,
          ` Under ${PSI_WATCH}: stable; ${PSI_WATCH}–${r.psi_alert}: worth watching; over ${r.psi_alert}: drifted.`,
        ),
        hbars(psiRows, "Population stability index per feature", {
          thresholds: [
            { value: PSI_WATCH, label: String(PSI_WATCH), kind: "watch" },
            { value: r.psi_alert, label: String(r.psi_alert), kind: "" },
          ],
        }),
      ),
      h(
        "div",
        { class: "card", id: "monitor-live" },
        h("h3", {}, "Live metrics against training"),
        live
          ? h("p", { class: "hint" }, `From ${live.rows} ${live.rows === 1 ? "record" : "records"} with feedback; training figures are on the ${test?.rows ?? "?"} held-out rows.`)
          : notice("No feedback yet: give outcomes in History to see live accuracy."),
        table(
          "Live and training metrics",
          ["metric", "live", "training (held-out)"],
          metrics.map(([m, l, t]) => [m, l == null ? "–" : fmt(l), t == null ? "–" : fmt(t)]),
          { numeric: [1, 2] },
        ),
        legend([
          ["bar", "live"],
          ["alt", "training"],
        ]),
        hbars(
          metrics.slice(0, 2).flatMap(([m, l, t]) => [
            { label: `${m}, live`, value: l },
            { label: `${m}, training`, value: t, kind: "alt" },
          ]),
          "Live accuracy and ROC-AUC against the training figures",
          { min: 0 },
        ),
      ),
    ),
  );
  if (r.shadow.length) {
    out.push(
      h(
        "div",
        { class: "card", id: "monitor-shadow" },
        h("h3", {}, "Shadow versions"),
        table(
          "Agreement with shadow versions",
          ["version", "records compared", "same prediction", "mean |Δp|", "max |Δp|"],
          r.shadow.map((s) => [s.version, String(s.records), percent(s.agreement), fmt(s.mean_abs_difference, 4), fmt(s.max_abs_difference, 4)]),
          { numeric: [1, 2, 3, 4] },
        ),
      ),
    );
  }
  return out;
}
