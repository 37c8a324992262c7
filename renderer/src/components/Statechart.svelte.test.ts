import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen } from '@testing-library/svelte';
import { domainMachine } from '../../../machines/domain/domain.machine.ts';
import { xenbusMachine } from '../../../machines/xenbus/xenbus.machine.ts';
import type { StateNodeLike } from '../lib/model/statechart.ts';
import Statechart from './Statechart.svelte';

afterEach(() => cleanup());

describe('Statechart component', () => {
  it('names the machine and its current state, and lights exactly that state and its parent', () => {
    const { container } = render(Statechart, { root: domainMachine.root as unknown as StateNodeLike, value: 'shutdown.crash', label: 'Domain web' });
    const img = screen.getByRole('img', { name: 'Domain web: statechart, current state shutdown.crash' });
    expect(img.getAttribute('data-state')).toBe('shutdown.crash');
    const current = [...container.querySelectorAll('[aria-current=true]')].map((e) => e.getAttribute('data-state-id'));
    expect(current).toEqual(['shutdown.crash']);
    expect(container.querySelectorAll('.frame.lit').length).toBe(1);
    expect(container.textContent).toContain('From any state');
  });

  it('lights one state per region of a parallel machine', () => {
    const { container } = render(Statechart, { root: xenbusMachine.root as unknown as StateNodeLike, value: 'backend.Connected,frontend.InitWait,link.waiting', label: 'vbd/51712' });
    const current = [...container.querySelectorAll('[aria-current=true]')].map((e) => e.getAttribute('data-state-id')).sort();
    expect(current).toEqual(['backend.Connected', 'frontend.InitWait', 'link.waiting']);
  });
});
