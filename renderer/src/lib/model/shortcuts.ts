/**
 * Keyboard shortcuts: one list (shown on `?`) and one matcher. Pure; App
 * wires `commandFor` to its key handler. Keys typed into a field are never
 * taken as shortcuts.
 */
export type ShortcutCommand =
  | 'help'
  | 'tab-overview'
  | 'tab-domain'
  | 'tab-timeline'
  | 'tab-incidents'
  | 'tab-audit'
  | 'focus-filter'
  | 'theme'
  | 'replay'
  | 'live'
  | 'play-pause'
  | 'step-back'
  | 'step-forward'
  | 'step-back-10'
  | 'step-forward-10';

export interface Shortcut {
  keys: string[];
  command: ShortcutCommand;
  what: string;
}

export const SHORTCUTS: Shortcut[] = [
  { keys: ['?'], command: 'help', what: 'Show this list' },
  { keys: ['1'], command: 'tab-overview', what: 'Host overview' },
  { keys: ['2'], command: 'tab-domain', what: 'Domain detail (the selected domain)' },
  { keys: ['3'], command: 'tab-timeline', what: 'Timeline' },
  { keys: ['4'], command: 'tab-incidents', what: 'Incidents' },
  { keys: ['5'], command: 'tab-audit', what: 'Audit: export, import, verify' },
  { keys: ['/'], command: 'focus-filter', what: 'Focus the filter of this view' },
  { keys: ['t'], command: 'theme', what: 'Light or dark theme' },
  { keys: ['h'], command: 'replay', what: 'Enter history (replay from the newest record)' },
  { keys: ['l'], command: 'live', what: 'Back to live' },
  { keys: ['Space'], command: 'play-pause', what: 'Play or pause the replay' },
  { keys: ['['], command: 'step-back', what: 'Step one record back' },
  { keys: [']'], command: 'step-forward', what: 'Step one record forward' },
  { keys: ['{'], command: 'step-back-10', what: 'Step ten records back' },
  { keys: ['}'], command: 'step-forward-10', what: 'Step ten records forward' },
];

/** Keys that work inside one view (listed on `?`, handled by that view). */
export const VIEW_KEYS: { keys: string; what: string }[] = [
  { keys: '↑ ↓ PgUp PgDn Home End', what: 'Timeline: move between records' },
  { keys: 'Enter', what: 'Timeline: open or close the record (raw record, hash, provenance)' },
  { keys: 'Tab / Shift+Tab', what: 'Move between controls' },
  { keys: 'Escape', what: 'Close a dialog' },
];

const BY_KEY = new Map<string, ShortcutCommand>();
for (const s of SHORTCUTS) for (const k of s.keys) BY_KEY.set(k === 'Space' ? ' ' : k, s.command);

/** The command a key press means, or null (modifiers other than Shift, or typing in a field). */
export function commandFor(e: { key: string; ctrlKey: boolean; metaKey: boolean; altKey: boolean; target: EventTarget | null }): ShortcutCommand | null {
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  const t = e.target as { tagName?: string; isContentEditable?: boolean; type?: string } | null;
  const tag = t?.tagName?.toLowerCase();
  if (tag === 'textarea' || tag === 'select' || t?.isContentEditable) return null;
  if (tag === 'input' && !['checkbox', 'radio', 'range', 'button'].includes(String(t?.type))) return null;
  // Space on a button or control means "press it".
  if (e.key === ' ' && (tag === 'button' || tag === 'input' || tag === 'a' || tag === 'summary')) return null;
  return BY_KEY.get(e.key) ?? null;
}
