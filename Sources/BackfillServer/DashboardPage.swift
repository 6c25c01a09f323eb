/// The dashboard: one self-contained page (no CDN, no external script, so it works offline) that
/// polls the JSON API and draws runs, progress, rows/s and failure-rate charts as inline SVG, the
/// chunk map, errors by type, checkpoints, the quarantine browser, the last verify result and the
/// Pause / Resume / Cancel buttons.
///
/// Everything that comes from the state store is put in the page as text nodes (never parsed as
/// HTML), since quarantined rows hold whatever the source held. The token for the buttons is
/// typed into the page and kept in the tab's `sessionStorage` only.
enum DashboardPage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <link rel="icon" href="data:,">
        <title>backfill</title>
        <style>
        :root { --ink: #1d2433; --muted: #667085; --line: #e4e7ec; --done: #12b76a; --running: #2e90fa; --pending: #d0d5dd; --bad: #f04438; --warn: #f79009; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f8f9fb; }
        header { display: flex; align-items: center; gap: 16px; padding: 12px 24px; background: #101828; color: #fff; }
        header h1 { font-size: 18px; margin: 0; letter-spacing: .02em; }
        header .spacer { flex: 1; }
        header input { width: 220px; padding: 5px 8px; border-radius: 6px; border: 1px solid #475467; background: #1d2939; color: #fff; }
        main { display: grid; grid-template-columns: 300px 1fr; gap: 16px; padding: 16px 24px; }
        section, aside { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; }
        h2 { font-size: 15px; margin: 0 0 10px; }
        h3 { font-size: 13px; margin: 14px 0 6px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
        table { width: 100%; border-collapse: collapse; font-size: 13px; }
        th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { color: var(--muted); font-weight: 600; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        #runs tr { cursor: pointer; }
        #runs tr.selected { background: #eff8ff; }
        .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; background: var(--pending); }
        .badge.running { background: #d1e9ff; color: #175cd3; } .badge.completed { background: #d1fadf; color: #027a48; }
        .badge.paused { background: #fef0c7; color: #b54708; } .badge.failed, .badge.cancelled { background: #fee4e2; color: #b42318; }
        .bar { height: 14px; background: var(--line); border-radius: 7px; overflow: hidden; }
        .bar > div { height: 100%; background: var(--done); transition: width .4s; }
        .stats { display: grid; grid-template-columns: repeat(auto-fill, minmax(130px, 1fr)); gap: 8px; margin: 12px 0; }
        .stat { background: #f9fafb; border: 1px solid var(--line); border-radius: 8px; padding: 6px 10px; }
        .stat b { display: block; font-size: 17px; font-variant-numeric: tabular-nums; }
        .stat span { color: var(--muted); font-size: 12px; }
        .charts { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
        svg.chart { width: 100%; height: 150px; background: #fcfcfd; border: 1px solid var(--line); border-radius: 8px; }
        svg.chart text { font-size: 10px; fill: var(--muted); }
        #chunk-map { display: flex; flex-wrap: wrap; gap: 3px; }
        #chunk-map div { width: 14px; height: 14px; border-radius: 3px; background: var(--pending); }
        #chunk-map div.running { background: var(--running); } #chunk-map div.done { background: var(--done); }
        .buttons { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
        button { padding: 6px 14px; border-radius: 6px; border: 1px solid #98a2b3; background: #fff; font-weight: 600; cursor: pointer; }
        button:disabled { opacity: .45; cursor: not-allowed; }
        button.danger { border-color: var(--bad); color: var(--bad); }
        .notice { padding: 8px 12px; border-radius: 8px; background: #fffaeb; border: 1px solid #fedf89; color: #93370d; margin-bottom: 12px; }
        .muted { color: var(--muted); }
        .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; word-break: break-all; }
        .two { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
        #message { font-size: 13px; }
        </style>
        </head>
        <body>
        <header>
          <h1>backfill</h1>
          <span id="connection" class="muted"></span>
          <span class="spacer"></span>
          <label for="token">API token</label>
          <input id="token" type="password" autocomplete="off" placeholder="BACKFILL_API_TOKEN">
        </header>
        <main>
          <aside>
            <h2>Runs</h2>
            <table><thead><tr><th>Run</th><th>Job</th><th>Status</th><th class="num">Done</th></tr></thead><tbody id="runs"></tbody></table>
          </aside>
          <div>
            <div id="mutations-notice" class="notice" hidden>Mutations are disabled: this server was started without BACKFILL_API_TOKEN, so Pause, Resume and Cancel are off. Use the CLI (<span class="mono">backfill pause RUN</span>) or restart the server with a token.</div>
            <section id="run-panel">
              <h2 id="run-title">No runs yet</h2>
              <div class="bar"><div id="progress-bar" style="width: 0%"></div></div>
              <div id="progress-text" class="muted"></div>
              <div class="stats" id="stats"></div>
              <div class="buttons">
                <button id="pause">Pause</button>
                <button id="resume">Resume</button>
                <button id="cancel" class="danger">Cancel</button>
                <span id="message" class="muted"></span>
              </div>
              <h3>Over time</h3>
              <div class="charts">
                <svg class="chart" id="rate-chart" viewBox="0 0 560 150" preserveAspectRatio="none" role="img" aria-label="rows per second over time"></svg>
                <svg class="chart" id="failure-chart" viewBox="0 0 560 150" preserveAspectRatio="none" role="img" aria-label="failure rate over time"></svg>
              </div>
              <div class="two">
                <div>
                  <h3>Chunk map</h3>
                  <div id="chunk-map"></div>
                  <p class="muted" id="chunk-legend"></p>
                  <h3>Errors by type</h3>
                  <table><tbody id="errors"></tbody></table>
                  <h3>Last verify</h3>
                  <div id="verify" class="muted">not verified since the run</div>
                </div>
                <div>
                  <h3>Checkpoints</h3>
                  <table><thead><tr><th>Chunk</th><th>Status</th><th class="num">Read</th><th>Cursor</th></tr></thead><tbody id="checkpoints"></tbody></table>
                </div>
              </div>
              <h3>Quarantine</h3>
              <table><thead><tr><th>Chunk</th><th>Key / line</th><th>Type</th><th>Reason</th><th>Row</th></tr></thead><tbody id="quarantine"></tbody></table>
              <p><button id="more-quarantine">Show more</button></p>
              <h3>Events</h3>
              <table><tbody id="events"></tbody></table>
            </section>
          </div>
        </main>
        <script>
        "use strict";
        const state = { selected: null, quarantineLimit: 20, mutations: false, report: null };
        const params = new URLSearchParams(location.search);
        const interval = Math.max(250, Number(params.get("interval")) || 1000);
        const $ = (id) => document.getElementById(id);

        function el(tag, attributes, ...children) {
          const node = document.createElement(tag);
          for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
          for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
          return node;
        }
        function svg(tag, attributes) {
          const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
          for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
          return node;
        }
        const number = (n) => Math.round(n).toLocaleString("en-US");
        const percent = (x) => (x * 100).toFixed(2) + "%";
        function duration(seconds) {
          if (!isFinite(seconds) || seconds <= 0) return "–";
          const h = Math.floor(seconds / 3600), m = Math.floor(seconds % 3600 / 60), s = Math.floor(seconds % 60);
          return h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s}s` : `${s}s`;
        }
        function value(v) {
          if (v === null || v === undefined) return "NULL";
          if ("i" in v) return String(v.i);
          if ("r" in v) return String(v.r);
          if ("t" in v) return JSON.stringify(v.t);
          if ("b" in v) return "<blob>";
          return "?";
        }
        const key = (values) => values ? values.map(value).join(", ") : "–";
        function replace(parent, ...children) { parent.replaceChildren(...children); }

        async function api(path, options) {
          const response = await fetch(path, options);
          const body = await response.json().catch(() => ({}));
          if (!response.ok) throw new Error(body.error?.message || `HTTP ${response.status}`);
          return body;
        }

        function chart(target, points, pick, format, color) {
          const width = 560, height = 150, left = 48, bottom = 18, top = 10;
          const values = points.map(pick);
          const max = Math.max(...values, 0) || 1;
          const span = points.length ? points[points.length - 1].elapsedSeconds || 1 : 1;
          const x = (p) => left + (width - left - 8) * (p.elapsedSeconds / span);
          const y = (v) => top + (height - top - bottom) * (1 - v / max);
          const nodes = [
            svg("line", { x1: left, y1: y(0), x2: width - 8, y2: y(0), stroke: "#d0d5dd" }),
            svg("line", { x1: left, y1: top, x2: left, y2: y(0), stroke: "#d0d5dd" }),
          ];
          const label = (text, attrs) => { const t = svg("text", attrs); t.textContent = text; return t; };
          nodes.push(label(format(max), { x: left - 4, y: top + 8, "text-anchor": "end" }));
          nodes.push(label(format(0), { x: left - 4, y: y(0), "text-anchor": "end" }));
          nodes.push(label(duration(span), { x: width - 8, y: height - 4, "text-anchor": "end" }));
          nodes.push(label(target.getAttribute("aria-label"), { x: left + 6, y: top + 8 }));
          if (points.length > 0) {
            // Each point is the rate over the step that ends at it: drawn as a step from the point before.
            let path = `M ${left} ${y(values[0]).toFixed(1)}`;
            points.forEach((p, i) => { path += ` H ${x(p).toFixed(1)}` + (i + 1 < points.length ? ` V ${y(values[i + 1]).toFixed(1)}` : ""); });
            nodes.push(svg("path", { d: path + ` V ${y(0)} H ${left} Z`, fill: color, "fill-opacity": 0.12, stroke: "none" }));
            nodes.push(svg("path", { d: path, fill: "none", stroke: color, "stroke-width": 2, class: "series" }));
          } else {
            nodes.push(label("no samples yet", { x: width / 2, y: height / 2, "text-anchor": "middle" }));
          }
          replace(target, ...nodes);
        }

        // The budget or health signal holding the run back now, with the seconds it has held its workers.
        function binding(waits) {
          const signal = waits && waits.binding ? waits.binding.signal : null;
          if (!signal) return "none";
          return `${signal} · ${duration((waits.held || {})[signal] || 0)}`;
        }

        function stat(label, text, id) {
          const b = el("b", id ? { id } : {}, text);
          return el("div", { class: "stat" }, b, el("span", {}, label));
        }

        function renderRuns(runs) {
          replace($("runs"), ...runs.map((run) => {
            const done = run.estimatedRows > 0 ? Math.min(1, run.counters.read / run.estimatedRows) : (run.status === "completed" ? 1 : 0);
            const row = el("tr", { "data-run": run.id }, el("td", {}, "#" + run.id), el("td", {}, run.job),
              el("td", {}, el("span", { class: "badge " + run.status }, run.status)), el("td", { class: "num" }, Math.round(done * 100) + "%"));
            if (run.id === state.selected) row.className = "selected";
            row.addEventListener("click", () => { location.hash = "run=" + run.id; });
            return row;
          }));
        }

        function renderReport(report) {
          const run = report.run, c = run.counters;
          $("run-title").replaceChildren(`Run #${run.id} · ${run.job} `, el("span", { class: "badge " + run.status, id: "status" }, run.status));
          const fraction = run.estimatedRows > 0 ? Math.min(1, c.read / run.estimatedRows) : (run.status === "completed" ? 1 : 0);
          const bar = $("progress-bar");
          bar.style.width = (fraction * 100).toFixed(1) + "%";
          bar.dataset.read = c.read;
          const rate = report.series.length ? report.series[report.series.length - 1].rowsPerSecond : report.rowsPerSecond;
          const left = Math.max(0, run.estimatedRows - c.read);
          const eta = (run.status === "running" && report.rowsPerSecond > 0) ? left / report.rowsPerSecond : NaN;
          $("progress-text").textContent = `${number(c.read)} of ~${number(run.estimatedRows)} rows · ${run.chunksDone} of ${run.chunksTotal} chunks`
            + (run.reason ? ` · ${run.reason}` : "");
          replace($("stats"),
            stat("rows/s now", number(rate), "rows-per-second"), stat("rows/s working", number(report.rowsPerSecond)),
            stat("ETA", duration(eta)), stat("inserted", number(c.inserted)), stat("updated", number(c.updated)),
            stat("unchanged", number(c.unchanged)), stat("skipped", number(c.skipped)), stat("quarantined", number(c.quarantined)),
            stat("failure rate", percent(report.failureRate)), stat("retries", number(c.retries)),
            stat("checkpoints", number(report.checkpoints)), stat("batch size", report.batchSizes ? number(report.batchSizes.latest) : "–"),
            stat("waited", duration(["paused", "pauseFile", "window", "throttled", "health"].reduce((a, k) => a + ((run.waits || {})[k] || 0), 0))),
            stat("binding", run.status === "running" ? binding(run.waits) : "none", "binding"), stat("balanced", report.balanced ? "yes" : "NO"));
          chart($("rate-chart"), report.series, (p) => p.rowsPerSecond, number, "#2e90fa");
          chart($("failure-chart"), report.series, (p) => p.failureRate, percent, "#f04438");
          replace($("chunk-map"), ...report.chunks.map((chunk) =>
            el("div", { class: chunk.status, title: `chunk ${chunk.index}: ${chunk.status}, ${number(chunk.counters.read)} rows read` })));
          const counts = { pending: 0, running: 0, done: 0 };
          for (const chunk of report.chunks) counts[chunk.status] = (counts[chunk.status] || 0) + 1;
          $("chunk-legend").textContent = `${counts.done} done · ${counts.running} running · ${counts.pending} pending`;
          const errors = Object.entries(report.errorsByType).sort();
          replace($("errors"), ...(errors.length ? errors.map(([type, count]) => el("tr", {}, el("td", {}, type), el("td", { class: "num" }, number(count))))
            : [el("tr", {}, el("td", { class: "muted" }, "none"))]));
          replace($("checkpoints"), ...report.chunks.slice(0, 200).map((chunk) => el("tr", {},
            el("td", {}, chunk.index), el("td", {}, chunk.status), el("td", { class: "num" }, number(chunk.counters.read)),
            el("td", { class: "mono" }, chunk.cursor ? (chunk.cursor.key ? key(chunk.cursor.key) : `line ${chunk.cursor.line}`) : "–"))));
          const verify = run.lastVerification;
          $("verify").textContent = verify
            ? `${verify.equal ? "equal" : "DIFFERENT"} at ${new Date(verify.at).toLocaleString()} · missing ${verify.missing} · extra ${verify.extra} · different ${verify.different} · newer in target ${verify.newerInTarget}`
              + (verify.repair ? ` — after repair run ${verify.repair.runID} (${verify.repair.status}): verify had found missing ${verify.repair.foundMissing} · extra ${verify.repair.foundExtra} · different ${verify.repair.foundDifferent}; inserted ${number(verify.repair.counters.inserted)} · updated ${number(verify.repair.counters.updated)} · quarantined ${number(verify.repair.counters.quarantined)}` : "")
            : "not verified since the run";
          replace($("events"), ...report.events.slice(-15).reverse().map((event) => el("tr", {},
            el("td", { class: "muted" }, new Date(event.at).toLocaleTimeString()), el("td", {}, event.kind), el("td", {}, event.message))));
          const active = ["running", "planned", "paused"].includes(run.status);
          $("pause").disabled = !state.mutations || run.status !== "running";
          $("resume").disabled = !state.mutations || run.status !== "paused";
          $("cancel").disabled = !state.mutations || !active;
        }

        function renderQuarantine(rows) {
          replace($("quarantine"), ...(rows.length ? rows.map((row) => el("tr", {},
            el("td", {}, row.chunkIndex), el("td", { class: "mono" }, row.key ? key(row.key) : `line ${row.line ?? "?"}`),
            el("td", {}, row.errorType), el("td", {}, row.reason),
            el("td", { class: "mono" }, row.row ? key(row.row) : (row.raw || "")))) : [el("tr", {}, el("td", { class: "muted" }, "nothing quarantined"))]));
          $("more-quarantine").hidden = rows.length < state.quarantineLimit;
        }

        async function refresh() {
          try {
            const runs = await api("api/runs");
            const wanted = Number((location.hash.match(/run=(\d+)/) || [])[1]);
            state.selected = runs.some((r) => r.id === wanted) ? wanted : (runs[0] ? runs[0].id : null);
            renderRuns(runs);
            if (state.selected !== null) {
              const [report, quarantine] = await Promise.all([
                api(`api/runs/${state.selected}/report`), api(`api/runs/${state.selected}/quarantine?limit=${state.quarantineLimit}`)]);
              state.report = report;
              renderReport(report);
              renderQuarantine(quarantine);
            }
            $("connection").textContent = "updated " + new Date().toLocaleTimeString();
          } catch (error) {
            $("connection").textContent = "cannot reach the server: " + error.message;
          }
        }

        async function control(action) {
          if (state.selected === null) return;
          const token = $("token").value;
          try {
            const result = await api(`api/runs/${state.selected}/${action}`, { method: "POST", headers: { Authorization: "Bearer " + token } });
            $("message").textContent = `run ${result.run}: ${result.status}`;
          } catch (error) {
            $("message").textContent = `${action} refused: ${error.message}`;
          }
          await refresh();
        }

        let cancelArmed = false;
        $("pause").addEventListener("click", () => control("pause"));
        $("resume").addEventListener("click", () => control("resume"));
        $("cancel").addEventListener("click", () => {
          if (!cancelArmed) {
            cancelArmed = true;
            $("cancel").textContent = "Really cancel?";
            setTimeout(() => { cancelArmed = false; $("cancel").textContent = "Cancel"; }, 4000);
            return;
          }
          cancelArmed = false;
          $("cancel").textContent = "Cancel";
          control("cancel");
        });
        $("more-quarantine").addEventListener("click", () => { state.quarantineLimit *= 5; refresh(); });
        $("token").value = sessionStorage.getItem("backfill-token") || "";
        $("token").addEventListener("input", () => sessionStorage.setItem("backfill-token", $("token").value));
        window.addEventListener("hashchange", refresh);

        async function start() {
          try {
            const server = await api("api/server");
            state.mutations = server.mutations;
          } catch (error) { state.mutations = false; }
          $("mutations-notice").hidden = state.mutations;
          $("token").disabled = !state.mutations;
          const loop = async () => { await refresh(); setTimeout(loop, interval); };
          loop();
        }
        start();
        </script>
        </body>
        </html>
        """#
}
