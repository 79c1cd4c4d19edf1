/* "显示" buttons: reveal one identifier in place (POST, audited on the server) without leaving the page.
   Without JavaScript the same form posts normally and the resident page shows the value. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains("reveal-form")) { return; }
    event.preventDefault();
    var button = form.querySelector("button");
    if (button) { button.disabled = true; }
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (data) {
      var holder = form.parentElement && form.parentElement.querySelector('.pii[data-field="' + data.field + '"]');
      if (holder) { holder.textContent = data.value; holder.classList.add("revealed"); }
      form.remove();
    }).catch(function () {
      if (button) { button.disabled = false; button.textContent = "重试"; }
    });
  });
})();
