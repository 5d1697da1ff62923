// Talking to the API: the access key (kept in sessionStorage, sent only as
// an Authorization header), JSON and CSV requests, and its JSON errors.

const KEY = "classification_api.key";

export function key() {
  return sessionStorage.getItem(KEY) || "";
}

export function setKey(value) {
  if (value) sessionStorage.setItem(KEY, value);
  else sessionStorage.removeItem(KEY);
}

/** An answer other than 2xx, with the API's `errors` list when it sent one. */
export class ApiError extends Error {
  constructor(status, errors, text) {
    const first = errors[0];
    super(first ? first.message : text || `HTTP ${status}`);
    this.status = status;
    this.errors = errors;
  }

  /** The server wants a key (401), or will not answer this client (403). */
  get locked() {
    return this.status === 401 || this.status === 403;
  }
}

/** Listeners told when an answer says the key is missing or wrong. */
const lockListeners = [];
export function onLocked(f) {
  lockListeners.push(f);
}

function headers(extra) {
  const h = new Headers(extra);
  const k = key();
  if (k) h.set("authorization", `Bearer ${k}`);
  return h;
}

async function failure(response) {
  const text = await response.text();
  let errors = [];
  try {
    const body = JSON.parse(text);
    if (Array.isArray(body.errors)) errors = body.errors;
    else if (typeof body.error === "string") errors = [{ message: body.error }];
  } catch {
    // not JSON: keep the text
  }
  const e = new ApiError(response.status, errors, text.slice(0, 200));
  if (e.status === 401) lockListeners.forEach((f) => f(e));
  return e;
}

/** GET (or POST with a JSON body) and the JSON answer. */
export async function json(path, { method = "GET", body } = {}) {
  const init = { method, headers: headers({ accept: "application/json" }) };
  if (body !== undefined) {
    init.headers.set("content-type", "application/json");
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (!response.ok) throw await failure(response);
  return response.json();
}

/**
 * POST a CSV text to `/predict`; the CSV answer as text. Uses
 * XMLHttpRequest for its upload progress. A 503 (busy) is retried after
 * its Retry-After, at most `retries` times.
 */
export function postCsv(path, csv, onUpload, retries = 5) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    headers({ "content-type": "text/csv", accept: "text/csv" }).forEach((v, k) => xhr.setRequestHeader(k, v));
    if (onUpload) xhr.upload.onprogress = (e) => e.lengthComputable && onUpload(e.loaded / e.total);
    xhr.onerror = () => reject(new ApiError(0, [], "the server could not be reached"));
    xhr.onload = async () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve(xhr.responseText);
      const wait = Number(xhr.getResponseHeader("retry-after"));
      if (xhr.status === 503 && wait > 0 && wait < 30 && retries > 0) {
        await new Promise((r) => setTimeout(r, wait * 1000));
        return postCsv(path, csv, onUpload, retries - 1).then(resolve, reject);
      }
      reject(await failure(new Response(xhr.responseText, { status: xhr.status })));
    };
    xhr.send(csv);
  });
}
