export type StatusTone = "ok" | "failing";

interface StatusIndicatorProps {
  tone: StatusTone;
  label: string;
}

/** A coloured mark plus its label: the label carries the meaning, never the colour alone. */
export function StatusIndicator({ tone, label }: StatusIndicatorProps) {
  return (
    <span className={`status status--${tone}`}>
      <svg className="status__icon" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
        {tone === "ok" ? (
          <path d="M3.5 8.5l3 3 6-7" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round" />
        ) : (
          <path d="M4.5 4.5l7 7m0-7l-7 7" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
        )}
      </svg>
      {label}
    </span>
  );
}
