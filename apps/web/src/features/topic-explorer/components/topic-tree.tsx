import { useMemo } from "react";
import { buildTopicTree, messageRate, type TopicEntry, type TopicNode } from "../explorer-state.ts";
import { useNow } from "../../../lib/use-now.ts";

const rateFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

/** The topics seen and retained, level by level, each with its rate and last value. */
export function TopicTree({ topics }: { topics: ReadonlyMap<string, TopicEntry> }) {
  const tree = useMemo(() => buildTopicTree(topics.values()), [topics]);
  const now = useNow(1_000);
  return (
    <ul className="tree" aria-label="Topics">
      {tree.map((node) => (
        <TreeNode key={node.path} node={node} now={now} />
      ))}
    </ul>
  );
}

function TreeNode({ node, now }: { node: TopicNode; now: number }) {
  const own = node.entry ? <TopicValue entry={node.entry} now={now} /> : null;
  if (node.children.length === 0) {
    return (
      <li className="tree__leaf" data-topic={node.path}>
        <span className="tree__name" title={node.path}>
          {node.name || "(empty level)"}
        </span>
        {own}
      </li>
    );
  }
  return (
    <li data-topic={node.path}>
      {/* Native disclosure: Enter and Space open and close it. */}
      <details open className="tree__branch">
        <summary>
          <span className="tree__name" title={node.path}>
            {node.name || "(empty level)"}
          </span>{" "}
          <span className="tree__count">
            {node.topicCount} {node.topicCount === 1 ? "topic" : "topics"}
          </span>
          {own}
        </summary>
        <ul>
          {node.children.map((child) => (
            <TreeNode key={child.path} node={child} now={now} />
          ))}
        </ul>
      </details>
    </li>
  );
}

function TopicValue({ entry, now }: { entry: TopicEntry; now: number }) {
  const rate = messageRate(entry, now);
  return (
    <span className="tree__value">
      <span className="tree__rate">{rateFormat.format(rate)} msg/s</span>
      {entry.lastValue !== null ? (
        <code className="tree__last" title={`Last value: ${entry.lastValue}`}>
          {entry.lastValue}
        </code>
      ) : null}
      {entry.retained ? (
        <span className="tree__retained">
          <span className="badge">retained</span>
          {/* Shown apart only when a later plain message changed the last value. */}
          {entry.retainedValue !== null && entry.retainedValue !== entry.lastValue ? (
            <code className="tree__last" title={`Retained value: ${entry.retainedValue}`}>
              {entry.retainedValue}
            </code>
          ) : null}
        </span>
      ) : null}
    </span>
  );
}
