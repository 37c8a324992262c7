/**
 * The one XState ↔ Svelte adapter (STYLE.md G14). It creates and starts the
 * actor, exposes its snapshot as `$state.raw` updated from `actor.subscribe`
 * inside an `$effect`, and stops the actor when the owner (component or
 * `$effect.root`) is torn down. Nothing else in the renderer calls
 * `createActor` or `subscribe`.
 */
import { createActor, type ActorOptions, type AnyActorLogic, type EventFromLogic, type SnapshotFrom, type Actor } from 'xstate';

export interface ActorHandle<T extends AnyActorLogic> {
  readonly snapshot: SnapshotFrom<T>;
  send(event: EventFromLogic<T>): void;
  readonly ref: Actor<T>;
}

export function useActor<T extends AnyActorLogic>(logic: T, options?: ActorOptions<T>): ActorHandle<T> {
  const ref = createActor(logic, options);
  let snapshot = $state.raw(ref.getSnapshot() as SnapshotFrom<T>);
  $effect(() => {
    const sub = ref.subscribe((s) => {
      snapshot = s as SnapshotFrom<T>;
    });
    ref.start();
    snapshot = ref.getSnapshot() as SnapshotFrom<T>;
    return () => {
      sub.unsubscribe();
      ref.stop();
    };
  });
  return {
    get snapshot() {
      return snapshot;
    },
    send: (event) => ref.send(event),
    ref,
  };
}
