// The Predict view: a form built from `/model`'s field table, the answer
// of `POST /predict?explain=true` as a gauge, and its explanation as a
// waterfall with a one-line reading.

import { ApiError, json } from "./api.js";
import { fmt, gauge, legend, percent, sigmoid, signed, waterfall } from "./charts.js";
import { explainFailure, h, notice, show } from "./dom.js";

/** The form's controls, from the field table (`features` of `/model`). */
export function buildForm(container, features) {
  show(
    container,
    features.map((f) => {
      const id = `f-${f.name}`;
      const hintId = `${id}-hint`;
      const errorId = `${id}-error`;
      const range =
        f.minimum !== null && f.maximum !== null
          ? `${fmt(f.minimum, 0)} to ${fmt(f.maximum, 0)}`
          : f.minimum !== null
            ? `${fmt(f.minimum, 0)} or more`
            : null;
      const hint = [f.description, !f.allowed_values && range, f.required ? null : "optional"].filter(Boolean).join("; ");
      const attrs = { id, name: f.name, "aria-describedby": `${hintId} ${errorId}`, required: f.required };
      const control = f.allowed_values
        ? h(
            "select",
            attrs,
            h("option", { value: "" }, f.required ? "Choose…" : "(missing)"),
            f.allowed_values.map((v) => h("option", { value: String(v) }, String(v))),
          )
        : h("input", {
            ...attrs,
            type: "text",
            inputmode: f.type === "string" ? undefined : f.type === "integer" ? "numeric" : "decimal",
            autocomplete: "off",
          });
      return h(
        "div",
        { class: "field" },
        h("label", { for: id }, f.name, f.required ? h("span", { class: "required", "aria-hidden": "true" }, " *") : null),
        control,
        h("p", { class: "hint", id: hintId }, hint),
        h("p", { class: "field-error", id: errorId, hidden: true }),
      );
    }),
  );
}

/** The record the form holds: every filled control, as the text typed (the server reads it). */
export function record(form, features) {
  const out = {};
  for (const f of features) {
    const value = form.elements[f.name].value.trim();
    if (value !== "") out[f.name] = value;
  }
  return out;
}

/** Puts each server error beside its field; the rest above the buttons. */
export function showErrors(form, features, errors, formError) {
  const names = new Set(features.map((f) => f.name));
  for (const f of features) {
    const control = form.elements[f.name];
    control.removeAttribute("aria-invalid");
    const slot = form.querySelector(`#f-${f.name}-error`);
    slot.hidden = true;
    slot.textContent = "";
  }
  const rest = [];
  let first = null;
  for (const e of errors) {
    if (e.field && names.has(e.field)) {
      const control = form.elements[e.field];
      control.setAttribute("aria-invalid", "true");
      const slot = form.querySelector(`#f-${e.field}-error`);
      slot.textContent = slot.textContent ? `${slot.textContent}; ${e.message}` : e.message;
      slot.hidden = false;
      first ??= control;
    } else {
      rest.push(e.field ? `${e.field}: ${e.message}` : e.message);
    }
  }
  formError.hidden = rest.length === 0;
  formError.textContent = rest.join(" · ");
  first?.focus();
}

/** The reading of an explanation's largest effects, in words. */
export function reading(steps) {
  const up = steps.filter((s) => s.value > 0).sort((a, b) => b.value - a.value)[0];
  const down = steps.filter((s) => s.value < 0).sort((a, b) => a.value - b.value)[0];
  const parts = [];
  if (up) parts.push(`${up.label} raised the chance of survival the most (${signed(up.value)} log-odds)`);
  if (down) parts.push(`${down.label} lowered it the most (${signed(down.value)})`);
  return parts.length ? `${parts.join("; ")}.` : "No feature moved the prediction away from the baseline.";
}

/** The steps of an explanation, largest first, labelled with the values that caused them. */
export function steps(explanation, features, inputs) {
  return Object.entries(explanation.contributions)
    .map(([feature, value]) => {
      const field = features.find((f) => f.explained_as === feature || f.name === feature);
      const given = field ? inputs[field.name] : undefined;
      const shown = given === undefined || given === null || given === "" ? "missing" : String(given);
      // a feature derived from a field (the title from the name) is named by both
      const label =
        field && field.name !== feature
          ? `${feature} from ${field.name}${shown === "missing" ? " (missing)" : ""}`
          : `${feature} = ${shown.length > 24 ? `${shown.slice(0, 23)}…` : shown}`;
      return { feature, value, label };
    })
    .sort((a, b) => Math.abs(b.value) - Math.abs(a.value));
}

/** The answer for one record: gauge, label, waterfall and reading. */
export function explained(probability, prediction, explanation, features, inputs) {
  const positive = prediction === 1;
  const s = steps(explanation, features, inputs);
  const logOdds = explanation.baseline + s.reduce((a, b) => a + b.value, 0);
  return [
    h("p", { class: `verdict ${positive ? "positive" : "negative"}` }, positive ? "Survived" : "Did not survive"),
    h(
      "p",
      {},
      "Probability of survival: ",
      h("output", { class: "probability", "data-value": String(probability) }, `${percent(probability, 2)} (${fmt(probability, 4)})`),
    ),
    gauge(probability, positive),
    h("p", { class: "reading" }, reading(s)),
    h("h3", {}, "Why: each feature's effect on the log-odds"),
    legend([
      ["up", "raises the chance"],
      ["down", "lowers it"],
    ]),
    waterfall(explanation.baseline, s, `Waterfall from the baseline ${fmt(explanation.baseline, 2)} to the log-odds ${fmt(logOdds, 2)}`),
    h(
      "p",
      { class: "hint waterfall-total", "data-log-odds": String(logOdds) },
      `Baseline ${fmt(explanation.baseline, 3)} + contributions ${signed(logOdds - explanation.baseline, 3)} = log-odds ${fmt(logOdds, 3)}; `,
      `1 / (1 + e^−log-odds) = ${fmt(sigmoid(logOdds), 4)}.`,
    ),
  ];
}

export function mount(model, spec) {
  const form = document.getElementById("predict-form");
  const fields = document.getElementById("predict-fields");
  const result = document.getElementById("predict-result");
  const formError = document.getElementById("predict-error");
  const features = model.features;
  buildForm(fields, features);
  const versions = model.versions.map((v) => v.version);
  if (versions.length > 1) {
    fields.append(
      h(
        "div",
        { class: "field" },
        h("label", { for: "f-version" }, "model version"),
        h("select", { id: "f-version", name: "version" }, versions.map((v) => h("option", { value: v, selected: v === model.version }, v))),
        h("p", { class: "hint" }, "the version to score with"),
      ),
    );
  }
  const example = spec?.components?.schemas?.Passenger?.example;
  const exampleButton = document.getElementById("predict-example");
  exampleButton.hidden = !example;
  exampleButton.addEventListener("click", () => {
    for (const f of features) form.elements[f.name].value = example[f.name] ?? "";
    form.elements[features[0].name].focus();
  });
  form.addEventListener("reset", () => {
    showErrors(form, features, [], formError);
    show(result, h("p", { class: "muted" }, "Fill the form and press Predict."));
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const inputs = record(form, features);
    const version = form.elements.version?.value;
    const query = new URLSearchParams({ explain: "true" });
    if (version && version !== model.version) query.set("version", version);
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const answer = await json(`/predict?${query}`, { method: "POST", body: { inputs: [inputs] } });
      showErrors(form, features, [], formError);
      show(
        result,
        h("p", { class: "hint" }, `Model ${answer.version}`),
        explained(answer.probabilities[0], answer.predictions[0], answer.explanations[0], features, inputs),
      );
    } catch (e) {
      if (e instanceof ApiError && e.status === 422) {
        showErrors(form, features, e.errors, formError);
        show(result, notice("The server refused the record: see the fields marked in red.", true));
      } else {
        show(result, notice(explainFailure(e, "Predicting"), true));
      }
    } finally {
      button.disabled = false;
    }
  });
}
