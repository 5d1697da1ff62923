// A small element builder, and text helpers the views share.

/** `h("p", {class: "x"}, "text", child)`: an element; `on*` attributes become listeners. */
export function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") e.addEventListener(k.slice(2), v);
    else if (v === true) e.setAttribute(k, "");
    else e.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

/** Replaces an element's children. */
export function show(target, ...children) {
  target.replaceChildren(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
}

/** A notice box; `error` makes it an alert. */
export function notice(text, error = false) {
  return h("p", { class: error ? "notice error" : "notice", role: error ? "alert" : "status" }, text);
}

/** What a failed call means, in words; `what` names the view. */
export function explainFailure(e, what) {
  if (e.status === 401) return `${what} needs an access key, or the key given is wrong. Enter the key above.`;
  if (e.status === 403) return `${what} is closed to this client: ${e.message}`;
  if (e.status === 404) return `${what} is not available on this server (history is off, or the path is unknown).`;
  if (e.status === 503) return `${what} is unavailable for now: ${e.message}. Try again in a moment.`;
  if (e.status === 0) return `The server could not be reached: ${e.message}.`;
  return `${what} failed (HTTP ${e.status}): ${e.message}`;
}

/** A table from a header row and body rows (arrays of cells). */
export function table(caption, head, rows, { numeric = [] } = {}) {
  const cls = (i) => (numeric.includes(i) ? "num" : undefined);
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      caption ? h("caption", { class: "visually-hidden" }, caption) : null,
      h("thead", {}, h("tr", {}, head.map((c, i) => h("th", { scope: "col", class: cls(i) }, c)))),
      h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c, i) => h("td", { class: cls(i) }, c))))),
    ),
  );
}
