// The chat simulator: talks to /simulator/api/*, which plays WeChat against the real callback.
(function () {
  "use strict";
  const csrf = document.querySelector('meta[name="csrf-token"]');
  const log = document.getElementById("sim-log");
  let openid = "";
  let seenLater = 0;

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf ? csrf.content : "" },
      body: JSON.stringify(body),
    }).then((r) => r.json());
  }

  function add(direction, text, note) {
    const item = document.createElement("li");
    item.className = "sim-msg sim-" + direction;
    item.textContent = text || "（无回复）";
    if (note) {
      const small = document.createElement("small");
      small.textContent = " " + note;
      item.appendChild(small);
    }
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  function choose(id, label) {
    openid = id;
    seenLater = 0;
    log.textContent = "";
    document.getElementById("sim-who").textContent = id ? "当前身份：" + label : "未选择身份";
  }

  function send(kind, extra) {
    if (!openid) { add("sys", "请先选择或新建一个身份。"); return; }
    const text = document.getElementById("sim-text").value;
    const body = Object.assign({ openid: openid, kind: kind, text: text }, extra || {});
    if (["text", "voice", "location", "link"].includes(kind)) { add("in", text || "（空）", kind === "text" ? "" : "[" + kind + "]"); }
    else { add("in", "[" + kind + (body.key ? " " + body.key : "") + "]"); }
    document.getElementById("sim-text").value = "";
    post("/simulator/api/send", body).then((data) => {
      if (data.error) { add("sys", data.error.message); return; }
      add("out", data.reply);
    });
  }

  function pollLater() {
    if (!openid) return;
    fetch("/simulator/api/messages?openid=" + encodeURIComponent(openid))
      .then((r) => r.json())
      .then((data) => {
        const items = data.items || [];
        items.slice(seenLater).forEach((m) => add("out", m.text, m.kind === "template" ? "[模板消息] " + (m.url || "") : "[客服消息]"));
        seenLater = items.length;
      });
  }

  function renderGroups(table) {
    fetch(table.dataset.source).then((r) => r.json()).then((data) => {
      const body = table.querySelector("tbody");
      body.textContent = "";
      (data.items || []).forEach((item) => {
        const row = document.createElement("tr");
        const payload = item.payload || {};
        const type = payload.msgtype || "";
        const content = (payload[type] && (payload[type].content || payload[type].title)) || JSON.stringify(payload).slice(0, 200);
        [new Date(item.at * 1000).toLocaleString("zh-CN"), item.kind, item.target, content].forEach((value) => {
          const cell = document.createElement("td");
          cell.textContent = value;
          row.appendChild(cell);
        });
        body.appendChild(row);
      });
      if (!body.children.length) { body.innerHTML = '<tr><td colspan="4" class="muted">暂无消息</td></tr>'; }
    });
  }

  const groups = document.getElementById("sim-groups");
  if (groups) { renderGroups(groups); setInterval(() => renderGroups(groups), 5000); return; }

  const picker = document.getElementById("sim-identity");
  picker.addEventListener("change", () => choose(picker.value, picker.options[picker.selectedIndex].text));
  document.getElementById("sim-new").addEventListener("click", () => {
    post("/simulator/api/followers", {}).then((data) => {
      if (data.error) { add("sys", data.error.message); return; }
      choose(data.openid, "新关注者 " + data.openid.slice(0, 8) + "…");
    });
  });
  document.getElementById("sim-form").addEventListener("submit", (event) => { event.preventDefault(); send("text"); });
  document.querySelectorAll("button[data-kind]").forEach((button) => {
    button.addEventListener("click", () => {
      const extra = {};
      if (button.dataset.key) extra.key = button.dataset.key;
      if (button.dataset.kind === "follow") extra.scene = document.getElementById("sim-scene").value;
      send(button.dataset.kind, extra);
    });
  });
  setInterval(pollLater, 3000);
})();
