// Start the NHS.UK frontend components (header "More" menu, conditional reveals, error summary...).
import { initAll } from "./nhsuk/nhsuk-frontend.min.js";

initAll();

// nhsuk-frontend 10 marks radios and checkboxes that reveal content with aria-expanded, which
// ARIA does not allow on those roles (axe: aria-allowed-attr, critical). GOV.UK Frontend dropped
// it for the same reason; aria-controls stays, so the relationship is still exposed.
const OPTION = 'input[type="radio"], input[type="checkbox"]';
document.querySelectorAll(`${OPTION}[aria-expanded]`).forEach((el) => el.removeAttribute("aria-expanded"));
new MutationObserver((mutations) => {
  for (const m of mutations) {
    if (m.target.matches(OPTION) && m.target.hasAttribute("aria-expanded")) m.target.removeAttribute("aria-expanded");
  }
}).observe(document.body, { attributes: true, attributeFilter: ["aria-expanded"], subtree: true });

// A form that takes a moment (refreshing analytics) says so while it runs: the button is
// disabled and a status message is announced. Without JavaScript the form still works.
document.querySelectorAll("form[data-collab-busy]").forEach((form) => {
  form.addEventListener("submit", () => {
    const status = form.querySelector("[data-collab-busy-status]");
    if (status) status.textContent = form.dataset.collabBusy;
    form.querySelectorAll("button").forEach((b) => b.setAttribute("aria-disabled", "true"));
    form.setAttribute("aria-busy", "true");
  });
});
