import { describe, expect, it } from 'vitest';
import { HostRouter } from '../../../../machines/host/router.ts';
import { ALL_BINDINGS } from '../../../../machines/host/bindings.ts';
import { goldenRecords } from '../testing/bundles.ts';
import { HostFacts } from './host-facts.ts';
import { actionsFor, actorsOf, domainRows, filterRows, sortRows, stateLabel, type DomainRow } from './domains.ts';

function fold(name: string, upTo = Infinity) {
  const r = new HostRouter(ALL_BINDINGS);
  const facts = new HostFacts();
  for (const rec of goldenRecords(name)) {
    if (rec.seq > upTo) break;
    r.apply(rec);
    facts.apply(rec);
  }
  return { view: r.view(), facts };
}

describe('domain rows from a host view', () => {
  it('shows the soft-reset domain running with its incident, type and domid', () => {
    const { view, facts } = fold('soft-reset');
    const rows = domainRows(view, (d) => facts.at(d), view.ts + 5000);
    const kx = rows.find((r) => r.name === 'kx')!;
    expect(kx).toBeDefined();
    expect(kx.state).toBe('running');
    expect(kx.domid).toBe(11);
    expect(kx.type).toBe('hvm');
    expect(kx.softResets).toBe(1);
    expect(kx.reason).toBe('soft_reset');
    expect(kx.incidents.map((i) => i.kind)).toEqual(['soft-reset']);
  });

  it('at a point inside the incident the same derivation shows softResetting and no uptime', () => {
    const full = fold('soft-reset');
    const inc = full.view.incidents[0];
    const mid = fold('soft-reset', inc.to - 1);
    const kx = domainRows(mid.view, (d) => mid.facts.at(d), mid.view.ts).find((r) => r.name === 'kx')!;
    expect(kx.state).toBe('softResetting');
    expect(kx.phase).toBe('softResetting');
    expect(kx.incidents).toEqual([]);
  });

  it('a shut-down domain shows its reason as part of the state', () => {
    const { view, facts } = fold('crash');
    const rows = domainRows(view, (d) => facts.at(d), view.ts);
    const crashed = rows.find((r) => r.state.startsWith('shutdown.') || r.phase === 'gone');
    expect(crashed).toBeDefined();
    expect(crashed!.reason).toBe('crash');
    expect(crashed!.uptimeMs).toBeUndefined();
  });

  it('groups a domain’s actors by machine kind', () => {
    const { view } = fold('cdrom-locked');
    const uuid = view.actors.find((a) => a.kind === 'cdrom')!.uuid;
    const g = actorsOf(view, uuid);
    expect(g.domain?.kind).toBe('domain');
    expect(g.cdrom).toHaveLength(1);
    // The golden history ends after the forced eject.
    expect(g.cdrom[0].state).toBe('empty');
    expect(g.xenbus.every((a) => a.uuid === uuid)).toBe(true);
  });
});

const row = (over: Partial<DomainRow>): DomainRow => ({
  uuid: over.name ?? 'u',
  name: 'x',
  domid: 1,
  type: 'pv',
  state: 'running',
  phase: 'running',
  reason: undefined,
  stubdomId: undefined,
  stubFor: undefined,
  memoryKb: undefined,
  vcpus: undefined,
  uptimeMs: undefined,
  uptimeExact: true,
  incidents: [],
  restarts: 0,
  softResets: 0,
  ...over,
});

describe('filter and sort', () => {
  const rows = [row({ name: 'web', domid: 7, type: 'pv' }), row({ name: 'win10', domid: 1, type: 'hvm', state: 'shutdown.crash', phase: 'shutdown', reason: 'crash' }), row({ name: 'db', domid: 5, state: 'gone', phase: 'gone' })];

  it('every word of the filter must match name, domid, type or state', () => {
    expect(filterRows(rows, 'hvm').map((r) => r.name)).toEqual(['win10']);
    expect(filterRows(rows, 'crash win').map((r) => r.name)).toEqual(['win10']);
    expect(filterRows(rows, '7').map((r) => r.name)).toEqual(['web']);
    expect(filterRows(rows, 'nothing-like-this')).toEqual([]);
    expect(filterRows(rows, '  ')).toHaveLength(3);
  });

  it('sorts by a column both ways, ties by name', () => {
    expect(sortRows(rows, { key: 'domid', dir: 'asc' }).map((r) => r.domid)).toEqual([1, 5, 7]);
    expect(sortRows(rows, { key: 'domid', dir: 'desc' }).map((r) => r.domid)).toEqual([7, 5, 1]);
    expect(sortRows(rows, { key: 'name', dir: 'asc' }).map((r) => r.name)).toEqual(['db', 'web', 'win10']);
    expect(sortRows(rows, { key: 'type', dir: 'asc' }).map((r) => r.name)).toEqual(['win10', 'db', 'web']);
  });
});

describe('actions and labels', () => {
  it('offers only the actions that fit the state', () => {
    expect(actionsFor('running')).toEqual(['shutdown', 'reboot', 'pause', 'destroy']);
    expect(actionsFor('paused')).toContain('unpause');
    expect(actionsFor('paused')).not.toContain('pause');
    expect(actionsFor('gone')).toEqual([]);
  });
  it('reads state values as a person would', () => {
    expect(stateLabel('shutdown.soft_reset')).toBe('shut down (soft reset)');
    expect(stateLabel('softResetting')).toBe('soft resetting');
    expect(stateLabel('running')).toBe('running');
  });
});
