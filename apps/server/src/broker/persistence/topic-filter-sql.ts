// MQTT topic filters as SQL conditions on a topic column, so retained messages are matched
// in PostgreSQL instead of loading every retained message into the process.
//
// The literal levels before the first wildcard become a LIKE prefix (a range scan on the
// "C"-collated primary key); the whole filter becomes an anchored regular expression.

export interface FilterCondition {
  sql: string;
  params: unknown[];
}

const regexSpecial = /[\\^$.|?*+()[\]{}]/g;
const likeSpecial = /[\\%_]/g;

/**
 * A SQL condition matching `column` against an MQTT filter [MQTT-4.7.1-2, MQTT-4.7.1-3];
 * `+` also matches an empty level, as aedes' router does. Filters starting with a wildcard
 * do not match topics starting with `$` [MQTT-4.7.2-1]. `param` is the next free $n.
 */
export function filterCondition(column: string, filter: string, param: number): FilterCondition {
  const levels = filter.split("/");
  const firstWildcard = levels.findIndex((level) => level === "+" || level === "#");
  if (firstWildcard === -1) return { sql: `${column} = $${param}`, params: [filter] };

  const literal = levels.slice(0, firstWildcard);
  const prefix = literal.length > 0 ? `${literal.join("/")}/` : "";
  const multi = levels[levels.length - 1] === "#";
  const single = (multi ? levels.slice(0, -1) : levels).map((level) => (level === "+" ? "[^/]*" : level.replace(regexSpecial, "\\$&")));
  const body = single.join("/");
  // `a/#` also matches the parent `a` [MQTT-4.7.1-2]; a lone `#` matches everything.
  const regex = multi ? (single.length > 0 ? `^${body}(/.*)?$` : "^.*$") : `^${body}$`;

  const conditions: string[] = [`${column} ~ $${param}`];
  const params: unknown[] = [regex];
  // For `a/#`, `a` itself does not start with `a/`; the prefix then is `a` without the slash.
  const likePrefix = multi && firstWildcard === levels.length - 1 && literal.length > 0 ? literal.join("/") : prefix;
  if (likePrefix !== "") {
    conditions.push(`${column} LIKE $${param + 1}`);
    params.push(`${likePrefix.replace(likeSpecial, "\\$&")}%`);
  }
  if (firstWildcard === 0) conditions.push(`${column} NOT LIKE '$%'`);
  return { sql: `(${conditions.join(" AND ")})`, params };
}
