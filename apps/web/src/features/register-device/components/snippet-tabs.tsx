import { useId, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { CopyButton } from "../../../components/copy-button.tsx";
import { buildSnippets, type SnippetId, type SnippetTarget } from "../snippets.ts";

/** The snippets as tabs (WAI-ARIA tabs pattern: arrow keys, Home and End move between them). */
export function SnippetTabs({ target }: { target: SnippetTarget }) {
  const snippets = useMemo(() => buildSnippets(target), [target]);
  const [selected, setSelected] = useState<SnippetId>("mosquitto");
  const tabs = useRef(new Map<SnippetId, HTMLButtonElement>());
  const baseId = useId();
  const tabId = (id: SnippetId) => `${baseId}-tab-${id}`;
  const panelId = (id: SnippetId) => `${baseId}-panel-${id}`;

  const onKeyDown = (event: KeyboardEvent) => {
    const index = snippets.findIndex((snippet) => snippet.id === selected);
    const next =
      event.key === "ArrowRight"
        ? (index + 1) % snippets.length
        : event.key === "ArrowLeft"
          ? (index - 1 + snippets.length) % snippets.length
          : event.key === "Home"
            ? 0
            : event.key === "End"
              ? snippets.length - 1
              : -1;
    const snippet = snippets[next];
    if (!snippet) return;
    event.preventDefault();
    setSelected(snippet.id);
    tabs.current.get(snippet.id)?.focus();
  };

  const current = snippets.find((snippet) => snippet.id === selected) ?? snippets[0];
  if (!current) return null;
  return (
    <div className="snippets">
      <div role="tablist" aria-label="Client code" className="snippets__tabs" onKeyDown={onKeyDown}>
        {snippets.map((snippet) => (
          <button
            key={snippet.id}
            ref={(element) => {
              if (element) tabs.current.set(snippet.id, element);
              else tabs.current.delete(snippet.id);
            }}
            type="button"
            role="tab"
            id={tabId(snippet.id)}
            aria-selected={snippet.id === selected}
            aria-controls={panelId(snippet.id)}
            tabIndex={snippet.id === selected ? 0 : -1}
            className="snippets__tab"
            onClick={() => setSelected(snippet.id)}
          >
            {snippet.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={panelId(current.id)} aria-labelledby={tabId(current.id)} className="snippets__panel">
        <div className="snippets__bar">
          <p className="field__hint">{current.hint}</p>
          <CopyButton text={current.code} label={`${current.label} code`} />
        </div>
        <pre className="code" tabIndex={0} aria-label={`${current.label} code`}>
          <code>{current.code}</code>
        </pre>
      </div>
    </div>
  );
}
