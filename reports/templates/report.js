(function () {
  "use strict";
  // Filtering and sorting of the rectification list; without script the full table stays readable.
  var table = document.getElementById("rect-table");
  var controls = document.getElementById("rect-controls");
  if (!table || !controls) { return; }
  controls.hidden = false;
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var texts = rows.map(function (row) { return row.textContent.toLowerCase(); });
  var query = document.getElementById("rect-q");
  var county = document.getElementById("rect-county");
  var severity = document.getElementById("rect-severity");
  var count = document.getElementById("rect-count");

  function apply() {
    var q = query.value.trim().toLowerCase();
    var terms = q ? q.split(/\s+/) : [];
    var c = county ? county.value : "";
    var s = severity ? severity.value : "";
    var shown = 0;
    rows.forEach(function (row, i) {
      var ok = (!c || row.getAttribute("data-county") === c) &&
        (!s || row.getAttribute("data-severity") === s) &&
        terms.every(function (t) { return texts[i].indexOf(t) !== -1; });
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = "显示 " + shown + " / " + rows.length + " 项";
  }
  [query, county, severity].forEach(function (el) {
    if (el) {
      el.addEventListener("input", apply);
      el.addEventListener("change", apply);
    }
  });

  var collator = new Intl.Collator("zh-CN", { numeric: true });
  var headers = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(headers, function (th, col) {
    th.tabIndex = 0;
    th.classList.add("sortable");
    th.title = "点击排序";
    function sort() {
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(headers, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var numeric = th.getAttribute("data-type") === "number";
      var keyed = rows.map(function (row, i) {
        var cell = row.cells[col];
        var key = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
        return { row: row, key: numeric ? parseFloat(key) : key, index: i };
      });
      keyed.sort(function (a, b) {
        var d = numeric ? a.key - b.key : collator.compare(a.key, b.key);
        return (ascending ? d : -d) || a.index - b.index;
      });
      keyed.forEach(function (k) { body.appendChild(k.row); });
    }
    th.addEventListener("click", sort);
    th.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); }
    });
  });
  apply();
})();
