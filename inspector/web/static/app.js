// Progressive enhancement only: every page works without it.
document.addEventListener("DOMContentLoaded", function () {
  // filters apply as soon as a choice is made
  document.querySelectorAll("#filters select").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  // a form is sent once: its buttons are disabled after the first click
  document.querySelectorAll("form[method=post]").forEach(function (form) {
    form.addEventListener("submit", function () {
      window.setTimeout(function () {
        form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  });
});
