// MQTT topic filters as SQL conditions on the message log. The filter never becomes SQL
// text: it is turned into values (an exact topic, a LIKE prefix, a regular expression) that
// the repository passes as query parameters.
import { isValidTopicFilter } from "@fleetwatch/contracts";

export interface TopicCondition {
  /** The filter has no wildcard: the topic must equal it. */
  exact?: string;
  /** A LIKE pattern (`prefix%`, with \, % and _ escaped) that narrows the search through the topic index. */
  likePrefix?: string;
  /** A POSIX regular expression (PostgreSQL `~`) the topic must match, with the filter's exact semantics. */
  regex?: string;
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const escapeLike = (text: string) => text.replace(/[\\%_]/g, "\\$&");

/**
 * Translates a topic filter [MQTT-4.7.1-2, MQTT-4.7.1-3]: `+` matches exactly one level
 * (possibly empty), `#` as the last level matches its parent and any number of levels below;
 * a filter starting with a wildcard does not match topics starting with `$` [MQTT-4.7.2-1].
 * Returns null for an invalid filter.
 */
export function topicFilterCondition(filter: string): TopicCondition | null {
  if (!isValidTopicFilter(filter)) return null;
  const levels = filter.split("/");
  const firstWildcard = levels.findIndex((level) => level === "+" || level === "#");
  if (firstWildcard === -1) return { exact: filter };

  const literal = levels.slice(0, firstWildcard);
  // `a/#` matches `a` itself, so the prefix stops before the separator; `a/+` needs it.
  const prefix = literal.length === 0 ? "" : literal.join("/") + (levels[firstWildcard] === "+" ? "/" : "");

  let pattern = "";
  levels.forEach((level, i) => {
    if (level === "#") {
      pattern += i === 0 ? ".*" : "(/.*)?";
      return;
    }
    if (i > 0) pattern += "/";
    pattern += level === "+" ? "[^/]*" : escapeRegex(level);
  });
  const noSystemTopics = firstWildcard === 0 ? "(?!\\$)" : "";
  return {
    ...(prefix ? { likePrefix: `${escapeLike(prefix)}%` } : {}),
    regex: `^${noSystemTopics}${pattern}$`,
  };
}
