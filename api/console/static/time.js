// Dates and deadlines as the warehouse reads them: in its own time zone (the programme's
// zone when it names none), in the console's language.

import { language } from "./i18n.js";

const PROGRAMME_ZONE = "Asia/Shanghai";

function zoneOr(zone) {
  return zone || PROGRAMME_ZONE;
}

/** A moment (ISO-8601) as a short date and time in `zone`. */
export function formatMoment(iso, zone) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(language(), {
    timeZone: zoneOr(zone),
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(new Date(iso));
}

/** Hours from `now` until the ISO moment `iso` (negative once it has passed). */
export function hoursUntil(iso, now = Date.now()) {
  return (new Date(iso).getTime() - now) / 3_600_000;
}

/** The zone's UTC offset at `at`, as ISO-8601 writes it ("+08:00", "Z"). */
function offsetOf(zone, at) {
  const name = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" })
    .formatToParts(at)
    .find((part) => part.type === "timeZoneName").value;
  const match = /GMT([+-]\d{2}:\d{2})?/.exec(name);
  return match && match[1] ? match[1] : "Z";
}

/** The start of today in `zone`, as ISO-8601 with that zone's offset. (The offset of the
 * present moment: on a day whose offset changes it may be an hour off, which a day's
 * figures can bear.) */
export function startOfToday(zone, now = new Date()) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", {
      timeZone: zoneOr(zone),
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    })
      .formatToParts(now)
      .map((part) => [part.type, part.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}T00:00:00${offsetOf(zoneOr(zone), now)}`;
}

export function daysBefore(iso, days) {
  return new Date(new Date(iso).getTime() - days * 86_400_000).toISOString();
}
