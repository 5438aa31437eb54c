namespace ApprovalBot.Bot.WebConsole;

/// <summary>
/// The console page: a static shell with no data in it. It asks for the admin token once (kept in
/// sessionStorage, or taken from the URL fragment, which never reaches a server) and talks to the
/// JSON API with it; text from approvals is only ever set through textContent.
/// </summary>
internal static class ConsolePage
{
    public const string Html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <title>ApprovalBot — approvals</title>
        <style>
          body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #1d1c1d; background: #fafafa; }
          h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
          .card { background: #fff; border: 1px solid #ddd; border-radius: 8px; padding: 1rem; margin: .75rem 0; max-width: 60rem; }
          .meta { color: #616061; font-size: 12px; }
          pre { background: #f4f4f4; padding: .5rem; overflow: auto; max-height: 16rem; }
          button { font: inherit; padding: .35rem .9rem; border-radius: 4px; border: 1px solid #999; cursor: pointer; margin-right: .5rem; }
          button.approve { background: #007a5a; color: #fff; border-color: #007a5a; }
          button.deny { background: #e01e5a; color: #fff; border-color: #e01e5a; }
          button.withdraw { background: #fff; color: #1d1c1d; }
          .waiting { font-weight: 600; margin: .25rem 0; }
          .waiting.away { color: #a15c00; }
          .escalated { font-weight: 600; color: #e01e5a; }
          textarea { width: 100%; max-width: 40rem; min-height: 2.5rem; margin: .5rem 0; }
          textarea.edit-arguments { min-height: 8rem; font-family: ui-monospace, monospace; }
          #message { min-height: 1.4rem; font-weight: 600; }
          #login { display: none; }
          .status { font-weight: 600; }
          nav a { margin-right: 1rem; font-weight: 600; }
          #history-filters input, #history-filters select { font: inherit; margin: 0 .75rem .5rem .25rem; }
          table { border-collapse: collapse; background: #fff; max-width: 90rem; }
          th, td { border-bottom: 1px solid #eee; padding: .3rem .5rem; text-align: left; vertical-align: top; font-size: 13px; }
          td.reason { max-width: 24rem; overflow-wrap: anywhere; }
          #timeline ol { padding-left: 1.2rem; } #timeline li { margin: .3rem 0; }
        </style>
        </head>
        <body>
        <h1>ApprovalBot — pending approvals</h1>
        <nav><a href="#" id="show-approvals">Approvals</a><a href="#" id="show-history">History</a></nav>
        <form id="login"><label>Admin token <input id="token" type="password" autocomplete="off"></label> <button type="submit">Open</button></form>
        <div id="message" role="status"></div>
        <section id="approvals-view">
        <div id="pending"></div>
        <h2>Active grants</h2>
        <div id="grants"></div>
        <h2>Recently decided</h2>
        <div id="recent"></div>
        </section>
        <section id="history-view" hidden>
        <h2>History</h2>
        <form id="history-filters">
          <label>Agent<input name="agent" size="12"></label><label>Tool<input name="tool" size="18"></label>
          <label>Decision<select name="decision"><option value="">any</option></select></label>
          <label>Approval<input name="approval" size="36"></label>
          <label>From<input name="from" type="date"></label><label>To<input name="to" type="date"></label>
          <button type="submit">Search</button>
        </form>
        <table id="history"><thead><tr><th>When (UTC)</th><th>Decision</th><th>Agent</th><th>Tool</th><th>By</th><th>Channel</th><th>Reason</th><th>Approval</th></tr></thead><tbody></tbody></table>
        <p><button type="button" id="history-more" hidden>Older</button></p>
        <div id="timeline"></div>
        </section>
        <script>
        "use strict";
        const fragment = new URLSearchParams(location.hash.slice(1));
        if (fragment.get("token")) { sessionStorage.setItem("approvalbot-token", fragment.get("token")); history.replaceState(null, "", location.pathname); }
        let token = sessionStorage.getItem("approvalbot-token");
        const login = document.getElementById("login");
        login.addEventListener("submit", e => { e.preventDefault(); token = document.getElementById("token").value; sessionStorage.setItem("approvalbot-token", token); login.style.display = "none"; refresh(); });
        function say(text) { document.getElementById("message").textContent = text; }
        async function api(path, options) {
          const response = await fetch(path, { ...options, headers: { "Authorization": "Bearer " + token, "Content-Type": "application/json" }, credentials: "omit" });
          if (response.status === 401) { login.style.display = "block"; throw new Error("The admin token was refused."); }
          return response;
        }
        function el(tag, props, ...children) { const e = document.createElement(tag); Object.assign(e, props || {}); for (const c of children) e.append(c); return e; }
        function age(iso) { const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000)); return s < 60 ? s + " s" : s < 3600 ? Math.round(s / 60) + " min" : Math.round(s / 3600) + " h"; }
        function pretty(json) { try { return JSON.stringify(JSON.parse(json), null, 2); } catch { return json; } }
        // action: approve, deny or cancel (withdraw the request: nothing runs, it ends as Cancelled).
        // grant: approve for a while ("1h"), one of the durations the approval offers; args: edited arguments (an object).
        async function decide(id, action, comment, grant, args) {
          const r = await api(`/api/approvals/${id}/${action}`, { method: "POST", body: JSON.stringify({ comment, ...(grant ? { grant } : {}), ...(args ? { arguments: args } : {}) }) });
          const body = await r.json();
          say(body.message || body.status);
          await refresh();
        }
        // What a person typed survives the page's refreshes (which rebuild the cards).
        const drafts = new Map();
        function pendingCard(a) {
          const comment = el("textarea", { className: "comment", placeholder: "Comment (shown to the agent when denying)", value: drafts.get(a.id) ?? "" });
          comment.addEventListener("input", () => drafts.set(a.id, comment.value));
          return el("div", { className: "card pending" },
            el("div", { className: "title" }, el("strong", { textContent: a.tool }), " requested by agent ", el("strong", { textContent: a.agent }), " via ", el("span", { textContent: a.upstream })),
            el("div", { className: "reason", textContent: a.reason ? "Why guarded: " + a.reason : "" }),
            el("pre", { className: "arguments", textContent: pretty(a.arguments) }),
            el("div", { className: "meta", textContent: `Approval ${a.id} · asked ${age(a.requestedAt)} ago · expires ${new Date(a.expiresAt).toLocaleString()} · approvers: ${a.approvers.length ? a.approvers.join(", ") : "anyone"}` }),
            el("div", { className: a.agentWaiting ? "waiting" : "waiting away", textContent: a.state }),
            ...(a.escalatedAt ? [el("div", { className: "escalated", textContent: `Escalated to ${(a.escalatedTo || []).join(", ")}: nobody decided in time.` })] : []),
            comment,
            el("div", {},
              el("button", { className: "approve", type: "button", textContent: a.grants.length ? "Approve once" : "Approve", onclick: () => decide(a.id, "approve", comment.value) }),
              ...a.grants.map(d => el("button", { className: "approve grant", type: "button", textContent: "Approve for " + d,
                title: a.grantScope === "arguments" ? `Also lets later calls of ${a.agent} to ${a.tool} with these arguments through without asking, for ${d}` : `Also lets later calls of ${a.agent} to ${a.tool} through without asking, for ${d}`,
                onclick: () => decide(a.id, "approve", comment.value, d) })),
              el("button", { className: "deny", type: "button", textContent: "Deny", onclick: () => decide(a.id, "deny", comment.value) }),
              el("button", { className: "withdraw", type: "button", textContent: "Withdraw", title: "Withdraw the request: nothing runs and nobody can approve it afterwards",
                onclick: () => { if (confirm("Withdraw this request? Nothing runs, and nobody can approve it afterwards.")) decide(a.id, "cancel", comment.value); } })),
            ...(a.editable ? [editor(a, comment)] : []));
        }
        // Edit, then approve: values shown as [redacted] stay as they are (the gateway keeps their originals).
        function editor(a, comment) {
          const text = el("textarea", { className: "edit-arguments", value: pretty(a.arguments), spellcheck: false });
          return el("details", { className: "edit" }, el("summary", { textContent: "Edit, then approve" }), text,
            el("div", { className: "meta", textContent: "Leave \"[redacted]\" where it is: the hidden value is kept. The gateway checks the edit against the tool's schema and the policy." }),
            el("button", { className: "edit-approve", type: "button", textContent: "Approve with these arguments", onclick: () => {
              let args; try { args = JSON.parse(text.value); } catch (e) { say("Not valid JSON: " + e.message); return; }
              decide(a.id, "approve", comment.value, null, args); } }));
        }
        function recentCard(a) {
          // state says it all: "Approved by X — runs when the agent calls again (until 10:30 UTC)", "Withdrawn by X." …
          const failure = a.succeeded === false && a.executionSummary ? ": " + a.executionSummary : "";
          return el("div", { className: "card decided" },
            el("span", { className: "status", textContent: a.status }), " ", el("span", { className: "state", textContent: `${a.tool} (agent ${a.agent}) — ${a.state}${failure}${a.comment ? " — " + a.comment : ""}` }),
            el("div", { className: "meta", textContent: "Approval " + a.id }));
        }
        function grantCard(g) {
          return el("div", { className: "card grant" },
            el("strong", { textContent: g.tool }), " for agent ", el("strong", { textContent: g.agent }),
            el("span", { textContent: ` — ${g.scope === "arguments" ? "same arguments only" : "any arguments"}, until ${new Date(g.expiresAt).toLocaleString()}, given by ${g.grantedBy}` }),
            el("div", { className: "meta", textContent: `Grant ${g.id} · approval ${g.approvalId}` }),
            el("button", { className: "deny revoke", type: "button", textContent: "Revoke", onclick: async () => {
              if (!confirm("Revoke this grant? The agent's next call asks for approval again.")) return;
              const r = await api(`/api/grants/${g.id}/revoke`, { method: "POST", body: JSON.stringify({}) });
              say((await r.json()).message); await refresh(); } }));
        }
        async function refresh() {
          if (!token) { login.style.display = "block"; return; }
          try {
            const pending = await (await api("/api/approvals?status=pending")).json();
            document.getElementById("pending").replaceChildren(...(pending.length ? pending.map(pendingCard) : [el("p", { className: "empty", textContent: "Nothing is waiting for a decision." })]));
            const grants = await (await api("/api/grants")).json();
            document.getElementById("grants").replaceChildren(...(grants.length ? grants.map(grantCard) : [el("p", { className: "empty", textContent: "No grant is active." })]));
            const all = await (await api("/api/approvals?status=all&limit=1000")).json();
            document.getElementById("recent").replaceChildren(...all.filter(a => a.status !== "Pending").slice(-20).reverse().map(recentCard));
          } catch (e) { say(e.message); }
        }
        // History: the gateway's audit (GET /api/audit), newest first, paged by cursor; a timeline per approval.
        const decisions = ["allowed", "denied", "hidden", "unknown", "rate_limited", "invalid_arguments", "upstream_unavailable", "approval_cap",
          "held", "held_duplicate", "handed_back", "redeemed", "claimed", "outcome_repeated", "card_posted", "approval_counted", "decision_refused",
          "approved", "denied_by_human", "cancelled", "expired", "lapsed", "executed", "execution_failed"];
        const filters = document.getElementById("history-filters");
        filters.decision.append(...decisions.map(d => el("option", { value: d, textContent: d })));
        let historyCursor = null;
        function show(view) {
          document.getElementById("approvals-view").hidden = view !== "approvals";
          document.getElementById("history-view").hidden = view !== "history";
          if (view === "history") loadHistory(false); else refresh();
        }
        document.getElementById("show-approvals").addEventListener("click", e => { e.preventDefault(); show("approvals"); });
        document.getElementById("show-history").addEventListener("click", e => { e.preventDefault(); show("history"); });
        filters.addEventListener("submit", e => { e.preventDefault(); loadHistory(false); });
        document.getElementById("history-more").addEventListener("click", () => loadHistory(true));
        function when(iso) { return iso.replace("T", " ").replace(/(\.\d+)?(Z|[+-]00:00)$/, ""); }
        async function loadHistory(more) {
          if (!token) { login.style.display = "block"; return; }
          const q = new URLSearchParams();
          for (const name of ["agent", "tool", "decision", "approval", "from", "to"]) if (filters[name].value) q.set(name, filters[name].value);
          if (more && historyCursor) q.set("cursor", historyCursor);
          q.set("limit", "100");
          try {
            const r = await api("/api/audit?" + q);
            const body = await r.json();
            if (!r.ok) { say(body.message || r.statusText); return; }
            const rows = body.items.map(a => el("tr", { className: "audit-row" },
              el("td", { textContent: when(a.at) }), el("td", { className: "decision", textContent: a.decision }),
              el("td", { textContent: a.agent || "" }), el("td", { textContent: a.tool || "" }), el("td", { textContent: a.actor || "" }),
              el("td", { textContent: a.channel || "" }), el("td", { className: "reason", textContent: a.reason || "" }),
              el("td", {}, a.approvalId ? el("a", { href: "#", className: "timeline-link", textContent: a.approvalId.slice(0, 8), title: a.approvalId,
                onclick: e => { e.preventDefault(); timeline(a.approvalId); } }) : "")));
            const tbody = document.querySelector("#history tbody");
            if (more) tbody.append(...rows); else tbody.replaceChildren(...rows);
            historyCursor = body.nextCursor;
            document.getElementById("history-more").hidden = !historyCursor;
            say(tbody.children.length ? "" : "No audit rows match.");
          } catch (e) { say(e.message); }
        }
        async function timeline(id) {
          try {
            const r = await api(`/api/approvals/${id}/timeline`);
            const body = await r.json();
            if (!r.ok) { say(body.message || r.statusText); return; }
            const a = body.approval;
            document.getElementById("timeline").replaceChildren(
              el("h2", { textContent: `Timeline of ${a.tool} for agent ${a.agent} — ${a.status}` }),
              el("div", { className: "meta", textContent: `Approval ${a.id} · rule ${a.rule} · digest ${a.digest}` }),
              el("pre", { className: "arguments", textContent: JSON.stringify(a.arguments, null, 2) }),
              el("ol", {}, ...body.events.map(e => el("li", { className: "timeline-event " + e.kind },
                el("span", { className: "meta", textContent: when(e.at) + " " }), el("strong", { textContent: e.kind }), " ", el("span", { textContent: e.summary })))));
            document.getElementById("timeline").scrollIntoView();
          } catch (e) { say(e.message); }
        }
        refresh();
        setInterval(() => { if (!document.getElementById("approvals-view").hidden && (!document.activeElement || document.activeElement.tagName !== "TEXTAREA")) refresh(); }, 2000);
        </script>
        </body>
        </html>
        """;
}
