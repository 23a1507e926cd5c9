/* Live runs: poll the JSON of [data-sched-live] boxes and draw progress bars, time left and
 * the output so far; flip to the final status when a run ends. No build step, no library.
 * data-sched-live: the JSON URL; data-kind: "task" | "run" | "running";
 * data-interval: milliseconds between polls while something runs (idle: five times that). */
(function () {
  "use strict";

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function t(box, key, fallback) {
    return box.getAttribute("data-label-" + key) || fallback;
  }

  function drawRun(box, run, withTask) {
    var item = el("div", "sched-live-run");
    item.setAttribute("data-run", run.id);
    item.setAttribute("data-status", run.status);
    var head = el("div", "sched-live-head");
    head.appendChild(el("span", "sched-badge sched-badge-" + run.status, run.status_label));
    head.appendChild(document.createTextNode(" "));
    var name = withTask ? run.task_name : t(box, "run", "Run") + " #" + run.id;
    if (run.url || (withTask && run.task_url)) {
      var link = el("a", "", name);
      link.href = withTask && run.task_url ? run.task_url : run.url;
      head.appendChild(link);
    } else {
      head.appendChild(el("strong", "", name));
    }
    var times = " · " + t(box, "started", "started") + " " + run.started + " · " +
      run.elapsed_text;
    if (run.running && run.left_text) times += " · " + t(box, "left", "about %s left").replace("%s", run.left_text);
    if (!run.running && run.finished) times += " · " + t(box, "finished", "finished") + " " + run.finished;
    head.appendChild(el("span", "sched-muted", times));
    item.appendChild(head);
    if (run.running || run.done !== null) {
      var bar = el("progress", "sched-live-bar");
      bar.max = 100;
      if (run.percent !== null) {
        bar.value = run.running ? run.percent : (run.status === "success" ? 100 : run.percent);
        bar.textContent = run.percent + " %";
      }
      bar.setAttribute("data-percent", run.percent === null ? "" : run.percent);
      item.appendChild(bar);
      var text = [run.progress_text, run.message].filter(Boolean).join(" — ");
      if (text) item.appendChild(el("div", "sched-live-text", text));
    }
    if (run.error && !run.running) item.appendChild(el("pre", "sched-pre sched-error", run.error));
    if (run.output_tail && box.getAttribute("data-output") !== "off") {
      item.appendChild(el("pre", "sched-pre sched-live-output", run.output_tail));
    }
    return item;
  }

  function draw(box, data) {
    var kind = box.getAttribute("data-kind");
    var runs = data.runs || (data.run ? [data.run] : []);
    var list = box.querySelector(".sched-live-list");
    var fresh = el("div", "sched-live-list");
    runs.forEach(function (run) { fresh.appendChild(drawRun(box, run, kind === "running")); });
    if (!runs.length) fresh.appendChild(el("p", "sched-muted", t(box, "empty", "Nothing is running.")));
    var running = runs.some(function (run) { return run.running; });
    // The rest of the page (history, figures) was drawn before the run ended: say so once
    // a run this page watched has ended, with a link that reloads it.
    if (box.getAttribute("data-state") === "running" && !running && kind !== "run") {
      box.setAttribute("data-ended", "1");
    }
    if (box.getAttribute("data-ended")) {
      var note = el("p", "sched-muted sched-live-ended");
      var again = el("a", "", t(box, "reload", "A run ended: reload the page to see it in the history."));
      again.href = window.location.href;
      note.appendChild(again);
      fresh.appendChild(note);
    }
    list.replaceWith(fresh);
    box.setAttribute("data-state", running ? "running" : (runs.length ? runs[0].status : "idle"));
    if (data.task) {
      document.querySelectorAll("[data-sched-task-status]").forEach(function (node) {
        node.replaceChildren(el("span", "sched-badge sched-badge-" + data.task.status, data.task.status_label));
      });
    }
    if (data.run) {
      document.querySelectorAll("[data-sched-run-status]").forEach(function (node) {
        node.replaceChildren(el("span", "sched-badge sched-badge-" + data.run.status, data.run.status_label));
      });
    }
    return running || (data.task && (data.task.run_requested || data.task.status === "running"));
  }

  function watch(box) {
    var url = box.getAttribute("data-sched-live");
    var every = parseInt(box.getAttribute("data-interval"), 10) || 1500;
    var kind = box.getAttribute("data-kind");
    function poll() {
      if (document.hidden) { setTimeout(poll, every); return; }
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (data) {
          var busy = draw(box, data);
          // A run page is done once its run ended; the other pages wait for the next run.
          if (kind === "run" && !busy) return;
          setTimeout(poll, busy ? every : every * 5);
        })
        .catch(function () { box.setAttribute("data-state", "error"); setTimeout(poll, every * 10); });
    }
    poll();
  }

  function start() { document.querySelectorAll("[data-sched-live]").forEach(watch); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
