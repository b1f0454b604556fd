(function () {
  "use strict";
  // Filtering and sorting of the rectification list; without script the full table stays readable.
  // A province's list has thousands of rows, and laying them all out takes seconds: with script,
  // only the first `data-limit` rows that match are shown on screen, until 全部显示 is pressed
  // (class `over-limit`; printed, every row that matches the filters is there).
  var table = document.getElementById("rect-table");
  var controls = document.getElementById("rect-controls");
  if (!table || !controls) { return; }
  controls.hidden = false;
  var body = table.tBodies[0];
  var items = Array.prototype.map.call(body.rows, function (row, i) {
    return { row: row, text: row.textContent.toLowerCase(), index: i };
  });
  var query = document.getElementById("rect-q");
  var county = document.getElementById("rect-county");
  var severity = document.getElementById("rect-severity");
  var count = document.getElementById("rect-count");
  var more = document.getElementById("rect-more");
  var all = false;

  function apply() {
    var q = query.value.trim().toLowerCase();
    var terms = q ? q.split(/\s+/) : [];
    var c = county ? county.value : "";
    var s = severity ? severity.value : "";
    var limit = all ? Infinity : Number(table.getAttribute("data-limit")) || Infinity;
    var matched = 0;
    var shown = 0;
    items.forEach(function (item) {
      var row = item.row;
      var ok = (!c || row.getAttribute("data-county") === c) &&
        (!s || row.getAttribute("data-severity") === s) &&
        terms.every(function (t) { return item.text.indexOf(t) !== -1; });
      var over = ok && shown >= limit;
      if (ok) { matched += 1; }
      if (ok && !over) { shown += 1; }
      // an unchanged row is left alone
      if (row.hidden === ok) { row.hidden = !ok; }
      if (row.classList.contains("over-limit") !== over) { row.classList.toggle("over-limit", over); }
    });
    count.textContent = matched > shown
      ? "显示前 " + shown + " 项 / 符合 " + matched + " 项 / 共 " + items.length + " 项"
      : "显示 " + shown + " / " + items.length + " 项";
    if (more) { more.hidden = matched <= shown; }
  }
  function refilter() {
    all = false;  // 全部显示 is for the filters it was pressed under
    apply();
  }
  [query, county, severity].forEach(function (el) {
    if (el) {
      el.addEventListener("input", refilter);
      el.addEventListener("change", refilter);
    }
  });
  if (more) {
    more.addEventListener("click", function () {
      all = true;
      apply();
      query.focus();  // the button has hidden itself: keep the keyboard in the controls
    });
  }

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
      var keyed = items.map(function (item) {
        var cell = item.row.cells[col];
        var key = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
        return { item: item, key: numeric ? parseFloat(key) : key };
      });
      keyed.sort(function (a, b) {
        var d = numeric ? a.key - b.key : collator.compare(a.key, b.key);
        return (ascending ? d : -d) || a.item.index - b.item.index;  // ties in the list's own order
      });
      var sorted = document.createDocumentFragment();  // the rows moved in one insertion
      items = keyed.map(function (k) { sorted.appendChild(k.item.row); return k.item; });
      body.appendChild(sorted);
      apply();  // the first rows in the new order are the ones shown
    }
    th.addEventListener("click", sort);
    th.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); }
    });
  });
  apply();
})();
