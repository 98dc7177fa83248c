// The rows' actions menus of the course editor (templates/courses/_chapter.html, .row-menu): a
// .menu-button and the role="menu" it controls, the WAI-ARIA menu button pattern. Enter, Space or
// Arrow Down open it on the first item, Arrow Up on the last; arrows, Home and End move among the
// items, Escape closes it and gives focus back to the button, Tab closes it and moves on. A menu that
// would run past the bottom of the window opens upwards. A menu can be made only when it is first
// opened: its button (a link to a page with the same actions, for a browser without JavaScript) names
// a <template> (data-menu-template; templates/courses/_item_menu.html), whose "{name}" placeholders
// and entries that may not apply (data-unless) are filled and chosen by what the page's editor told
// describeMenus.
let shortcutTarget = null;  // the menu item a keyboard shortcut is clicking

// A menu item clicked by a keyboard shortcut (Alt+Up/Down in a title): the action happens, and focus
// stays where it is instead of going to the menu's button.
export function shortcutClick(item) {
  shortcutTarget = item;
  item.click();
  shortcutTarget = null;
}

function menuItems(menu) { return Array.from(menu.querySelectorAll('[role="menuitem"]')); }
function menuOf(button) { return document.getElementById(button.getAttribute("aria-controls")); }

// Menus made from a <template>: what fills its placeholders and which entries (data-unless) to leave
// out, by template id; the editor of the page says (describeMenus).
const describers = {};
let madeMenus = 0;

export function describeMenus(templateId, describe) { describers[templateId] = describe; }

// The button's menu, made from its template when it has none yet.
export function ensureMenu(button) {
  const made = menuOf(button);
  const templateId = button.dataset.menuTemplate || "";
  const template = !made && describers[templateId] && document.getElementById(templateId);
  if (!template) return made;
  const { values, leaveOut } = describers[templateId](button);
  const menu = template.content.firstElementChild.cloneNode(true);
  menu.querySelectorAll("[data-unless]").forEach((entry) => { if (leaveOut.includes(entry.dataset.unless)) entry.remove(); });
  for (const element of menu.querySelectorAll("*")) {
    for (const attribute of Array.from(element.attributes)) {
      const value = attribute.value.replace(/\{(\w+)\}/g, (whole, key) => values[key] ?? whole);
      if (value !== attribute.value) element.setAttribute(attribute.name, value);
    }
  }
  madeMenus += 1;
  button.id = button.id || `made-menu-button-${madeMenus}`;
  menu.id = `made-menu-${madeMenus}`;
  menu.setAttribute("aria-labelledby", button.id);
  button.setAttribute("aria-controls", menu.id);
  button.after(menu);
  htmx.process(menu);
  return menu;
}

function openMenu(button, focus = "first") {
  closeMenus(button);
  const menu = ensureMenu(button);
  if (!menu) return;
  menu.classList.add("is-open");
  button.setAttribute("aria-expanded", "true");
  const items = menuItems(menu);
  // Open it upwards when it would run past the bottom of the window.
  menu.classList.toggle("opens-up", button.getBoundingClientRect().bottom + menu.offsetHeight > window.innerHeight);
  const target = focus === "last" ? items[items.length - 1] : items[0];
  if (target) target.focus();
}

function closeMenu(button, refocus) {
  const menu = menuOf(button);
  if (menu) menu.classList.remove("is-open", "opens-up");
  button.setAttribute("aria-expanded", "false");
  if (refocus) button.focus();
}

function closeMenus(except) {
  document.querySelectorAll('.menu-button[aria-expanded="true"]').forEach((button) => {
    if (button !== except) closeMenu(button, false);
  });
}

document.addEventListener("click", (event) => {
  const button = event.target.closest && event.target.closest(".menu-button");
  if (button) {
    event.preventDefault();  // a link to the item's page, for a browser without JavaScript
    if (button.getAttribute("aria-expanded") === "true") closeMenu(button, true);
    else openMenu(button);
    return;
  }
  const item = event.target.closest && event.target.closest('.row-menu [role="menuitem"]');
  if (item && item === shortcutTarget) return;  // Alt+Up/Down: focus stays in the title
  if (item) {
    // The action goes on (a form's submit, a dialog's request); focus goes back to the menu's
    // button, which the chapter list's swap gives back to the same row's button.
    const owner = item.closest(".row-menu").querySelector(".menu-button");
    setTimeout(() => closeMenu(owner, true), 0);
    return;
  }
  closeMenus(null);
});

document.addEventListener("keydown", (event) => {
  const button = event.target.closest && event.target.closest(".menu-button");
  if (button && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
    event.preventDefault();
    openMenu(button, event.key === "ArrowUp" ? "last" : "first");
    return;
  }
  if (button && event.key === " " && button.tagName === "A") {  // Space presses a button; a link needs telling
    event.preventDefault();
    button.click();
    return;
  }
  const menu = event.target.closest && event.target.closest('.row-menu [role="menu"]');
  if (!menu) return;
  const owner = menu.closest(".row-menu").querySelector(".menu-button");
  const items = menuItems(menu);
  const at = items.indexOf(document.activeElement);
  const step = { ArrowDown: 1, ArrowUp: -1 }[event.key];
  if (step) {
    event.preventDefault();
    items[(at + step + items.length) % items.length].focus();
  } else if (event.key === "Home" || event.key === "End") {
    event.preventDefault();
    items[event.key === "Home" ? 0 : items.length - 1].focus();
  } else if (event.key === "Escape") {
    event.preventDefault(); event.stopPropagation();
    closeMenu(owner, true);
  } else if (event.key === "Tab") {
    closeMenu(owner, true);  // focus then moves on from the button, as Tab does
  } else if (event.key === " " && document.activeElement.tagName === "A") {
    event.preventDefault(); document.activeElement.click();  // Space activates a menuitem link too
  }
});

document.addEventListener("focusout", (event) => {
  const menu = event.target.closest && event.target.closest('.row-menu [role="menu"].is-open');
  if (!menu || (event.relatedTarget && menu.closest(".row-menu").contains(event.relatedTarget))) return;
  if (event.relatedTarget) closeMenu(menu.closest(".row-menu").querySelector(".menu-button"), false);
});

