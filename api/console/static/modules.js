// The console's workspaces. Each is a module with the roles it serves, the key of its
// title, and mount(element, context) returning a function that unmounts it. A new
// workspace is one more entry here and one more module. The service desk is loaded when
// it is first opened (a dynamic import): the station's first load carries none of it.

import { t } from "./i18n.js";
import { mountStation } from "./station.js";

/** mount() of a module loaded on first use; it mounts once loaded, unless left meanwhile. */
function later(load) {
  return (root, context) => {
    let unmount = null;
    let left = false;
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
    mount: mountStation,
  },
  {
    id: "desk",
    title: "desk.title",
    roles: ["agent", "admin"],
    mount: later(() => import("./desk.js").then((module) => module.mountDesk)),
  },
];

/** The workspaces a role may open, in the order above. */
export function modulesFor(role) {
  return MODULES.filter((module) => module.roles.includes(role));
}
