/**
 * Views read the store through this one helper (STYLE.md G15, the stateQuery
 * pattern): a Dexie liveQuery bridged into Svelte state, exposing
 * `{ current, isLoading, error }`. `current` is undefined until the first
 * result arrives. The query re-runs whenever a table it read changes (an
 * append commits, a projection is rebuilt), and whenever the reactive values
 * read by `deps` change (pass the props the query depends on). Call it during component initialisation (or inside
 * `$effect.root`): the subscription lives as long as that owner.
 */
import { liveQuery, type Subscription } from 'dexie';

export interface StateQuery<T> {
  readonly current: T | undefined;
  readonly isLoading: boolean;
  readonly error: unknown;
}

class LiveState<T> implements StateQuery<T> {
  current = $state.raw<T | undefined>(undefined);
  isLoading = $state(true);
  error = $state.raw<unknown>(undefined);
}

export function stateQuery<T>(querier: () => T | Promise<T>, deps?: () => unknown): StateQuery<T> {
  const s = new LiveState<T>();
  $effect(() => {
    // Read synchronously so the effect re-subscribes when a dependency changes (liveQuery runs the querier outside this tracking).
    deps?.();
    let sub: Subscription | undefined = liveQuery(querier).subscribe({
      next: (v) => {
        s.current = v;
        s.isLoading = false;
        s.error = undefined;
      },
      error: (e) => {
        s.error = e;
        s.isLoading = false;
      },
    });
    return () => {
      sub?.unsubscribe();
      sub = undefined;
    };
  });
  return s;
}
