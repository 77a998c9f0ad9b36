// The triage queue keeps itself up to date (progressive enhancement: without JavaScript the page
// is served whole and has a plain "Refresh the queue" link).
//
// - Response clocks tick in the browser: a row whose respond-by time passes without contact shows as breached.
// - Every data-refresh-seconds (30 by default) while the tab is visible, the list is fetched again from
//   data-queue-refresh (views.queue_list, audited as the page is) and swapped in; nothing is fetched while
//   the tab is hidden, while a fetch is already in flight, or while someone is using a form control here.
// - Changes are announced politely ("Queue updated: 3 waiting, 1 new"); "Updated HH:MM" says how fresh it is.
// - If a fetch fails, a warning says so and the list on screen stays as it was.
// - "Stop updating" stops both (WCAG 2.2.2: content that updates by itself can be paused).

const section = document.getElementById("queue-section");

if (section) {
  const fragmentUrl = section.dataset.queueRefresh;
  const seconds = Math.max(1, Number(section.dataset.refreshSeconds) || 30);
  const announcer = document.getElementById("queue-announcer");
  const updated = document.getElementById("queue-updated");
  const errorBox = document.getElementById("queue-refresh-error");
  const errorText = document.getElementById("queue-refresh-error-text");
  const toggle = document.getElementById("clock-toggle");
  document.getElementById("queue-live").hidden = false;

  let running = true;
  let inFlight = false;
  let timer = null;
  let lastFetched = Date.now();
  let lastBreaches = countBreaches();

  function list() {
    return document.getElementById("queue-list");
  }

  function references(root) {
    return Array.from(root.querySelectorAll("tr[data-reference]"), (row) => row.dataset.reference);
  }

  function countBreaches() {
    return list().querySelectorAll(".collab-breach-tag:not([hidden])").length;
  }

  function announce(text) {
    // Clear first so the same words are announced again if they recur.
    announcer.textContent = "";
    window.setTimeout(() => { announcer.textContent = text; }, 100);
  }

  function tick() {
    const now = Date.now();
    list().querySelectorAll("tr[data-respond-by]").forEach((row) => {
      const tag = row.querySelector(".collab-breach-tag");
      if (row.dataset.open === "1" && Date.parse(row.dataset.respondBy) < now) tag.hidden = false;
    });
    const n = countBreaches();
    const count = document.getElementById("breach-count");
    if (count) {
      count.textContent = `${n} past the response time.`;
      count.className = n ? "collab-breach" : "";
    }
    if (n > lastBreaches) announce(`${n} past the response time.`);
    lastBreaches = n;
  }

  // Someone choosing or typing in a form control here must not have the page change under them.
  function busyWithForm() {
    const el = document.activeElement;
    if (!el || !section.contains(el)) return false;
    if (el.matches("input, select, textarea")) return true;
    return el.matches("button") && el.closest("form") !== null;
  }

  function showError(message) {
    errorText.textContent = message;
    errorBox.hidden = false;
    announce("The queue could not be updated. The list on screen may be out of date.");
  }

  function swap(fresh) {
    const old = list();
    const before = new Set(references(old));
    const after = references(fresh);
    const added = after.filter((ref) => !before.has(ref));
    const changed = added.length > 0 || after.length !== before.size;

    // Keep keyboard focus on the same link if it is still listed.
    const focused = old.contains(document.activeElement) ? document.activeElement.getAttribute("href") : null;

    added.forEach((ref) => {
      const cell = fresh.querySelector(`tr[data-reference="${CSS.escape(ref)}"] td:nth-child(2)`);
      if (cell) {
        const tag = document.createElement("strong");
        tag.className = "nhsuk-tag nhsuk-tag--green collab-new-tag";
        tag.textContent = "New";
        cell.append(" ", tag);
      }
    });
    old.replaceWith(fresh);
    if (focused) {
      const again = fresh.querySelector(`a[href="${CSS.escape(focused)}"]`);
      if (again) again.focus();
    }
    updated.textContent = `Updated ${fresh.dataset.updated}`;
    errorBox.hidden = true;
    lastBreaches = countBreaches();
    tick();
    if (changed) {
      const parts = [`${after.length} waiting`];
      if (added.length) parts.push(`${added.length} new`);
      announce(`Queue updated: ${parts.join(", ")}`);
    }
  }

  async function refresh() {
    if (inFlight || busyWithForm() || document.visibilityState !== "visible") return;
    inFlight = true;
    section.setAttribute("aria-busy", "true");
    const controller = new AbortController();
    const abort = window.setTimeout(() => controller.abort(), 20000);
    try {
      const response = await fetch(fragmentUrl, {
        credentials: "same-origin", redirect: "manual", signal: controller.signal,
        headers: { Accept: "text/html" },
      });
      // A redirect (signed out, role changed) or an error page is not a list: keep what is on screen.
      if (response.type === "opaqueredirect" || !response.ok) throw new Error(`status ${response.status}`);
      const doc = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = doc.querySelector("#queue-list[data-queue-fragment]");
      if (!fresh) throw new Error("not a queue list");
      swap(document.importNode(fresh, true));
    } catch {
      showError(`The list below is from ${updated.textContent.replace(/^Updated /, "")}. `
        + "It will be tried again; you can also refresh the queue.");
    } finally {
      window.clearTimeout(abort);
      section.removeAttribute("aria-busy");
      lastFetched = Date.now();
      inFlight = false;
    }
  }

  function schedule(delay) {
    window.clearTimeout(timer);
    timer = null;
    if (!running || document.visibilityState !== "visible") return;
    timer = window.setTimeout(async () => {
      await refresh();
      tick();
      schedule(seconds * 1000);
    }, delay);
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible") {
      window.clearTimeout(timer);
      timer = null;
    } else if (running) {
      // Coming back to the tab: catch up at once if the list is stale, else when it would have been due.
      schedule(Math.max(0, seconds * 1000 - (Date.now() - lastFetched)));
    }
  });

  toggle.addEventListener("click", () => {
    running = !running;
    toggle.textContent = running ? "Stop updating" : "Start updating";
    if (running) {
      tick();
      schedule(0);
    } else {
      window.clearTimeout(timer);
      timer = null;
    }
  });

  tick();
  schedule(seconds * 1000);
}
