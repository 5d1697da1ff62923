// CSV as RFC 4180 has it: records split on line ends outside quotes, and
// fields with doubled quotes inside quoted ones. The server reads the
// records themselves; the page only cuts a file into batches and reads
// the answers.

/**
 * The file's records as raw text (line ends dropped, quotes kept), blank
 * lines skipped; `lines[k]` is the line record k starts on (from 1).
 */
export function records(text) {
  const out = [];
  out.lines = [];
  let start = 0;
  let line = 1;
  let first = 1;
  let quoted = false;
  for (let i = 0; i <= text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if ((c === "\n" || c === undefined) && !quoted) {
      let record = text.slice(start, i);
      if (record.endsWith("\r")) record = record.slice(0, -1);
      if (record.trim() !== "") {
        out.push(record);
        out.lines.push(first);
      }
      start = i + 1;
      first = line + 1;
    }
    if (c === "\n") line += 1;
  }
  return out;
}

/** One record's fields. */
export function fields(record) {
  const out = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < record.length; i++) {
    const c = record[i];
    if (quoted) {
      if (c === '"' && record[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      out.push(field);
      field = "";
    } else field += c;
  }
  out.push(field);
  return out;
}

/** A field as CSV writes it: quoted when it holds a comma, quote or line end. */
export function quote(value) {
  const s = String(value ?? "");
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}
