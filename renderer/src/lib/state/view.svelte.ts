/**
 * What every view shows: the live host, or history at the replay cursor. One
 * place decides, so the overview, the detail and the statecharts can never
 * disagree about which moment they show.
 */
import type { HostView } from '../../../../machines/host/router.ts';
import type { DomainFacts } from '../model/host-facts.ts';
import { domainRows, type DomainRow } from '../model/domains.ts';
import type { HostLink } from './host-link.svelte.ts';
import type { ReplayState } from './replay.svelte.ts';

export class ViewState {
  /** Wall clock for live uptimes, ticking once a second. */
  now = $state(Date.now());

  constructor(
    private readonly link: HostLink,
    private readonly replay: ReplayState,
  ) {}

  /** Ticks `now`; returns the teardown. */
  startClock(): () => void {
    const t = setInterval(() => {
      this.now = Date.now();
    }, 1000);
    return () => clearInterval(t);
  }

  get history(): boolean {
    return this.replay.active;
  }

  get current(): HostView {
    return this.replay.active && this.replay.view ? this.replay.view : this.link.view;
  }

  /** The time the view stands at: the wall clock live, the record clock in history. */
  get at(): number {
    return this.history ? this.current.ts : this.now;
  }

  facts(domid: number | undefined): DomainFacts {
    void this.link.factsVersion;
    if (this.history) {
      const f = this.replay.facts ?? this.link.facts;
      return f.at(domid, this.current.seq);
    }
    return this.link.facts.at(domid);
  }

  get rows(): DomainRow[] {
    return domainRows(this.current, (d) => this.facts(d), this.at);
  }
}
