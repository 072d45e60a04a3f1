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

// A paged table of samples, filled from embedded JSON with textContent (never as HTML).
const sampleData = document.getElementById("samples-data");
if (sampleData) {
  const samples = JSON.parse(sampleData.textContent);
  const body = document.querySelector("table.samples tbody");
  const status = document.getElementById("page-status");
  const size = Number(sampleData.dataset.pageSize);
  const pages = Math.max(1, Math.ceil(samples.length / size));
  let page = 0;
  const show = () => {
    body.replaceChildren();
    samples.slice(page * size, (page + 1) * size).forEach((sample) => {
      const row = body.insertRow();
      ["doc_id", "input", "target", "prediction", "metrics"].forEach((field) => {
        row.insertCell().textContent = sample[field];
      });
    });
    status.textContent = `page ${page + 1} of ${pages} (${samples.length} samples)`;
  };
  document.getElementById("prev-page").addEventListener("click", () => { if (page > 0) { page -= 1; show(); } });
  document.getElementById("next-page").addEventListener("click", () => { if (page < pages - 1) { page += 1; show(); } });
  show();
}
