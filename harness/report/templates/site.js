"use strict";
// Click a header to sort; click again to reverse. Empty cells stay last.
function sortTable(table, index, header) {
  const body = table.tBodies[0];
  const ascending = header.getAttribute("aria-sort") !== "ascending";
  table.querySelectorAll("th").forEach((th) => th.removeAttribute("aria-sort"));
  header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  const key = (row) => {
    const cell = row.cells[index];
    const raw = cell.dataset.sort !== undefined ? cell.dataset.sort : cell.textContent.trim();
    const number = Number(raw);
    return raw === "" ? null : (Number.isNaN(number) ? raw : number);
  };
  const rows = Array.from(body.rows);
  rows.sort((a, b) => {
    const x = key(a), y = key(b);
    if (x === null || y === null) return x === y ? 0 : (x === null ? 1 : -1);
    const order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
    return ascending ? order : -order;
  });
  rows.forEach((row) => body.appendChild(row));
}
document.querySelectorAll("table.sortable").forEach((table) => {
  Array.from(table.tHead.rows[0].cells).forEach((th, index) => {
    th.addEventListener("click", () => sortTable(table, index, th));
  });
});

// A run's samples: a paged table filled from embedded JSON with textContent (never as HTML), filtered to wrong
// answers and by a search of the text; a sample opens to its prompt, raw output, prediction, target and requests.
function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function keyValues(rows, className) {
  const table = element("table", null, className);
  const body = table.createTBody();
  rows.forEach(([key, value]) => {
    const row = body.insertRow();
    row.append(element("th", key), element("td", value));
  });
  return table;
}

function requestTable(requests) {
  const table = element("table", null, "requests");
  const head = table.createTHead().insertRow();
  ["#", "context", "continuation or generation settings", "response"].forEach((name) => head.append(element("th", name)));
  const body = table.createTBody();
  requests.forEach((request, index) => {
    const row = body.insertRow();
    row.append(element("td", index), element("td", request.context === null ? "the prompt above" : request.context),
               element("td", request.sent), element("td", request.response));
  });
  return table;
}

function sampleDetail(sample) {
  const detail = element("div", null, "sample-detail");
  const main = element("div", null, "texts"), side = element("div", null, "answer");
  main.append(element("h4", "Prompt as sent"), element("pre", sample.input, "prompt"));
  if (sample.output !== null) {
    main.append(element("h4", "Model output (raw)"), element("pre", sample.output === "" ? "(empty)" : sample.output, "output"));
  }
  side.append(element("h4", "Answer"), keyValues([["prediction (extracted)", sample.prediction === "" ? "(nothing extracted)" : sample.prediction],
                                                  ["target", sample.target], ["metrics", sample.metrics]], "keyvalues"));
  if (sample.requests.length) side.append(element("h4", `Requests (${sample.requests.length})`), requestTable(sample.requests));
  if (sample.doc.length) side.append(element("h4", "Document"), keyValues(sample.doc, "keyvalues"));
  detail.append(main, side);
  return detail;
}

const sampleData = document.getElementById("samples-data");
if (sampleData) {
  const samples = JSON.parse(sampleData.textContent);
  const table = document.querySelector("table.samples");
  const body = table.tBodies[0];
  const fields = Array.from(table.tHead.rows[0].cells).map((th) => th.dataset.field);
  const status = document.getElementById("page-status");
  const filter = document.getElementById("sample-filter");
  const search = document.getElementById("sample-search");
  const size = Number(sampleData.dataset.pageSize);
  const opened = new Set();
  const brief = (text, tail) => text.length <= 300 ? text : (tail ? "…" + text.slice(-300) : text.slice(0, 300) + "…");
  const haystack = (s) => {
    if (s.haystack === undefined) {
      const parts = [s.input, s.output || "", s.prediction, s.target, s.metrics, ...s.doc.flat(),
                     ...s.requests.flatMap((r) => [r.context || "", r.sent, r.response])];
      s.haystack = parts.join("\n").toLowerCase();
    }
    return s.haystack;
  };
  let page = 0, shown = samples;
  const pages = () => Math.max(1, Math.ceil(shown.length / size));
  const toggle = (row, sample, button) => {
    const open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    if (open) {
      opened.add(sample.doc_id);
      const detail = element("tr", null, "detail");
      const cell = detail.insertCell();
      cell.colSpan = fields.length;
      cell.append(sampleDetail(sample));
      row.after(detail);
    } else {
      opened.delete(sample.doc_id);
      if (row.nextElementSibling && row.nextElementSibling.classList.contains("detail")) row.nextElementSibling.remove();
    }
  };
  const show = () => {
    body.replaceChildren();
    shown.slice(page * size, (page + 1) * size).forEach((sample) => {
      const row = body.insertRow();
      row.className = sample.wrong.length ? "wrong" : "";
      const button = element("button", sample.doc_id, "open");
      button.type = "button";
      button.title = "open the sample";
      button.setAttribute("aria-expanded", "false");
      button.addEventListener("click", () => toggle(row, sample, button));
      row.insertCell().append(button);
      fields.slice(1).forEach((field) => {
        const value = sample[field] === null ? "" : String(sample[field]);
        row.insertCell().textContent = field === "input" || field === "output" ? brief(value, field === "input") : value;
      });
      if (opened.has(sample.doc_id)) toggle(row, sample, button);
    });
    const count = shown.length === samples.length ? `${samples.length} samples` : `${shown.length} of ${samples.length} samples`;
    status.textContent = `page ${page + 1} of ${pages()} (${count})`;
  };
  const select = () => {
    const metric = filter.value, query = search.value.trim().toLowerCase();
    shown = samples.filter((s) => (!metric || s.wrong.includes(metric)) && (!query || haystack(s).includes(query)));
    page = 0;
    show();
  };
  filter.addEventListener("change", select);
  search.addEventListener("input", select);
  document.getElementById("prev-page").addEventListener("click", () => { if (page > 0) { page -= 1; show(); } });
  document.getElementById("next-page").addEventListener("click", () => { if (page < pages() - 1) { page += 1; show(); } });
  show();
}
