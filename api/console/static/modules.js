// The console's workspaces. Each is a module with the roles it serves, the key of its
// title, and mount(element, context) returning a function that unmounts it. A new
// workspace is one more entry here and one more module. Each is fetched when a role that
// uses it signs in (a dynamic import, its files preloaded together): a warehouse tab never
// fetches the service desk, nor an agent's the station.

import { t } from "./i18n.js";

function preload(files) {
  for (const name of files) {
    const href = new URL(`./${name}`, import.meta.url).href;
    if ([...document.querySelectorAll('link[rel="modulepreload"]')].some((l) => l.href === href)) continue;
    const link = document.createElement("link");
    link.rel = "modulepreload";
    link.href = href;
    document.head.append(link);
  }
}

/** mount() of a module fetched on first use; it mounts once loaded, unless left meanwhile.
 * `files`: the module and every file it imports (a unit test holds the list to them). */
function later(files, load) {
  return (root, context) => {
    let unmount = null;
    let left = false;
    preload(files);
    load().then(
      (mount) => {
        if (!left) unmount = mount(root, context);
      },
      () => {
        // Its files could not be fetched (the network, or a release replaced meanwhile).
        const said = document.createElement("p");
        said.className = "problem";
        said.setAttribute("role", "alert");
        said.textContent = t("signin.offline");
        if (!left) root.replaceChildren(said);
      },
    );
    return () => {
      left = true;
      if (unmount) unmount();
    };
  };
}

export const MODULES = [
  {
    id: "station",
    title: "station.title",
    roles: ["warehouse", "admin"],
    mount: later(["station.js", "station-view.js"], () =>
      import("./station.js").then((module) => module.mountStation),
    ),
  },
  {
    id: "desk",
    title: "desk.title",
    roles: ["agent", "admin"],
    mount: later(["desk.js", "desk-view.js", "desk-words.js"], () =>
      import("./desk.js").then((module) => module.mountDesk),
    ),
  },
];

/** The workspaces a role may open, in the order above. */
export function modulesFor(role) {
  return MODULES.filter((module) => module.roles.includes(role));
}
