// The console's workspaces. Each is a module with the roles it serves, the key of its
// title, and mount(element, context) returning a function that unmounts it. A new
// workspace (the service desk for agents) is one more entry here and one more module.

import { mountStation } from "./station.js";

export const MODULES = [
  {
    id: "station",
    title: "station.title",
    roles: ["warehouse", "admin"],
    mount: mountStation,
  },
];

/** The workspaces a role may open, in the order above. */
export function modulesFor(role) {
  return MODULES.filter((module) => module.roles.includes(role));
}
