// MQTT topic filters as SQL conditions on a topic column: the message log's search, the
// retained messages' list, and the broker persistence's retained lookup on SUBSCRIBE, which
// so matches in PostgreSQL instead of loading every retained message into the process. The
// filter never becomes SQL text: it is turned into values (an exact topic, a LIKE prefix, a
// regular expression) that go into the query as parameters. (Matching in code, for topics
// already in hand: topicMatches in @fleetwatch/contracts.)
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

export interface TopicFilterSql {
  /** A parenthesised condition on the column, with placeholders from `$firstParam` on. */
  sql: string;
  params: string[];
}

/**
 * The condition as SQL on `column`: the LIKE prefix is a range scan on a "C"-collated topic
 * index, and the anchored regular expression decides.
 */
export function topicFilterSql(column: string, condition: TopicCondition, firstParam: number): TopicFilterSql {
  const parts: string[] = [];
  const params: string[] = [];
  const add = (operator: string, value: string | undefined) => {
    if (value === undefined) return;
    params.push(value);
    parts.push(`${column} ${operator} $${firstParam + params.length - 1}`);
  };
  add("=", condition.exact);
  add("LIKE", condition.likePrefix);
  add("~", condition.regex);
  return { sql: `(${parts.join(" AND ")})`, params };
}
