/**
 * App-wide UI state (one instance, made in App.svelte and shared by context):
 * the view shown, the selected domain, the theme, which store the UI reads
 * (live, or a bundle opened read-only), and short notices.
 */
import { createContext } from 'svelte';
import type { AppDb } from '../db/app-db.ts';
import type { ImportedStore } from '../db/import-bundle.ts';

export type Tab = 'overview' | 'domain' | 'timeline' | 'incidents' | 'audit';
export const TABS: { id: Tab; label: string; key: string }[] = [
  { id: 'overview', label: 'Overview', key: '1' },
  { id: 'domain', label: 'Domain', key: '2' },
  { id: 'timeline', label: 'Timeline', key: '3' },
  { id: 'incidents', label: 'Incidents', key: '4' },
  { id: 'audit', label: 'Audit', key: '5' },
];

export type Theme = 'light' | 'dark';

export interface Notice {
  id: number;
  kind: 'info' | 'error';
  text: string;
}

export interface Source {
  kind: 'live' | 'imported';
  db: AppDb;
  imported?: ImportedStore;
}

export class AppState {
  tab = $state<Tab>('overview');
  selected = $state<string | null>(null);
  theme = $state<Theme>('light');
  helpOpen = $state(false);
  source = $state.raw<Source>(undefined as unknown as Source);
  notices = $state.raw<Notice[]>([]);
  /** A record the timeline should open and bring into view, once (set by verify, incidents). */
  focusSeq = $state<number | null>(null);
  private nextNotice = 1;

  constructor(liveDb: AppDb, theme: Theme = 'light') {
    this.source = { kind: 'live', db: liveDb };
    this.theme = theme;
  }

  get readOnly(): boolean {
    return this.source.kind === 'imported';
  }

  openDomain(uuid: string): void {
    this.selected = uuid;
    this.tab = 'domain';
  }

  toggleTheme(): void {
    this.theme = this.theme === 'light' ? 'dark' : 'light';
  }

  notify(text: string, kind: Notice['kind'] = 'info'): void {
    const n = { id: this.nextNotice++, kind, text };
    this.notices = [...this.notices, n].slice(-4);
    // Information fades by itself; errors stay until dismissed.
    if (kind === 'info') setTimeout(() => this.dismiss(n.id), 6000);
  }

  dismiss(id: number): void {
    this.notices = this.notices.filter((n) => n.id !== id);
  }
}

/** What every component of the app reads from context. */
export interface AppContext {
  app: AppState;
  link: import('./host-link.svelte.ts').HostLink;
  replay: import('./replay.svelte.ts').ReplayState;
  view: import('./view.svelte.ts').ViewState;
  readonly timeline: import('./timeline.svelte.ts').TimelineState;
}

export const [getAppContext, setAppContext] = createContext<AppContext>();
