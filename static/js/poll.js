// Hold back htmx polls while the tab is hidden: a hidden tab then costs the server nothing.
// Elements opt in with `data-pause-when-hidden`; the next poll after the tab shows again runs.
document.addEventListener("htmx:beforeRequest", (event) => {
  if (document.hidden && event.detail.elt.hasAttribute("data-pause-when-hidden")) {
    event.preventDefault();
  }
});
