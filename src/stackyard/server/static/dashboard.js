// Refresh the dashboard's body every few seconds from the server-rendered fragment.
(function () {
  "use strict";
  var main = document.getElementById("main");
  var stamp = document.getElementById("refreshed");
  var every = 5000;

  function refresh() {
    fetch("/?part=1", { credentials: "same-origin" })
      .then(function (answer) {
        if (!answer.ok) { throw new Error("HTTP " + answer.status); }
        return answer.text();
      })
      .then(function (html) {
        main.innerHTML = html;
        bindLogin();
        stamp.textContent = "updated " + new Date().toLocaleTimeString();
      })
      .catch(function (err) { stamp.textContent = "offline (" + err.message + ")"; })
      .finally(function () { setTimeout(refresh, every); });
  }

  function bindLogin() {
    var form = document.getElementById("login");
    if (!form) { return; }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var token = document.getElementById("token").value.trim();
      document.cookie = "stackyard_token=" + encodeURIComponent(token) + "; path=/; SameSite=Strict";
      location.reload();
    });
  }

  bindLogin();
  stamp.textContent = "updated " + new Date().toLocaleTimeString();
  setTimeout(refresh, every);
})();
